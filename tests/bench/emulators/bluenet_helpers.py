"""Helpers of the Bluenet emulator tests: a daemon on the radio, driven with plain bleak.

Nothing here uses the project's client: the tests talk to the emulator through the bench's
bleak backend (``radio.client_backend``) only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
import pytest

from bench.emulators.bluenet import (
    SERVICE_UUID,
    BluenetConfig,
    BluenetDaemonEmulator,
    BluenetTimings,
    WifiNetwork,
)
from bench.radio import Radio

#: The daemon's timers, 100 times faster (ratios kept).
FAST = BluenetTimings.fast(0.01)
URL = "http://192.168.178.100:6543/-/"


def config(**kwargs: Any) -> BluenetConfig:
    """Fast timers and, unless given, one network ``home`` / ``correct horse``."""
    kwargs.setdefault("networks", [WifiNetwork("home", "correct horse")])
    kwargs.setdefault("timings", FAST)
    return BluenetConfig(**kwargs)


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``predicate()`` holds (the bound only stops a broken test)."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - emulator state has no event to await
            await asyncio.sleep(0.002)


def equals(get: Callable[[], object], value: object) -> Callable[[], bool]:
    """A predicate for :func:`wait_for`: ``get() == value`` (binds ``value`` now)."""
    return lambda: get() == value


def collect(into: list[bytes]) -> Callable[[Any, bytearray], None]:
    """A bleak notification callback appending the payloads to ``into``."""

    def callback(_sender: Any, data: bytearray) -> None:
        into.append(bytes(data))

    return callback


class Daemons:
    """Puts Bluenet emulators on a radio; :meth:`close` stops them and checks for leftovers."""

    def __init__(self, radio: Radio) -> None:
        """Bind to ``radio``."""
        self.radio = radio
        self.emulators: list[BluenetDaemonEmulator] = []

    async def start(
        self, daemon_config: BluenetConfig | None = None, *, max_mtu: int = 517
    ) -> tuple[BluenetDaemonEmulator, BLEDevice]:
        """Add a daemon; return it and the BLEDevice a scan found for it."""
        address = f"B0:0B:1E:00:01:{len(self.emulators) + 1:02X}"
        emulator = BluenetDaemonEmulator(
            daemon_config if daemon_config is not None else config(),
            address=address,
            max_mtu=max_mtu,
        )
        self.emulators.append(emulator)
        await self.radio.add_peripheral(emulator)

        def match(device: BLEDevice, adv: AdvertisementData) -> bool:
            return device.address.upper() == address and SERVICE_UUID in adv.service_uuids

        device = await BleakScanner.find_device_by_filter(
            match, timeout=5.0, backend=self.radio.scanner_backend
        )
        assert device is not None, "emulator not discovered"
        return emulator, device

    async def close(self) -> None:
        """Stop every daemon; none may leave a timer or a task behind."""
        for emulator in self.emulators:
            await emulator.close()
            assert not emulator.model._tasks, "emulator left tasks behind"
            assert not emulator.model._handles, "emulator left timers behind"


@pytest.fixture
async def daemons(radio: Radio) -> AsyncIterator[Daemons]:
    """Yield a :class:`Daemons` on the test's radio."""
    helper = Daemons(radio)
    yield helper
    await helper.close()
