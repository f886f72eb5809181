"""Sensors: Wi-Fi state, SSID, failure reason, scan results, provisioning security.

There is no Wi-Fi signal strength sensor: ESP-IDF's BluFi reports the RSSI only in a failed
connection's report (the signal at the failure), never while connected, so such a sensor could
never have a value while the device is on Wi-Fi. ``get_status`` returns that RSSI.
"""

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
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BleProvisioningConfigEntry, CoordinatorData
from .entity import BleProvisioningEntity
from .protocol.models import FAILURE_OUTCOMES, ProvisioningSecurity, WifiState

PARALLEL_UPDATES = 0

ATTR_NETWORKS = "networks"
NO_FAILURE = "none"


@dataclass(frozen=True, kw_only=True)
class BleProvisioningSensorEntityDescription(SensorEntityDescription):
    """Describe a sensor of a provisioned device."""

    value_fn: Callable[[CoordinatorData], str | int | datetime | None]
    attributes_fn: Callable[[CoordinatorData], dict[str, Any] | None] = lambda _: None


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
        key="provisioning_security",
        translation_key="provisioning_security",
        device_class=SensorDeviceClass.ENUM,
        options=[security.value for security in ProvisioningSecurity],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.security.value if data.security else None,
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
    """Add the sensors."""
    coordinator = entry.runtime_data
    async_add_entities(BleProvisioningSensor(coordinator, description) for description in SENSORS)


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
