"""The seed-compatible synchronous BlufiClient (pyBlufi API) over the bench."""

from __future__ import annotations

from typing import Any

import pytest

from bench.emulators.blufi import BlufiDeviceConfig, BlufiFaults, Esp32BlufiEmulator
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.blufi import compat
from custom_components.ble_provisioning.protocol.blufi.compat import (
    OP_MODE_STA,
    STA_CONN_SUCCESS,
    BluetoothError,
    BlufiClient,
    ConnectionError as SeedConnectionError,
    RoleError,
    SecurityError,
)
from custom_components.ble_provisioning.protocol.errors import ProvisioningError

from .conftest import default_networks


class _Harness:
    """Radio and emulator living on the compat client's own event-loop thread."""

    def __init__(self, profile: str, config: BlufiDeviceConfig) -> None:
        self.custom: list[bytes] = []
        outer = self

        class Client(BlufiClient):
            def onCustomData(self, data: bytes) -> None:  # noqa: N802
                outer.custom.append(data)

        self.client = Client()
        self.device = Esp32BlufiEmulator(config, profile=profile)
        self.radio: Radio = self.client._run(self._start())
        self.client._client_backend = self.radio.client_backend
        self.client._scanner_backend = self.radio.scanner_backend

    async def _start(self) -> Radio:
        radio = Radio()
        await radio.start()
        await radio.add_peripheral(self.device)
        return radio

    async def _stop(self) -> None:
        await self.device.close()
        await self.radio.stop()

    def close(self) -> None:
        self.client.disconnect()
        self.client._run(self._stop())
        # The client's loop ran the DH work in its default executor, and BlufiClient.close()
        # does not wait for the executor's thread: on a busy machine it was still alive when
        # phcc's cleanup check looked for lingering threads.
        self.client._run(self.client._loop.shutdown_default_executor())
        self.client.close()


@pytest.fixture
def harness() -> Any:
    made: list[_Harness] = []

    def make(profile: str = "v5.5", **kwargs: Any) -> _Harness:
        kwargs.setdefault("dh_private_bits", 256)  # the firmware's 3072 bits cost ~1 s of CPU
        config = BlufiDeviceConfig(networks=default_networks(), seed=5, **kwargs)
        made.append(_Harness(profile, config))
        return made[-1]

    yield make
    for h in made:
        h.close()


@pytest.mark.parametrize("profile", ["v5.5", "v6.0"])
def test_seed_api_end_to_end(harness: Any, profile: str) -> None:
    h = harness(profile)
    client = h.client
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
    for _ in range(1000):  # until the device reports the join (at most ~20 s + round trips)
        client.requestDeviceStatus()
        if client.getWifiState()["staConn"] == STA_CONN_SUCCESS:
            break
        client.wait(0.02)
    state = client.getWifiState()
    assert state["opMode"] == OP_MODE_STA
    assert state["staConn"] == STA_CONN_SUCCESS
    assert state["softAPConn"] == 0
    client.postCustomData(bytearray(b"hello from phone " * 20))
    for _ in range(3000):  # until the echo arrives (at most ~30 s)
        if h.custom:
            break
        client.wait(0.01)
    assert h.custom == [b"hello from phone " * 20]
    client.stopNotify()
    client.startNotify()
    client.requestVersion()
    assert h.device.model.fields["sta_passwd"] == [b"password1"]
    assert h.device.model.connect_requests == 1


def test_seed_exceptions(harness: Any) -> None:
    assert issubclass(SeedConnectionError, BluetoothError)
    assert issubclass(SecurityError, BluetoothError)
    assert issubclass(RoleError, BluetoothError)
    assert issubclass(BluetoothError, ProvisioningError)
    h = harness("v6.0", faults=BlufiFaults(error_at_write={2: 0x06}))
    assert h.client.connectByName("BLUFI_DEVICE", timeout=30)
    with pytest.raises(SecurityError):
        h.client.negotiateSecurity()
    assert not h.client.connected
    with pytest.raises(RoleError):
        h.client.requestDeviceStatus()


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
