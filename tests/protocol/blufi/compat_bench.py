"""The seed-compatible ``BlufiClient`` on the bench: radio and emulator on the client's loop.

:class:`BenchBlufiClient` is ``compat.BlufiClient`` whose constructor also starts a bench radio
with one emulated ESP32 on the client's own event-loop thread (Bumble objects belong to one
loop) and points the client's bleak backends at it. Tests put it in place of
``compat.BlufiClient`` so that a pyBlufi-style script, which creates its client itself with
``blufi.BlufiClient()``, runs unchanged against the bench.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
import threading
from typing import Any

import pytest

from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.blufi import compat

from .conftest import default_networks


class BenchBlufiClient(compat.BlufiClient):
    """``compat.BlufiClient`` with its own bench radio and one emulated ESP32."""

    profile = "v5.5"
    config_factory: Callable[[], BlufiDeviceConfig] = staticmethod(
        lambda: BlufiDeviceConfig(networks=default_networks(), seed=5)
    )
    made: list[BenchBlufiClient] = []  # noqa: RUF012 - reset by the fixture
    custom: list[bytes]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start the client's loop, then the radio and the device on it."""
        super().__init__(*args, **kwargs)
        self.custom = []
        self.device = Esp32BlufiEmulator(self.config_factory(), profile=self.profile)
        self.radio: Radio = self._run(self._start())
        self._client_backend = self.radio.client_backend
        self._scanner_backend = self.radio.scanner_backend
        BenchBlufiClient.made.append(self)

    async def _start(self) -> Radio:
        radio = Radio()
        await radio.start()
        await radio.add_peripheral(self.device)
        return radio

    async def _stop(self) -> None:
        await self.device.close()
        await self.radio.stop()

    def onCustomData(self, data: bytes) -> None:  # noqa: N802
        """Keep what the device sent."""
        self.custom.append(data)

    def shut_down(self) -> None:
        """Disconnect, stop the radio, close the client (its loop and threads)."""
        if not self._loop.is_closed():
            with contextlib.suppress(Exception):
                self.disconnect()
            self._run(self._stop())
        self.close()


def networks_with(*extra: WifiAp) -> Callable[[], BlufiDeviceConfig]:
    """A config factory with the default networks plus ``extra``."""
    return lambda: BlufiDeviceConfig(networks=[*default_networks(), *extra], seed=5)


@contextlib.contextmanager
def bench_clients(
    monkeypatch: pytest.MonkeyPatch,
    profile: str = "v5.5",
    config: Callable[[], BlufiDeviceConfig] | None = None,
) -> Iterator[type[BenchBlufiClient]]:
    """Make ``compat.BlufiClient()`` a bench client; shut every one down afterwards."""
    threads_before = set(threading.enumerate())
    bench_cls = type(
        "BenchClient",
        (BenchBlufiClient,),
        {"profile": profile, **({"config_factory": staticmethod(config)} if config else {})},
    )
    BenchBlufiClient.made = []
    monkeypatch.setattr(compat, "BlufiClient", bench_cls)
    try:
        yield bench_cls
    finally:
        for client in BenchBlufiClient.made:
            client.shut_down()
        BenchBlufiClient.made = []
    # close() leaves no thread behind: the loop thread and its executor threads are joined
    left = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert not left, left
