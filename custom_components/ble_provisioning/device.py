"""Home Assistant's side of a device: its Bluetooth lookup and the translated errors.

The protocol library's :class:`~.protocol.device.ProvisioningDevice` owns the link (locks, idle
release, slot waits); this module only hands it the freshest ``BLEDevice`` from Home Assistant's
bluetooth manager (the best adapter or proxy in range), keeps the bluetooth manager's discovery
history in step with the entries, and turns the library's typed errors into translated Home
Assistant errors, in one place.
"""

from __future__ import annotations

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from . import const
from .const import DOMAIN
from .protocol.device import ProvisioningDevice, create_device
from .protocol.errors import InvalidInputError, OperationNotSupportedError, ProvisioningError
from .protocol.models import Protocol
from .protocol.slots import ConnectionSlots
from .slots import ha_slots


@callback
def async_forget_discovery(hass: HomeAssistant, address: str, *, rediscover: bool) -> None:
    """Clear ``address`` from the bluetooth manager's match history.

    After a successful setup (``rediscover=False``), a device that is reset later raises a
    discovery card again, as improv_ble does. After a removal (``rediscover=True``) discovery
    also runs at once with the last advertisement, so the card is back immediately.

    Home Assistant 2025.4 has no call that only clears the history
    (``async_clear_address_from_match_history`` came later), and its
    ``async_rediscover_address`` re-runs discovery, which refills the history at once and, for
    a device just set up, only starts a flow that aborts: there, nothing is done after a
    success, and the removal's rediscovery is what brings the card back.
    """
    if rediscover:
        bluetooth.async_rediscover_address(hass, address)
        return
    clear = getattr(bluetooth, "async_clear_address_from_match_history", None)
    if clear is not None:
        clear(hass, address)


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
