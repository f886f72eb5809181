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

#: The daemon's timers, 100 times faster: 3 ms between SSIDs, 30 ms pause, first scan and
#: rescans every 200 ms, 2 ms join step, 20 ms of CONNECTING before a join, 60 ms before a
#: failure.
FAST = BluenetTimings.fast(0.01)

HOME = WifiNetwork("home", "correct horse")


def fast_config(**kwargs: Any) -> BluenetConfig:
    """A daemon config with fast timers and, by default, one secured network ``home``."""
    kwargs.setdefault("networks", [WifiNetwork("home", "correct horse")])
    kwargs.setdefault("timings", FAST)
    return BluenetConfig(**kwargs)


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
    """Put a daemon emulator on the radio; return it and a connected client."""
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
        client = BluenetClient(device, backend=radio.client_backend, timeout=timeout)
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
