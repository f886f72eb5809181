"""Sensors: Wi-Fi state, SSID, RSSI, failure reason, scan results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import SIGNAL_STRENGTH_DECIBELS_MILLIWATT, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BleProvisioningConfigEntry, CoordinatorData
from .entity import BleProvisioningEntity
from .protocol.models import FAILURE_OUTCOMES, Capabilities, WifiState

PARALLEL_UPDATES = 0

ATTR_NETWORKS = "networks"
NO_FAILURE = "none"


@dataclass(frozen=True, kw_only=True)
class BleProvisioningSensorEntityDescription(SensorEntityDescription):
    """Describe a sensor of a provisioned device."""

    value_fn: Callable[[CoordinatorData], str | int | datetime | None]
    attributes_fn: Callable[[CoordinatorData], dict[str, Any] | None] = lambda _: None
    exists_fn: Callable[[Capabilities], bool] = lambda _: True


def _networks_attributes(data: CoordinatorData) -> dict[str, Any] | None:
    if data.networks is None:
        return None
    return {
        ATTR_NETWORKS: [
            {"ssid": network.ssid, "rssi": network.rssi, "auth": network.auth}
            for network in data.networks
        ]
    }


SENSORS: tuple[BleProvisioningSensorEntityDescription, ...] = (
    BleProvisioningSensorEntityDescription(
        key="wifi_state",
        translation_key="wifi_state",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in WifiState],
        value_fn=lambda data: (data.status.state if data.status else WifiState.UNKNOWN).value,
    ),
    BleProvisioningSensorEntityDescription(
        key="ssid",
        translation_key="ssid",
        value_fn=lambda data: data.status.ssid if data.status else None,
    ),
    BleProvisioningSensorEntityDescription(
        key="wifi_rssi",
        translation_key="wifi_rssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.status.rssi if data.status else None,
        exists_fn=lambda capabilities: capabilities.rssi,
    ),
    BleProvisioningSensorEntityDescription(
        key="failure_reason",
        translation_key="failure_reason",
        device_class=SensorDeviceClass.ENUM,
        options=[NO_FAILURE, *(outcome.value for outcome in FAILURE_OUTCOMES)],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: (
            NO_FAILURE if data.failure_reason is None else data.failure_reason.value
        ),
    ),
    BleProvisioningSensorEntityDescription(
        key="networks_found",
        translation_key="networks_found",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda data: None if data.networks is None else len(data.networks),
        attributes_fn=_networks_attributes,
    ),
    BleProvisioningSensorEntityDescription(
        key="last_scan",
        translation_key="last_scan",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.last_scan,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BleProvisioningConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors the device's protocol supports."""
    coordinator = entry.runtime_data
    capabilities = coordinator.device.capabilities
    async_add_entities(
        BleProvisioningSensor(coordinator, description)
        for description in SENSORS
        if description.exists_fn(capabilities)
    )


class BleProvisioningSensor(BleProvisioningEntity, SensorEntity):
    """A sensor of a provisioned device."""

    entity_description: BleProvisioningSensorEntityDescription
    _unrecorded_attributes = frozenset({ATTR_NETWORKS})

    @property
    def native_value(self) -> str | int | datetime | None:
        """Return the value from the coordinator's data."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the scan list (excluded from the recorder)."""
        return self.entity_description.attributes_fn(self.coordinator.data)
