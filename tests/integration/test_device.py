"""Home Assistant's side of a device: BLE-device lookup and error translation."""

from __future__ import annotations

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from custom_components.ble_provisioning.device import flow_errors, ha_device, ha_error
from custom_components.ble_provisioning.protocol.errors import (
    ConnectionLostError,
    InvalidInputError,
    OperationNotSupportedError,
    ProvisioningError,
)
from custom_components.ble_provisioning.protocol.models import Protocol

from .conftest import BLUFI_ADDRESS, Bench


def test_error_translation() -> None:
    """Library errors become translated HA errors: bad input is a validation error."""
    lost = ha_error(ConnectionLostError("gone"), BLUFI_ADDRESS)
    assert type(lost) is HomeAssistantError
    assert lost.translation_key == "connection_lost"
    assert lost.translation_placeholders == {"address": BLUFI_ADDRESS}
    generic = ha_error(ProvisioningError("boom"), BLUFI_ADDRESS)
    assert generic.translation_key == "unknown"
    bad = ha_error(InvalidInputError("x", field="ssid", reason="invalid_ssid"), BLUFI_ADDRESS)
    assert isinstance(bad, ServiceValidationError)
    assert bad.translation_key == "invalid_ssid"
    unsupported = ha_error(OperationNotSupportedError("custom data"), BLUFI_ADDRESS)
    assert isinstance(unsupported, ServiceValidationError)
    assert unsupported.translation_key == "not_supported_operation"
    assert flow_errors(InvalidInputError("x", field="password", reason="invalid_password")) == {
        "password": "invalid_password"
    }
    assert flow_errors(ConnectionLostError("gone")) == {"base": "connection_lost"}


async def test_ble_device_lookup(hass: HomeAssistant, bench: Bench) -> None:
    """The device resolves the freshest BLEDevice from HA; the retry callback falls back."""
    await bench.blufi()
    device = ha_device(hass, BLUFI_ADDRESS, Protocol.BLUFI)
    fresh = bluetooth.async_ble_device_from_address(hass, BLUFI_ADDRESS, connectable=True)
    assert fresh is not None
    assert device._ble_device() is fresh
    assert device._ble_device_callback(fresh)() is fresh
    gone = ha_device(hass, "24:0A:C4:00:00:42", Protocol.BLUFI)
    assert gone._ble_device_callback(fresh)() is fresh
