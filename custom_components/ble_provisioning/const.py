"""Constants for the BLE Wi-Fi Provisioning integration."""

from __future__ import annotations

from typing import Final

from homeassistant import config_entries

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
#: How the credentials travelled the last time they were sent (a ProvisioningSecurity value).
CONF_LAST_SECURITY: Final = "last_security"
#: The flow's own scan, handed to the new entry's sensors once and then removed from the data.
CONF_FLOW_SCAN: Final = "flow_scan"

# Options.
CONF_STATUS_INTERVAL: Final = "status_interval"
DEFAULT_STATUS_INTERVAL: Final = 300
MIN_STATUS_INTERVAL: Final = 30
MAX_STATUS_INTERVAL: Final = 86400

# Flow / action fields.
CONF_SSID: Final = "ssid"
CONF_BSSID: Final = "bssid"
CONF_MODE: Final = "mode"
CONF_RESCAN: Final = "rescan"
CONF_ADVANCED: Final = "advanced"
#: The explicit acknowledgement that the password may cross the air in clear text (every
#: Bluenet provisioning; BluFi only as a fallback when the device cannot negotiate security).
CONF_ALLOW_CLEARTEXT: Final = "allow_cleartext"
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
#: A reconfigure flow pauses its entry's coordinator; the pause ends with the flow, or this many
#: seconds after the flow's last step (an abandoned flow must not pause the entry forever).
PAUSE_TIMEOUT: Final = 600.0

#: Whether Home Assistant reloads an entry after an options change itself (2025.8+:
#: OptionsFlowWithReload); older versions need an update listener, which newer ones report as
#: deprecated when a reconfigure flow reloads the entry.
OPTIONS_FLOW_RELOADS: Final = hasattr(config_entries, "OptionsFlowWithReload")

ISSUE_NO_CONNECTABLE_ADAPTER: Final = "no_connectable_adapter"

# Event entity event types.
EVENT_CUSTOM_DATA: Final = "custom_data_received"
EVENT_PROVISIONING_SUCCEEDED: Final = "provisioning_succeeded"
EVENT_PROVISIONING_FAILED: Final = "provisioning_failed"
