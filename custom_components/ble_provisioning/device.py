"""Home Assistant's side of a device: its Bluetooth lookup and the translated errors.

The protocol library's :class:`~.protocol.device.ProvisioningDevice` owns the link (locks, idle
release, slot waits); this module only hands it the freshest ``BLEDevice`` from Home Assistant's
bluetooth manager (the best adapter or proxy in range) and turns the library's typed errors into
translated Home Assistant errors, in one place.
"""

from __future__ import annotations

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from . import const
from .const import DOMAIN
from .protocol.device import ProvisioningDevice, create_device
from .protocol.discovery import protocol_from_service_uuids
from .protocol.errors import InvalidInputError, OperationNotSupportedError, ProvisioningError
from .protocol.models import Protocol
from .protocol.slots import ConnectionSlots
from .slots import ha_slots

__all__ = ["flow_errors", "ha_device", "ha_error", "protocol_from_service_uuids"]


def ha_device(
    hass: HomeAssistant,
    address: str,
    protocol: Protocol,
    *,
    idle_timeout: float = 0.0,
    version: str | None = None,
    slots: ConnectionSlots | None = None,
) -> ProvisioningDevice:
    """Return the library's device object, reached through Home Assistant's bluetooth stack.

    A connect waits for a free slot of an adapter or proxy that sees the device (``slots``,
    default: Home Assistant's shared :class:`~.slots.HaConnectionSlots`) instead of failing.
    """
    return create_device(
        protocol,
        lambda: bluetooth.async_ble_device_from_address(hass, address, connectable=True),
        address=address,
        slots=slots if slots is not None else ha_slots(hass),
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
