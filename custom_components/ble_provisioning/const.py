"""Constants for the BLE Wi-Fi Provisioning integration."""

from __future__ import annotations

from typing import Final

from .protocol.bluenet import const as bluenet_const
from .protocol.blufi import const as blufi_const

DOMAIN: Final = "ble_provisioning"

BLUFI_SERVICE_UUID: Final = blufi_const.SERVICE_UUID
BLUENET_SERVICE_UUID: Final = bluenet_const.SERVICE_UUID

# Config entry data keys (never a password).
CONF_PROTOCOL: Final = "protocol"
CONF_PROTOCOL_VERSION: Final = "protocol_version"
CONF_SECURITY_VERSION: Final = "security_version"
CONF_LAST_SSID: Final = "last_ssid"
CONF_HOSTNAME: Final = "hostname"

# Options.
CONF_STATUS_INTERVAL: Final = "status_interval"
CONF_ALLOW_UNENCRYPTED: Final = "allow_unencrypted"
DEFAULT_STATUS_INTERVAL: Final = 300
MIN_STATUS_INTERVAL: Final = 30
MAX_STATUS_INTERVAL: Final = 86400

# Flow / action fields.
CONF_SSID: Final = "ssid"
CONF_BSSID: Final = "bssid"
CONF_MODE: Final = "mode"
CONF_RESCAN: Final = "rescan"
CONF_ADVANCED: Final = "advanced"
CONF_SOFTAP_SSID: Final = "softap_ssid"
CONF_SOFTAP_PASSWORD: Final = "softap_password"
CONF_SOFTAP_CHANNEL: Final = "softap_channel"
CONF_SOFTAP_MAX_CONNECTIONS: Final = "softap_max_connections"
CONF_SOFTAP_AUTH_MODE: Final = "softap_auth_mode"

# Timings (seconds). Module-level so tests can shorten them.
#: How long a config flow keeps the BLE link after a step (identify, scan), so the next step
#: reuses it: ESP32s without a big-number unit recompute their DH key after every disconnect.
FLOW_IDLE_TIMEOUT: Final = 30.0
CONNECT_TIMEOUT: Final = 15.0
SCAN_TIMEOUT: Final = 15.0
PROVISION_TIMEOUT: Final = 45.0
CUSTOM_DATA_REPLY_TIMEOUT: Final = 10.0

ISSUE_NO_CONNECTABLE_ADAPTER: Final = "no_connectable_adapter"

# Event entity event types.
EVENT_CUSTOM_DATA: Final = "custom_data_received"
EVENT_PROVISIONING_SUCCEEDED: Final = "provisioning_succeeded"
EVENT_PROVISIONING_FAILED: Final = "provisioning_failed"
