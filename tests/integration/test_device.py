"""The protocol adapters' pure mappings (status, errors, URLs) and BLE-device lookup."""

from __future__ import annotations

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
import pytest

from custom_components.ble_provisioning.coordinator import configuration_url
from custom_components.ble_provisioning.device import (
    BlufiDevice,
    _blufi_status,
    _translate,
    protocol_from_service_uuids,
)
from custom_components.ble_provisioning.models import (
    DeviceError,
    FailureReason,
    WifiState,
    validate_bssid,
    validate_password,
)
from custom_components.ble_provisioning.protocol.blufi.const import OpMode, StaConnState
from custom_components.ble_provisioning.protocol.blufi.models import WifiStatus
from custom_components.ble_provisioning.protocol.errors import ProvisioningError

from .conftest import BLUFI_ADDRESS, Bench


@pytest.mark.parametrize(
    ("sta_state", "end_reason", "state", "reason"),
    [
        (StaConnState.CONNECTED, None, WifiState.CONNECTED, FailureReason.NONE),
        (StaConnState.CONNECTED_NO_IP, None, WifiState.CONNECTING, FailureReason.NONE),
        (StaConnState.CONNECTING, None, WifiState.CONNECTING, FailureReason.NONE),
        (StaConnState.FAIL, 255, WifiState.DISCONNECTED, FailureReason.NONE),
        (StaConnState.FAIL, None, WifiState.DISCONNECTED, FailureReason.NONE),
        (StaConnState.FAIL, 15, WifiState.FAILED, FailureReason.WRONG_PASSWORD),
        (StaConnState.FAIL, 201, WifiState.FAILED, FailureReason.NETWORK_NOT_FOUND),
        (StaConnState.FAIL, 203, WifiState.FAILED, FailureReason.CONNECTION_FAILED),
        (7, None, WifiState.UNKNOWN, FailureReason.NONE),
    ],
)
def test_blufi_status_mapping(
    sta_state: int, end_reason: int | None, state: WifiState, reason: FailureReason
) -> None:
    """Every BluFi STA state and end reason maps to a Wi-Fi state and a failure reason."""
    status = _blufi_status(
        WifiStatus(
            opmode=OpMode.STA,
            sta_state=sta_state,
            softap_conn_count=0,
            ssid_raw=b"HomeNet",
            end_reason=end_reason,
            rssi=-128 if end_reason else None,
        )
    )
    assert status.state is state
    assert status.failure_reason is reason
    assert status.rssi is None
    assert (status.ssid == "HomeNet") is (state in (WifiState.CONNECTED, WifiState.CONNECTING))


def test_unknown_opmode() -> None:
    """An opmode outside the enum gives no mode."""
    status = _blufi_status(WifiStatus(opmode=9, sta_state=StaConnState.FAIL, softap_conn_count=0))
    assert status.mode is None


def test_translate_generic_error() -> None:
    """A bare protocol error becomes the generic device error."""
    err = _translate(ProvisioningError("boom"), connected=True)
    assert type(err) is DeviceError
    assert err.translation_key == "unknown"


def test_helpers() -> None:
    """URL, service UUID and validation helpers."""
    assert configuration_url(None) is None
    assert configuration_url("hub.local") == "http://hub.local"
    assert configuration_url("https://hub.local/") == "https://hub.local/"
    assert protocol_from_service_uuids(["0000FFFF-0000-1000-8000-00805F9B34FB"]) == "blufi"
    assert protocol_from_service_uuids([]) is None
    assert validate_bssid("a4cf12000001") is None
    assert validate_password("a" * 64) is None
    assert validate_password("g" * 64) == "invalid_password"


async def test_ble_device_callback(hass: HomeAssistant, bench: Bench) -> None:
    """The retry callback hands bleak-retry-connector the freshest BLEDevice."""
    await bench.blufi()
    device = BlufiDevice(hass, BLUFI_ADDRESS)
    fresh = bluetooth.async_ble_device_from_address(hass, BLUFI_ADDRESS, connectable=True)
    assert fresh is not None
    assert device._ble_device_callback(fresh)() is fresh
    gone = BlufiDevice(hass, "24:0A:C4:00:00:42")
    assert gone._ble_device_callback(fresh)() is fresh
