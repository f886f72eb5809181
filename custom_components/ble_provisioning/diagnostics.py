"""Diagnostics: entry, options, device and state, with secrets, names and addresses redacted.

The device's Bluetooth address identifies it (and, for an ESP32, its Wi-Fi MAC): it is redacted
wherever it appears — keys such as ``address``, ``unique_id`` and ``title`` by name, and any
other text (an error message, a connection tuple) by value.
"""

from __future__ import annotations

from dataclasses import asdict
import re
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import CONF_FLOW_SCAN, CONF_HOSTNAME, CONF_LAST_SSID, DOMAIN
from .coordinator import BleProvisioningConfigEntry

TO_REDACT = {
    "password",
    "softap_password",
    "psk",
    "key",
    "session_key",
    "ssid",
    "softap_ssid",
    CONF_LAST_SSID,
    CONF_FLOW_SCAN,
    "bssid",
    CONF_HOSTNAME,
    "configuration_url",
    "name",
    "title",
    "unique_id",
    CONF_ADDRESS,
    "source",
}


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    """Replace the address wherever it still occurs in text."""
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, dict):
        return {key: _scrub(item, pattern) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, pattern) for item in value]
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: BleProvisioningConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    coordinator = entry.runtime_data
    data = coordinator.data
    service_info = bluetooth.async_last_service_info(hass, coordinator.address, connectable=True)
    devices = [
        {
            "name": device.name,
            "manufacturer": device.manufacturer,
            "model": device.model,
            "configuration_url": device.configuration_url,
            "connections": sorted(device.connections),
        }
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if (DOMAIN, coordinator.address) in device.identifiers
    ]
    redacted = async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "devices": devices,
            "protocol": coordinator.device.protocol.value,
            "capabilities": asdict(coordinator.device.capabilities),
            "connected": coordinator.device.is_connected,
            "paused": coordinator.gate.paused,
            "last_update_success": coordinator.last_update_success,
            "last_exception": repr(coordinator.last_exception)
            if coordinator.last_exception
            else None,
            "status": asdict(data.status) if data.status else None,
            "networks": [asdict(network) for network in data.networks]
            if data.networks is not None
            else None,
            "last_scan": data.last_scan.isoformat() if data.last_scan else None,
            "last_provision": asdict(data.last_provision) if data.last_provision else None,
            "failure_reason": data.failure_reason.value if data.failure_reason else None,
            "security": data.security.value if data.security else None,
            "advertisement": {
                "rssi": service_info.rssi,
                "source": service_info.source,
                "connectable": service_info.connectable,
            }
            if service_info
            else None,
        },
        TO_REDACT,
    )
    address = re.compile(re.escape(coordinator.address), re.IGNORECASE)
    result: dict[str, Any] = _scrub(redacted, address)
    return result
