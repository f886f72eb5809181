"""What the emulated ESP32 is: its identity, its Bluetooth proxy features, its limits.

Also the ESP-IDF / ESPHome codes the proxy reports (field.md §1, §3; ESPHome's
``bluetooth_proxy`` component; ``aioesphomeapi.ble_defs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import enum
from typing import Any

from aioesphomeapi import BluetoothProxyFeature

from .messages import PB, SCHEMA

FEATURE_STATE_AND_MODE = 1 << 6
"""``BluetoothProxyFeature.FEATURE_STATE_AND_MODE`` (aioesphomeapi >= 30.1; absent on 29.9)."""

DEFAULT_ESPHOME_VERSION = "2026.9.0"
"""Newer than HA's ``STABLE_BLE_VERSION`` on both legs (2025.2.2 / 2026.5.1): no repair issue."""
DEFAULT_CONNECT_TIMEOUT = 20.0
"""ESPHome's ``esp32_ble: connection_timeout`` default (CONFIG_BT_BLE_ESTAB_LINK_CONN_TOUT)."""
DEFAULT_SLOTS = 3
"""ESPHome's default ``bluetooth_proxy`` connection slots."""


class EspCode(enum.IntEnum):
    """Codes a proxy puts in ``error`` of messages 69, 82, 85, 86 (ESP-IDF values)."""

    OK = 0
    NOT_CONNECTED = -1
    """ESPHome's own ``ESP_GATT_NOT_CONNECTED`` (82 for a request on an unknown address)."""
    CONN_TIMEOUT = 0x08
    """HCI "connection timeout" (supervision timeout) as a disconnect reason."""
    CONN_TERMINATE_PEER_USER = 0x13
    """HCI "remote user terminated connection": the peripheral dropped the link."""
    CONN_TERMINATE_LOCAL_HOST = 0x16
    """HCI "connection terminated by local host": the proxy dropped the link."""
    GATT_ERROR = 0x85
    """``ESP_GATT_ERROR``: a GATT procedure failed without an ATT error code."""
    CONN_CONN_CANCEL = 0x100
    """``ESP_GATT_CONN_CONN_CANCEL``: the stack gave up establishing the link."""
    ERR_NOT_SUPPORTED = 0x106
    """``ESP_ERR_NOT_SUPPORTED``: answered to PAIR/UNPAIR (pairing is not modelled)."""


def default_feature_flags() -> int:
    """Passive scan, active connections, remote caching, raw advertisements.

    Plus FEATURE_STATE_AND_MODE when the leg's schema has the scanner-state messages.
    """
    flags = (
        BluetoothProxyFeature.PASSIVE_SCAN
        | BluetoothProxyFeature.ACTIVE_CONNECTIONS
        | BluetoothProxyFeature.REMOTE_CACHING
        | BluetoothProxyFeature.RAW_ADVERTISEMENTS
    )
    if SCHEMA.scanner_state:
        flags |= FEATURE_STATE_AND_MODE
    return int(flags)


@dataclass(frozen=True, slots=True)
class ProxyIdentity:
    """The device's identity as DeviceInfoResponse (10) reports it.

    ``mac_address`` is the Wi-Fi MAC (HA's unique id for the device); ``bluetooth_mac_address``
    (Wi-Fi + 2 on the last octet, as on an ESP32) becomes the scanner's source in HA.
    """

    name: str = "bench-esphome-proxy"
    friendly_name: str = "Bench ESPHome proxy"
    mac_address: str = "A8:42:E3:00:00:10"
    bluetooth_mac_address: str = "A8:42:E3:00:00:12"
    model: str = "esp32dev"
    manufacturer: str = "Espressif"
    esphome_version: str = DEFAULT_ESPHOME_VERSION
    compilation_time: str = "Jan  1 2026, 00:00:00"

    def __post_init__(self) -> None:
        """Enforce ESPHome's 31-character hostname limit."""
        if len(self.name) > 31:
            msg = f"ESPHome names are at most 31 characters: {self.name!r}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """Everything configurable about the emulated proxy."""

    identity: ProxyIdentity = field(default_factory=ProxyIdentity)
    slots: int = DEFAULT_SLOTS
    feature_flags: int = field(default_factory=default_feature_flags)
    api_version: tuple[int, int] = SCHEMA.api_version
    """Reported in HelloResponse; defaults to what the installed schema can carry."""
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    """Seconds before a connect to an absent device is given up (69 error 0x100)."""
    mtu: int | None = None
    """ATT_MTU the proxy requests after connecting (None: the radio's)."""
    host: str = "127.0.0.1"
    port: int = 0
    """0: an ephemeral port (read it from the server after start)."""


def device_info_response(config: ProxyConfig) -> Any:
    """Build DeviceInfoResponse (10) for ``config`` (fields this schema lacks are left out)."""
    identity = config.identity
    return PB.DeviceInfoResponse(
        uses_password=False,
        name=identity.name,
        friendly_name=identity.friendly_name,
        mac_address=identity.mac_address,
        bluetooth_mac_address=identity.bluetooth_mac_address,
        model=identity.model,
        manufacturer=identity.manufacturer,
        esphome_version=identity.esphome_version,
        compilation_time=identity.compilation_time,
        bluetooth_proxy_feature_flags=config.feature_flags,
    )


def device_capabilities_response(config: ProxyConfig) -> Any:
    """Build DeviceCapabilitiesResponse (150): the flags and BT MAC again (API 1.15)."""
    return PB.DeviceCapabilitiesResponse(
        bluetooth_proxy=PB.BluetoothProxyCapabilities(
            feature_flags=config.feature_flags,
            mac_address=config.identity.bluetooth_mac_address,
        )
    )
