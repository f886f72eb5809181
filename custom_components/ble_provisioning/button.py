"""Buttons: scan for Wi-Fi networks, refresh the status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BleProvisioningConfigEntry, BleProvisioningCoordinator
from .device import ha_error
from .entity import BleProvisioningEntity
from .protocol.errors import ProvisioningError

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class BleProvisioningButtonEntityDescription(ButtonEntityDescription):
    """Describe a button of a provisioned device."""

    press_fn: Callable[[BleProvisioningCoordinator], Awaitable[Any]]


BUTTONS: tuple[BleProvisioningButtonEntityDescription, ...] = (
    BleProvisioningButtonEntityDescription(
        key="scan_wifi",
        translation_key="scan_wifi",
        press_fn=lambda coordinator: coordinator.async_scan(),
    ),
    BleProvisioningButtonEntityDescription(
        key="refresh_status",
        translation_key="refresh_status",
        press_fn=lambda coordinator: coordinator.async_get_status(),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BleProvisioningConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons."""
    coordinator = entry.runtime_data
    async_add_entities(BleProvisioningButton(coordinator, description) for description in BUTTONS)


class BleProvisioningButton(BleProvisioningEntity, ButtonEntity):
    """A button of a provisioned device."""

    entity_description: BleProvisioningButtonEntityDescription

    _available_in_range = True

    async def async_press(self) -> None:
        """Run the action on the device."""
        try:
            await self.entity_description.press_fn(self.coordinator)
        except ProvisioningError as err:
            raise ha_error(err, self.coordinator.address) from err
