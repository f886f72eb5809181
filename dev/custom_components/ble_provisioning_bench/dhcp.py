"""The demo network's DHCP server, as Home Assistant's DHCP discovery reports it.

The demo's Home Assistant does not load the ``dhcp`` integration (its packet watcher needs
requirements the demo's offline virtualenv does not carry, and there is no real Wi-Fi network).
So the bench plays both sides: it leases an address to each emulated ESP32 that joined its Wi-Fi
and, once Home Assistant's device registry lists a device of ``ble_provisioning`` with that
Wi-Fi MAC, it starts the discovery flow exactly as the DHCP integration's registered-devices
matcher does (``discovery_flow.async_create_flow`` with a ``DhcpServiceInfo`` and the
``dhcp`` discovery key). This is an *injected* DHCP discovery, not an announcement on a network.

The Wi-Fi MAC is the emulated chip's own (ESP-IDF's default: the Bluetooth address - 2 on the
last octet), computed here independently of the integration's guess.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import SOURCE_DHCP
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, discovery_flow
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo

from bench.device import EmulatedPeripheral

_LOGGER = logging.getLogger(__name__)

TARGET_DOMAIN = "ble_provisioning"
POOL = "192.168.1."
#: Leases by Bluetooth address, so the README's BLUFI_V2 is at 192.168.1.57.
FIXED_LEASES = {"24:0A:C4:00:00:01": 56, "24:0A:C4:00:00:02": 57}
CHECK_INTERVAL = timedelta(seconds=1)


def esp32_station_mac(ble_address: str) -> str:
    """Return the emulated ESP32's Wi-Fi station MAC (base = BT - 2, last octet, no carry)."""
    octets = [int(part, 16) for part in ble_address.split(":")]
    octets[5] = (octets[5] - 2) % 256
    return ":".join(f"{octet:02x}" for octet in octets)


def _registered_for(hass: HomeAssistant, mac: str) -> bool:
    """Whether a ble_provisioning device lists ``mac`` (the registered-devices matcher)."""
    registry = dr.async_get(hass)
    connections = {(dr.CONNECTION_NETWORK_MAC, mac)}
    if hasattr(registry, "async_get_devices"):
        devices = registry.async_get_devices(connections=connections)
    else:
        device = registry.async_get_device(connections=connections)
        devices = [] if device is None else [device]
    for device in devices:
        entry_ids = (
            [device.config_entry_id]
            if hasattr(device, "config_entry_id")
            else list(device.config_entries)
        )
        for entry_id in entry_ids:
            entry = hass.config_entries.async_get_entry(entry_id)
            if entry is not None and entry.domain == TARGET_DOMAIN:
                return True
    return False


class DemoDhcp:
    """Leases for the emulated ESP32s that joined; injected DHCP discoveries."""

    def __init__(self, hass: HomeAssistant, emulators: list[EmulatedPeripheral]) -> None:
        """Lease nothing yet."""
        self._hass = hass
        self._emulators = emulators
        self._reported: dict[str, str] = {}
        self._cancel: Callable[[], None] | None = None

    def start(self) -> None:
        """Look every second (and when the device registry changes)."""
        self._cancel = async_track_time_interval(self._hass, self._check, CHECK_INTERVAL)
        unsub = self._hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, self._check)
        cancel_interval = self._cancel

        def _stop() -> None:
            cancel_interval()
            unsub()

        self._cancel = _stop

    def stop(self) -> None:
        """Stop looking."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None

    @callback
    def _check(self, _arg: datetime | Any = None) -> None:
        for emulator in self._emulators:
            model = getattr(emulator, "model", None)
            if model is None or not getattr(model, "sta_connected", False):
                continue
            address = emulator.address.upper()
            mac = esp32_station_mac(address)
            ip = f"{POOL}{FIXED_LEASES.get(address, 100)}"
            if self._reported.get(mac) == ip or not _registered_for(self._hass, mac):
                continue
            self._reported[mac] = ip
            hostname = (getattr(model.config, "name", None) or "esp32").lower()
            _LOGGER.info("DHCP: %s (%s) is at %s", hostname, mac, ip)
            compact = mac.replace(":", "")
            discovery_flow.async_create_flow(
                self._hass,
                TARGET_DOMAIN,
                {"source": SOURCE_DHCP},
                DhcpServiceInfo(ip=ip, hostname=hostname, macaddress=compact),
                discovery_key=discovery_flow.DiscoveryKey(domain="dhcp", key=compact, version=1),
            )
