"""BLE Wi-Fi Provisioning: put Wi-Fi credentials onto BluFi and Bluenet devices over BLE."""

from __future__ import annotations

from homeassistant.components import bluetooth
from homeassistant.const import CONF_ADDRESS, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.helpers.typing import ConfigType

from .const import CONF_FLOW_SCAN, DOMAIN, OPTIONS_FLOW_RELOADS
from .coordinator import BleProvisioningConfigEntry, BleProvisioningCoordinator
from .device import async_forget_discovery
from .issues import async_check_adapters
from .services import async_setup_services

PLATFORMS: list[Platform] = [Platform.BUTTON, Platform.EVENT, Platform.SENSOR]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

#: Entities earlier versions created that no longer exist: ESP-IDF's BluFi never reports the
#: signal strength while connected, so "Wi-Fi signal strength" could never have a value.
_RETIRED_SENSORS = ("wifi_rssi",)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: BleProvisioningConfigEntry) -> bool:
    """Set up a provisioned device."""
    address: str = entry.data[CONF_ADDRESS]
    if not async_check_adapters(hass):
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="no_connectable_adapter"
        )
    if not bluetooth.async_address_present(hass, address, connectable=True):
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="device_not_found",
            translation_placeholders={"address": address},
        )
    registry = er.async_get(hass)
    for key in _RETIRED_SENSORS:
        if entity_id := registry.async_get_entity_id("sensor", DOMAIN, f"{address}_{key}"):
            registry.async_remove(entity_id)
    coordinator = BleProvisioningCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    if CONF_FLOW_SCAN in entry.data:
        # The coordinator took the flow's scan over: it is not kept in the entry.
        hass.config_entries.async_update_entry(
            entry, data={key: value for key, value in entry.data.items() if key != CONF_FLOW_SCAN}
        )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(coordinator.async_start())
    if not OPTIONS_FLOW_RELOADS:
        entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: BleProvisioningConfigEntry) -> None:
    """Home Assistant before 2025.8: reload when the options changed (not on data updates)."""
    if dict(entry.options) != entry.runtime_data.options:
        hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: BleProvisioningConfigEntry) -> bool:
    """Refuse and cancel the device's operations, release it, unload the platforms."""
    await entry.runtime_data.async_close()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: BleProvisioningConfigEntry) -> None:
    """Let the device be discovered again once its entry is removed."""
    async_forget_discovery(hass, entry.data[CONF_ADDRESS], rediscover=True)
