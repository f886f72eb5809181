"""Which devices an action or a flow means: configured ones by device id, discovered by address.

Shared by the single-device actions, the batch actions (:mod:`.services_batch`) and the config
flows (the user step's list and the batch flow, :mod:`.flow_batch`).
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components import bluetooth
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN
from .coordinator import BleProvisioningConfigEntry, BleProvisioningCoordinator
from .protocol.device import device_class
from .protocol.discovery import protocol_from_service_uuids
from .protocol.models import Protocol


def device_name(info: bluetooth.BluetoothServiceInfoBleak, protocol: Protocol) -> str:
    """Return the advertised name, or a readable fallback (Bluenet advertises no name)."""
    name = info.advertisement.local_name or info.name
    if name and name != info.address:
        return name
    suffix = info.address.replace(":", "")[-4:].upper()
    return f"{device_class(protocol).default_name} {suffix}"


@dataclass(frozen=True, slots=True)
class Discovered:
    """A device in range that advertises a supported service."""

    address: str
    protocol: Protocol
    name: str
    rssi: int | None


def discovered(
    hass: HomeAssistant, exclude: set[str] | frozenset[str] = frozenset()
) -> list[Discovered]:
    """Every connectable device in range advertising BluFi or Bluenet, minus ``exclude``."""
    found: dict[str, Discovered] = {}
    for info in bluetooth.async_discovered_service_info(hass, connectable=True):
        if info.address in exclude or info.address in found:
            continue
        if (protocol := protocol_from_service_uuids(info.service_uuids)) is not None:
            found[info.address] = Discovered(
                info.address, protocol, device_name(info, protocol), info.rssi
            )
    return list(found.values())


def discovered_device(hass: HomeAssistant, address: str) -> Discovered | None:
    """Return the device at ``address`` when it is in range and advertises a supported service."""
    info = bluetooth.async_last_service_info(hass, address, connectable=True)
    if info is None or (protocol := protocol_from_service_uuids(info.service_uuids)) is None:
        return None
    return Discovered(info.address, protocol, device_name(info, protocol), info.rssi)


def entry_for_address(hass: HomeAssistant, address: str) -> BleProvisioningConfigEntry | None:
    """Return the config entry of ``address`` (None: not configured)."""
    entry: BleProvisioningConfigEntry | None = hass.config_entries.async_entry_for_domain_unique_id(
        DOMAIN, address.upper()
    )
    return entry


def loaded_coordinator(entry: BleProvisioningConfigEntry) -> BleProvisioningCoordinator:
    """Return the entry's coordinator; raise a validation error when it is not loaded."""
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    return entry.runtime_data


def coordinator_for_device(hass: HomeAssistant, device_id: str) -> BleProvisioningCoordinator:
    """Return the coordinator of a device of this integration, or raise a validation error."""
    device = dr.async_get(hass).async_get(device_id)
    # Matched through the device's (DOMAIN, address) identifier: DeviceEntry.config_entries
    # is deprecated in newer Home Assistant (a device has one config_entry_id there), and
    # config_entry_id does not exist in 2025.4.
    entry: BleProvisioningConfigEntry | None = None
    if device is not None:
        entry = next(
            (
                candidate
                for candidate in hass.config_entries.async_entries(DOMAIN)
                if (DOMAIN, candidate.unique_id) in device.identifiers
            ),
            None,
        )
    if entry is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_device",
            translation_placeholders={"device_id": device_id},
        )
    return loaded_coordinator(entry)


def device_id_of(hass: HomeAssistant, coordinator: BleProvisioningCoordinator) -> str | None:
    """Return the device registry id of a coordinator's device."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, coordinator.config_entry.entry_id):
        return device.id
    return None
