"""Event entity: custom data received and provisioning outcomes."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import EVENT_CUSTOM_DATA, EVENT_PROVISIONING_FAILED, EVENT_PROVISIONING_SUCCEEDED
from .coordinator import BleProvisioningConfigEntry
from .entity import BleProvisioningEntity
from .protocol.models import Capabilities

PARALLEL_UPDATES = 0


def _description(capabilities: Capabilities) -> EventEntityDescription:
    """Only the events the device's protocol can produce (Bluenet has no custom data)."""
    event_types = [EVENT_PROVISIONING_SUCCEEDED, EVENT_PROVISIONING_FAILED]
    if capabilities.custom_data:
        event_types.insert(0, EVENT_CUSTOM_DATA)
    return EventEntityDescription(
        key="device_event", translation_key="device_event", event_types=event_types
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BleProvisioningConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entity."""
    coordinator = entry.runtime_data
    async_add_entities(
        [BleProvisioningEvent(coordinator, _description(coordinator.device.capabilities))]
    )


class BleProvisioningEvent(BleProvisioningEntity, EventEntity):
    """Fires on custom data from the device and on provisioning outcomes."""

    async def async_added_to_hass(self) -> None:
        """Subscribe to the coordinator's device events."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_event_listener(self._async_event))

    _available_in_range = True

    @callback
    def _async_event(self, event_type: str, attributes: dict[str, Any]) -> None:
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()
