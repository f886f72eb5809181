"""BLE Wi-Fi Provisioning: put Wi-Fi credentials onto BluFi and Bluenet devices over BLE."""

from __future__ import annotations

from homeassistant.components import bluetooth
from homeassistant.const import CONF_ADDRESS, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .coordinator import BleProvisioningConfigEntry, BleProvisioningCoordinator
from .issues import async_check_adapters
from .services import async_setup_services

PLATFORMS: list[Platform] = [Platform.BUTTON, Platform.EVENT, Platform.SENSOR]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


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
    coordinator = BleProvisioningCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(coordinator.async_start())
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


async def _async_update_listener(hass: HomeAssistant, entry: BleProvisioningConfigEntry) -> None:
    """Reload when the options change (not when the coordinator stores a new SSID or host)."""
    if dict(entry.options) != entry.runtime_data.options:
        await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: BleProvisioningConfigEntry) -> bool:
    """Unload a config entry and release the device."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: BleProvisioningConfigEntry) -> None:
    """Let the device be discovered again once its entry is removed."""
    bluetooth.async_rediscover_address(hass, entry.data[CONF_ADDRESS])
