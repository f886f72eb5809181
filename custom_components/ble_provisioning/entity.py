"""Base entity of the integration."""

from __future__ import annotations

from homeassistant.components import bluetooth
from homeassistant.const import CONF_ADDRESS
from homeassistant.helpers.device_registry import CONNECTION_BLUETOOTH, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_PROTOCOL_VERSION, DOMAIN
from .coordinator import BleProvisioningCoordinator
from .device_data import accepted_version, configuration_url


class BleProvisioningEntity(CoordinatorEntity[BleProvisioningCoordinator]):
    """An entity of one provisioned device."""

    _attr_has_entity_name = True
    #: Stay available after a failed status read as long as the device is in range.
    _available_in_range = False

    def __init__(
        self, coordinator: BleProvisioningCoordinator, description: EntityDescription
    ) -> None:
        """Describe the entity and its device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        address: str = entry.data[CONF_ADDRESS]
        device = coordinator.device
        version = accepted_version(entry.data.get(CONF_PROTOCOL_VERSION))
        self._attr_unique_id = f"{address}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, address)},
            connections={(CONNECTION_BLUETOOTH, address)},
            name=entry.title,
            manufacturer=device.manufacturer,
            # The version identify reads is the provisioning protocol's, not the firmware's.
            model=f"{device.model} (protocol {version})" if version else device.model,
            configuration_url=configuration_url(coordinator.data.hostname),
        )

    @property
    def available(self) -> bool:
        """Unavailable when the status cannot be read (or, if allowed, the device is gone)."""
        if super().available:
            return True
        return self._available_in_range and bluetooth.async_address_present(
            self.hass, self.coordinator.address, connectable=True
        )
