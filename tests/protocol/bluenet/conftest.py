"""Fixtures: a Bluenet daemon emulator on the bench radio, and a client bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
import pytest

from bench.emulators.bluenet import (
    BluenetConfig,
    BluenetDaemonEmulator,
    BluenetTimings,
    WifiNetwork,
)
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.bluenet.client import BluenetClient
from custom_components.ble_provisioning.protocol.bluenet.const import SERVICE_UUID
from custom_components.ble_provisioning.protocol.bluenet.networks import (
    DaemonTimings,
    NetworkStreamGuard,
)

#: The daemon's timers, 100 times faster: 3 ms between SSIDs, 30 ms pause, first scan and
#: rescans every 200 ms, 2 ms join step, 20 ms of CONNECTING before a join, 60 ms before a
#: failure.
FAST = BluenetTimings.fast(0.01)

HOME = WifiNetwork("home", "correct horse")


def client_timings(timings: BluenetTimings) -> DaemonTimings:
    """The client's model of an emulated daemon: its list timers and the default margin.

    The waits for a first SSID and for a stalled stream keep a second of slack beyond the
    daemon's own silences, so that a loaded machine never looks like a stopped stream.
    """
    interval, pause = timings.notify_interval, timings.list_pause
    return DaemonTimings(
        notify_interval=interval,
        list_pause=pause,
        first_network_timeout=interval + 1.0,
        stall_timeout=2 * interval + pause + 1.0,
    )


def fast_config(**kwargs: Any) -> BluenetConfig:
    """A daemon config with fast timers and, by default, one secured network ``home``."""
    kwargs.setdefault("networks", [WifiNetwork("home", "correct horse")])
    kwargs.setdefault("timings", FAST)
    return BluenetConfig(**kwargs)


def premise(condition: bool, what: str) -> None:
    """Fail the test outright when its set-up did not hold (not an assertion about the client)."""
    if not condition:
        pytest.fail(f"premise not met: {what}")


async def find_device(radio: Radio, address: str) -> BLEDevice:
    """Discover the emulator the way Home Assistant would: by its service UUID."""

    def match(device: BLEDevice, adv: AdvertisementData) -> bool:
        return device.address.upper() == address and SERVICE_UUID in adv.service_uuids

    device = await BleakScanner.find_device_by_filter(
        match, timeout=30.0, backend=radio.scanner_backend
    )
    assert device is not None, "emulator not discovered"
    return device


Start = Callable[..., Awaitable[tuple[BluenetDaemonEmulator, BluenetClient]]]


@pytest.fixture
async def start_daemon(radio: Radio) -> AsyncIterator[Start]:
    """Put a daemon emulator on the radio; return it and a connected client.

    The client models the emulator's list timers (:func:`client_timings`).
    """
    emulators: list[BluenetDaemonEmulator] = []
    clients: list[BluenetClient] = []
    counter = 0

    async def start(
        config: BluenetConfig | None = None,
        *,
        connect: bool = True,
        max_mtu: int = 517,
        timeout: float = 30.0,
    ) -> tuple[BluenetDaemonEmulator, BluenetClient]:
        nonlocal counter
        counter += 1
        emulator = BluenetDaemonEmulator(
            config if config is not None else fast_config(),
            address=f"B0:0B:1E:00:00:{counter:02X}",
            max_mtu=max_mtu,
        )
        emulators.append(emulator)
        await radio.add_peripheral(emulator)
        device = await find_device(radio, emulator.address)
        client = BluenetClient(
            device,
            backend=radio.client_backend,
            timeout=timeout,
            network_guard=NetworkStreamGuard(client_timings(emulator.config.timings)),
        )
        clients.append(client)
        if connect:
            await client.connect()
        return emulator, client

    yield start
    for client in clients:
        await client.disconnect()
    for emulator in emulators:
        await emulator.close()
        assert not emulator.model._tasks, "emulator left tasks behind"
        assert not emulator.model._handles, "emulator left timers behind"
