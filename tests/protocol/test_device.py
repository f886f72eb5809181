"""The library's device object: it owns the link (one operation at a time, idle release, close).

Also the pure mappings of BluFi reports onto the shared models.
"""

from __future__ import annotations

import asyncio

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
import pytest

from bench.device import Connection
from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.blufi.const import OpMode, StaConnState
from custom_components.ble_provisioning.protocol.blufi.models import WifiStatus
from custom_components.ble_provisioning.protocol.device import (
    ProvisioningDevice,
    create_device,
    device_class,
)
from custom_components.ble_provisioning.protocol.device_blufi import (
    security_for_version,
    status_from_report,
)
from custom_components.ble_provisioning.protocol.errors import (
    DeviceClosedError,
    DeviceNotFoundError,
    InvalidInputError,
)
from custom_components.ble_provisioning.protocol.models import (
    Protocol,
    ProvisioningSecurity,
    ProvisionOutcome,
    ProvisionRequest,
    SoftApSettings,
    WifiMode,
    WifiState,
)

ADDRESS = "24:0A:C4:00:00:31"
PASSWORD = "password1"


@pytest.mark.parametrize(
    ("sta_state", "end_reason", "state", "failure"),
    [
        (StaConnState.CONNECTED, None, WifiState.CONNECTED, None),
        (StaConnState.CONNECTED_NO_IP, None, WifiState.CONNECTING, None),
        (StaConnState.CONNECTING, None, WifiState.CONNECTING, None),
        (StaConnState.FAIL, 255, WifiState.DISCONNECTED, None),
        (StaConnState.FAIL, None, WifiState.DISCONNECTED, None),
        (StaConnState.FAIL, 8, WifiState.DISCONNECTED, None),  # ASSOC_LEAVE: DISCONN_FROM_AP
        (StaConnState.FAIL, 15, WifiState.FAILED, ProvisionOutcome.WRONG_PASSWORD),
        (StaConnState.FAIL, 201, WifiState.FAILED, ProvisionOutcome.NETWORK_NOT_FOUND),
        (StaConnState.FAIL, 203, WifiState.FAILED, ProvisionOutcome.CONNECTION_FAILED),
        (7, None, WifiState.UNKNOWN, None),
    ],
)
def test_blufi_status_mapping(
    sta_state: int, end_reason: int | None, state: WifiState, failure: ProvisionOutcome | None
) -> None:
    """Every BluFi STA state and end reason maps to a Wi-Fi state and a failure."""
    status = status_from_report(
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
    assert status.failure is failure
    assert status.rssi is None
    assert (status.ssid == "HomeNet") is (state in (WifiState.CONNECTED, WifiState.CONNECTING))


def test_unknown_opmode_and_versions() -> None:
    status = status_from_report(
        WifiStatus(opmode=9, sta_state=StaConnState.FAIL, softap_conn_count=0)
    )
    assert status.mode is None
    assert security_for_version("1.4") is ProvisioningSecurity.BLUFI_V2
    assert security_for_version("2.0") is ProvisioningSecurity.BLUFI_V2
    assert security_for_version("1.3") is ProvisioningSecurity.BLUFI_V1
    assert security_for_version("garbage") is ProvisioningSecurity.BLUFI_V1
    assert device_class(Protocol.BLUFI).capabilities.encrypted
    assert not device_class(Protocol.BLUENET).capabilities.encrypted


class CountingEmulator(Esp32BlufiEmulator):
    """Counts the BLE connections a central makes."""

    connects = 0

    def on_connect(self, connection: Connection) -> None:
        self.connects += 1
        super().on_connect(connection)


async def _setup(radio: Radio) -> tuple[CountingEmulator, BLEDevice]:
    emulator = CountingEmulator(
        BlufiDeviceConfig(networks=[WifiAp("HomeNet", -45, PASSWORD)], seed=3),
        profile="v6.0",
        address=ADDRESS,
    )
    await radio.add_peripheral(emulator)
    ble_device = await BleakScanner.find_device_by_address(
        ADDRESS, timeout=30.0, backend=radio.scanner_backend
    )
    assert ble_device is not None
    return emulator, ble_device


async def _wait_disconnected(device: ProvisioningDevice) -> None:
    async with asyncio.timeout(30):
        while device.is_connected:  # noqa: ASYNC110 - the idle release has no public event
            await asyncio.sleep(0.01)


async def test_steps_share_one_link_then_idle_release(radio: Radio) -> None:
    """identify → scan → provision on one connection; released after the idle delay."""
    emulator, ble_device = await _setup(radio)
    device = create_device(
        Protocol.BLUFI, ble_device, backend=radio.client_backend, idle_timeout=0.2
    )
    try:
        identity = await device.identify()
        assert identity.security is ProvisioningSecurity.BLUFI_V2
        assert device.version == identity.version == "1.4"
        assert device.is_connected  # kept for the next step
        networks = await device.scan(5.0)
        assert [n.ssid for n in networks] == ["HomeNet"]
        report = await device.provision(ProvisionRequest("HomeNet", PASSWORD), 10.0)
        assert report.outcome is ProvisionOutcome.CONNECTED
        assert report.security is ProvisioningSecurity.BLUFI_V2
        assert emulator.connects == 1
        await _wait_disconnected(device)
    finally:
        await device.close()
        await emulator.close()


async def test_no_idle_hold_and_close(radio: Radio) -> None:
    """With idle_timeout 0 each operation releases the link; a closed device refuses work."""
    emulator, ble_device = await _setup(radio)
    device = create_device(Protocol.BLUFI, ble_device, backend=radio.client_backend)
    try:
        status = await device.get_status()
        assert status.state is not WifiState.UNKNOWN
        assert not device.is_connected
        await device.get_status()
        assert emulator.connects == 2
        await device.close()
        assert device.closed
        with pytest.raises(DeviceClosedError):
            await device.get_status()
        assert emulator.connects == 2
    finally:
        await device.close()
        await emulator.close()


async def test_input_checked_before_connecting(radio: Radio) -> None:
    """Per-protocol limits refuse a 32-byte SSID (BluFi) before anything is sent."""
    emulator, ble_device = await _setup(radio)
    device = create_device(Protocol.BLUFI, ble_device, backend=radio.client_backend)
    try:
        with pytest.raises(InvalidInputError) as caught:
            await device.provision(ProvisionRequest("a" * 32, PASSWORD), 5.0)
        assert caught.value.field == "ssid"
        assert emulator.connects == 0
    finally:
        await device.close()
        await emulator.close()


async def test_device_not_in_range() -> None:
    """A resolver that finds nothing ends in a typed error, with no connection attempt."""
    device = create_device(Protocol.BLUENET, lambda: None, address="B0:0B:1E:00:00:09")
    with pytest.raises(DeviceNotFoundError, match="not in range"):
        await device.get_status()
    assert repr(device) == "BluenetDevice(B0:0B:1E:00:00:09)"
    with pytest.raises(ValueError, match="address"):
        create_device(Protocol.BLUFI, lambda: None)
    await device.close()


async def test_blufi_softap_wifi_disconnect_and_scan_through_the_device(radio: Radio) -> None:
    """SoftAP settings are checked before connecting; a deliberate Wi-Fi disconnect is not a
    failure; the device's scan keeps the strongest entry per SSID."""
    emulator, ble_device = await _setup(radio)
    emulator.model.config.networks.append(WifiAp("HomeNet", -80, PASSWORD))  # weaker twin
    device = create_device(Protocol.BLUFI, ble_device, backend=radio.client_backend, version="1.4")
    try:
        with pytest.raises(InvalidInputError) as caught:
            await device.provision(
                ProvisionRequest(
                    "HomeNet", mode=WifiMode.SOFTAP, softap=SoftApSettings("AP", channel=14)
                ),
                5.0,
            )
        assert caught.value.field == "softap_channel"
        assert emulator.connects == 0
        networks = await device.scan(5.0)
        assert [(n.ssid, n.rssi) for n in networks] == [("HomeNet", -45)]
        report = await device.provision(
            ProvisionRequest(
                "unused",
                mode=WifiMode.SOFTAP,
                softap=SoftApSettings("ESP-AP", "ap-password", channel=6, max_connections=2),
            ),
            10.0,
        )
        assert report.outcome is ProvisionOutcome.SOFTAP_STARTED
        assert emulator.model.fields["softap_channel"] == [6]
        await device.provision(ProvisionRequest("HomeNet", PASSWORD), 10.0)
        await device.disconnect_wifi()
        status = await device.get_status()
        assert status.state is WifiState.DISCONNECTED
        assert status.failure is None
        assert emulator.model.disconnect_ap_requests == 1
    finally:
        await device.close()
        await emulator.close()
