"""The seed-compatible synchronous BlufiClient (pyBlufi API) over the bench."""

from __future__ import annotations

import asyncio
from typing import Any

from bleak import BleakScanner
from bleak.exc import BleakError
import pytest

from bench.emulators.blufi import BlufiDeviceConfig, BlufiFaults
from custom_components.ble_provisioning.protocol.blufi import compat
from custom_components.ble_provisioning.protocol.blufi.compat import (
    MIN_PACKAGE_LENGTH,
    OP_MODE_STA,
    STA_CONN_SUCCESS,
    BluetoothError,
    BlufiClient,
    ConnectionError as SeedConnectionError,
    RoleError,
    SecurityError,
)
from custom_components.ble_provisioning.protocol.errors import ProvisioningError

from .compat_bench import BenchBlufiClient, bench_clients
from .conftest import default_networks


@pytest.mark.parametrize("profile", ["v5.5", "v6.0"])
def test_seed_api_end_to_end(monkeypatch: pytest.MonkeyPatch, profile: str) -> None:
    """Also the teardown: close() leaves no thread (on main the loop's executor thread, which
    ran the DH work, outlived close() and failed pytest-homeassistant's thread check)."""
    with bench_clients(monkeypatch, profile):
        client = compat.BlufiClient()
        assert isinstance(client, BenchBlufiClient)
        with pytest.raises(RoleError):
            client.requestVersion()  # not connected yet
        assert client.connectByName("NO_SUCH_DEVICE", timeout=0.3) is False
        assert client.connectByName("BLUFI_DEVICE", timeout=30) is True
        client.requestVersion()
        assert client.getVersion() == ("1.3" if profile == "v5.5" else "1.4")
        client.negotiateSecurity()
        client.requestDeviceScan(timeout=30)
        assert client.getSSIDList()[0] == {"ssid": "HomeNet", "rssi": -45}
        client.postDeviceMode(OP_MODE_STA)
        client.postStaWifiInfo({"ssid": "HomeNet", "pass": "password1"})
        for _ in range(1000):
            client.requestDeviceStatus()
            if client.getWifiState()["staConn"] == STA_CONN_SUCCESS:
                break
            client.wait(0.02)
        state = client.getWifiState()
        assert state["opMode"] == OP_MODE_STA
        assert state["staConn"] == STA_CONN_SUCCESS
        assert state["softAPConn"] == 0
        client.postCustomData(bytearray(b"hello from phone " * 20))
        for _ in range(1000):
            if client.custom:
                break
            client.wait(0.01)
        assert client.custom == [b"hello from phone " * 20]
        client.stopNotify()
        client.startNotify()
        client.requestVersion()
        assert client.device.model.fields["sta_passwd"] == [b"password1"]
        assert client.device.model.connect_requests == 1


def test_open_network_and_package_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """No password frame for an empty password; the package limit as pyBlufi defines it."""
    with bench_clients(monkeypatch, "v5.5"):
        client = compat.BlufiClient()
        assert isinstance(client, BenchBlufiClient)
        client.setPostPackageLengthLimit(10)  # clamped to 20 (pyBlufi's minimum)
        assert client.connectByName("BLUFI_DEVICE", timeout=30)
        client.postDeviceMode(OP_MODE_STA)
        client.postStaWifiInfo({"ssid": "Cafe Free WiFi", "pass": ""})
        for _ in range(2000):
            if client.getWifiState()["staConn"] == STA_CONN_SUCCESS:  # pushed report
                break
            client.wait(0.02)
        assert client.getWifiState()["ssid"] == "Cafe Free WiFi"
        model = client.device.model
        assert "sta_passwd" not in model.fields
        assert max(len(w) for w in model.writes) <= MIN_PACKAGE_LENGTH
        client.setPostPackageLengthLimit(0)  # no cap: one ATT write decides
        client.postCustomData(bytes(400))
        assert max(len(w) for w in model.writes) > MIN_PACKAGE_LENGTH


def test_scan_errors_are_seed_exceptions(monkeypatch: pytest.MonkeyPatch) -> None:
    """On main a BleakError from the scanner escaped raw."""

    async def no_adapter(*_args: Any, **_kwargs: Any) -> None:
        raise BleakError("Bluetooth adapter not found")

    monkeypatch.setattr(BleakScanner, "find_device_by_name", no_adapter)
    client = BlufiClient()
    try:
        with pytest.raises(BluetoothError, match="adapter not found"):
            client.connectByName("BLUFI_DEVICE", timeout=1)
    finally:
        client.close()


def test_seed_exceptions(monkeypatch: pytest.MonkeyPatch) -> None:
    assert issubclass(SeedConnectionError, BluetoothError)
    assert issubclass(SecurityError, BluetoothError)
    assert issubclass(RoleError, BluetoothError)
    assert issubclass(BluetoothError, ProvisioningError)

    def config() -> BlufiDeviceConfig:
        faults = BlufiFaults(error_at_write={2: 0x06})
        return BlufiDeviceConfig(networks=default_networks(), seed=5, faults=faults)

    with bench_clients(monkeypatch, "v6.0", config):
        client = compat.BlufiClient()
        assert client.connectByName("BLUFI_DEVICE", timeout=30)
        with pytest.raises(SecurityError):
            client.negotiateSecurity()
        assert not client.connected
        with pytest.raises(RoleError):
            client.requestDeviceStatus()


def test_seed_constants() -> None:
    assert compat.BLUFI_SERVICE_UUID == "0000ffff-0000-1000-8000-00805f9b34fb"
    assert compat.BLUFI_WRITE_CHAR_UUID == "0000ff01-0000-1000-8000-00805f9b34fb"
    assert compat.BLUFI_NOTIF_CHAR_UUID == "0000ff02-0000-1000-8000-00805f9b34fb"
    assert compat.BLUFI_NOTIF_DESC_UUID == "00002902-0000-1000-8000-00805f9b34fb"
    assert (compat.OP_MODE_NULL, compat.OP_MODE_SOFTAP, compat.OP_MODE_STASOFTAP) == (0, 2, 3)
    assert compat.SOFTAP_SECURITY_WPA_WPA2 == 4
    assert (compat.STA_CONN_FAIL, compat.STA_CONN_CONNECTING, compat.STA_CONN_NO_IP) == (1, 2, 3)
    assert compat.WIFI_REASON_4WAY_HANDSHAKE_TIMEOUT == 15
    assert compat.WIFI_REASON_NO_AP_FOUND == 201
    assert compat.WIFI_SCAN_FAIL == 11
    client = BlufiClient(blufi_service_uuid="0000abcd-0000-1000-8000-00805f9b34fb")
    assert client.service_uuid.startswith("0000abcd")
    assert client.write_char_uuid == compat.BLUFI_WRITE_CHAR_UUID
    client.close()


def test_closed_client_and_blocking_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    client = BlufiClient()
    monkeypatch.setattr(client, "_margin", 0.0)
    with pytest.raises(TimeoutError):
        client._run(asyncio.sleep(5), timeout=0.05)  # the call's own bound
    client._loop.call_soon_threadsafe(client._loop.stop)  # the loop thread ends by itself
    client._thread.join(5)
    client.close()
    client.close()  # twice: nothing to do
    with pytest.raises(RoleError, match="closed"):
        client.connectByName("BLUFI_DEVICE")


def test_reconnect_and_negotiation_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    with bench_clients(monkeypatch, "v5.5"):
        client = compat.BlufiClient()
        assert isinstance(client, BenchBlufiClient)
        assert client.connectByName("BLUFI_DEVICE", timeout=30)
        assert client.connectByName("BLUFI_DEVICE", timeout=30)  # the first link is closed
        client.device.model.config.faults.disconnect_at_write = 0
        with pytest.raises(SecurityError):  # a lost link while negotiating, as the seed says
            client.negotiateSecurity()
        assert not client.connected


def test_device_errors_are_bluetooth_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with bench_clients(monkeypatch, "v5.5"):
        client = compat.BlufiClient()
        assert isinstance(client, BenchBlufiClient)
        assert client.connectByName("BLUFI_DEVICE", timeout=30)
        client.device.model.config.faults.scan_error = True
        with pytest.raises(BluetoothError, match="WIFI_SCAN_FAIL") as caught:
            client.requestDeviceScan(timeout=30)
        assert not isinstance(caught.value, SecurityError | SeedConnectionError)
