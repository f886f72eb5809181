"""Home Assistant's side of a device: its Bluetooth lookup and the translated errors.

The protocol library's :class:`~.protocol.device.ProvisioningDevice` owns the link (locks, idle
release, slot waits); this module only hands it the freshest ``BLEDevice`` from Home Assistant's
bluetooth manager (the best adapter or proxy in range) and turns the library's typed errors into
translated Home Assistant errors, in one place.
"""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from . import const
from .const import BLUENET_SERVICE_UUID, BLUFI_SERVICE_UUID, DOMAIN
from .protocol.device import ProvisioningDevice, create_device
from .protocol.errors import InvalidInputError, OperationNotSupportedError, ProvisioningError
from .protocol.models import Protocol


def protocol_from_service_uuids(service_uuids: Iterable[str]) -> Protocol | None:
    """Return the protocol an advertisement announces, if any."""
    uuids = {uuid.lower() for uuid in service_uuids}
    if BLUENET_SERVICE_UUID in uuids:
        return Protocol.BLUENET
    if BLUFI_SERVICE_UUID in uuids:
        return Protocol.BLUFI
    return None


def ha_device(
    hass: HomeAssistant,
    address: str,
    protocol: Protocol,
    *,
    idle_timeout: float = 0.0,
    version: str | None = None,
) -> ProvisioningDevice:
    """Return the library's device object, reached through Home Assistant's bluetooth stack."""
    return create_device(
        protocol,
        lambda: bluetooth.async_ble_device_from_address(hass, address, connectable=True),
        address=address,
        idle_timeout=idle_timeout,
        timeout=const.CONNECT_TIMEOUT,
        version=version,
    )


def ha_error(err: ProvisioningError, address: str) -> HomeAssistantError:
    """Translate a library error: bad input is the caller's, everything else the device's."""
    placeholders = {"address": address}
    if isinstance(err, InvalidInputError | OperationNotSupportedError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.reason if isinstance(err, InvalidInputError) else err.error_key,
            translation_placeholders=placeholders,
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=err.error_key,
        translation_placeholders=placeholders,
    )


def flow_errors(err: ProvisioningError) -> dict[str, str]:
    """Form errors for a library error: bad input next to its field, the rest at the top."""
    if isinstance(err, InvalidInputError):
        return {err.field or "base": err.reason}
    return {"base": err.error_key}
