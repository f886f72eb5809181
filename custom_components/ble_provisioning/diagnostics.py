"""Diagnostics: entry, options and device state, with secrets and network names redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_HOSTNAME, CONF_LAST_SSID
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
    "bssid",
    CONF_HOSTNAME,
    "title",
    "unique_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: BleProvisioningConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    coordinator = entry.runtime_data
    data = coordinator.data
    service_info = bluetooth.async_last_service_info(hass, coordinator.address, connectable=True)
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "protocol": coordinator.device.protocol.value,
            "capabilities": asdict(coordinator.device.capabilities),
            "connected": coordinator.device.is_connected,
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
