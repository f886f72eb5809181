"""The Bluenet device object (``protocol/device_bluenet.py``) over the bench radio."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.emulators.bluenet import BluenetConfig, BluenetDaemonEmulator, WifiNetwork
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.bluenet import BluenetStillScanningError
from custom_components.ble_provisioning.protocol.device import ProvisioningDevice, create_device
from custom_components.ble_provisioning.protocol.errors import (
    InvalidInputError,
    OperationNotSupportedError,
)
from custom_components.ble_provisioning.protocol.models import (
    Protocol,
    ProvisioningSecurity,
    ProvisionOutcome,
    ProvisionRequest,
    WifiMode,
    WifiNetwork as Network,
    WifiState,
)

from .conftest import FAST, fast_config, find_device, premise

ADDRESS = "B0:0B:1E:00:00:D1"
URL = "http://192.168.178.100:6543/-/"


async def _device(
    radio: Radio, config: BluenetConfig, *, idle_timeout: float = 0.0
) -> tuple[BluenetDaemonEmulator, ProvisioningDevice]:
    emulator = BluenetDaemonEmulator(config, address=ADDRESS)
    await radio.add_peripheral(emulator)
    ble_device = await find_device(radio, emulator.address)
    device = create_device(
        Protocol.BLUENET,
        ble_device,
        backend=radio.client_backend,
        idle_timeout=idle_timeout,
        timeout=5.0,
    )
    return emulator, device


async def test_operations(radio: Radio) -> None:
    config = fast_config(
        networks=[WifiNetwork("home", "correct horse"), WifiNetwork("cafe", "password2")]
    )
    emulator, device = await _device(radio, config)
    try:
        identity = await device.identify()
        assert (identity.version, identity.hostname) == ("1.0", None)
        assert identity.security is ProvisioningSecurity.CLEARTEXT
        status = await device.get_status()
        assert (status.state, status.ssid, status.hostname) == (WifiState.DISCONNECTED, None, None)
        assert await device.scan(5.0) == [Network("home"), Network("cafe")]
        report = await device.provision(ProvisionRequest("home", "correct horse"), 5.0)
        assert (report.outcome, report.hostname) == (ProvisionOutcome.CONNECTED, URL)
        status = await device.get_status()
        assert (status.state, status.ssid, status.hostname) == (WifiState.CONNECTED, "home", URL)
        with pytest.raises(OperationNotSupportedError):
            await device.provision(ProvisionRequest("home", "x" * 8, mode=WifiMode.SOFTAP), 5.0)
        with pytest.raises(InvalidInputError):
            await device.provision(ProvisionRequest("x" * 33, "correct horse"), 5.0)
        assert not device.is_connected  # idle_timeout 0: released after each operation
    finally:
        await device.close()
        await emulator.close()


async def test_still_scanning_keeps_the_link(radio: Radio) -> None:
    # The daemon's first scan of access points comes 20 s after it starts: nothing to send.
    config = fast_config(timings=replace(FAST, first_scan=20.0))
    emulator, device = await _device(radio, config, idle_timeout=30.0)
    try:
        with pytest.raises(BluenetStillScanningError) as info:
            await device.scan(0.5)
        assert info.value.error_key == "still_scanning"
        premise(emulator.model.scans == 0, "the daemon had not scanned yet")
        assert device.is_connected  # as after a scan that found networks
        assert emulator.is_connected
    finally:
        await device.close()
        await emulator.close()


async def test_pause_case_is_kept_per_device(radio: Radio) -> None:
    # Item 7 (e): one device object, one link per operation (idle_timeout 0), so each scan is a
    # new client. The first scan ends at its timeout inside the daemon's 2 s pause; its timer
    # chain restarts 2.1 s after the last SSID. The next scan's client, on a new link, must not
    # subscribe before that although it connected long before: the device keeps the timing.
    timings = replace(FAST, notify_interval=0.05, list_pause=2.0)
    config = fast_config(
        networks=[WifiNetwork("home", "password1"), WifiNetwork("cafe", "password2")],
        timings=timings,
    )
    emulator, device = await _device(radio, config)
    try:
        assert await device.scan(1.0) == [Network("home"), Network("cafe")]
        premise(
            emulator.model.networks_notified() == [b"home", b"cafe"],
            "the scan ended in the pause, before the next round",
        )
        assert await device.scan(5.0) == [Network("home"), Network("cafe")]
    finally:
        await device.close()
        await emulator.close()
    assert emulator.model.network_chains_at_start == [1, 1]
