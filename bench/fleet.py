"""Many emulated devices at once, for the batch engine's tests, the console command and benchmarks.

:func:`build_fleet` makes emulators from a spec such as ``"blufi-v1:3,blufi-v2:3,bluenet:2"``, all
with one access point (``ssid`` / ``password``); devices listed in ``wrong`` have an access point
with another password (their join fails as with a wrong password), devices listed in ``flaky``
drop the BLE link once, in the middle of their first provisioning. :class:`LinkCounter` wraps a
bleak client backend and counts the connections that are up (now and at most).

No Home Assistant import, nothing of the client library: only the emulators.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, ClassVar

from bleak.backends.client import BaseBleakClient

from .bleak_backend import BumbleBleakClient
from .device import Connection, EmulatedPeripheral
from .emulators.bluenet import (
    BluenetConfig,
    BluenetDaemonEmulator,
    BluenetTimings,
    WifiNetwork as BluenetNetwork,
)
from .emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp

KINDS = ("blufi-v1", "blufi-v2", "bluenet")
_PROFILES = {"blufi-v1": "v5.5", "blufi-v2": "v6.0"}
WRONG_PASSWORD = "not-the-password"
FLAKY_AT_WRITE = 2
"""Write index (0-based, per connection) at which a flaky BluFi device drops the link."""


def parse_spec(spec: str) -> list[str]:
    """``"blufi-v1:2,bluenet:1"`` → ``["blufi-v1", "blufi-v1", "bluenet"]``."""
    kinds: list[str] = []
    for part in filter(None, (item.strip() for item in spec.split(","))):
        kind, _, count = part.partition(":")
        if kind not in KINDS:
            msg = f"unknown device kind {kind!r} (one of {', '.join(KINDS)})"
            raise ValueError(msg)
        kinds.extend([kind] * int(count or 1))
    return kinds


def mixed(count: int, kinds: Collection[str] = ("blufi-v1", "blufi-v2")) -> list[str]:
    """``count`` kinds taken in turn from ``kinds`` (e.g. alternating V1 / V2)."""
    ordered = list(kinds)
    return [ordered[index % len(ordered)] for index in range(count)]


class FlakyBlufiEmulator(Esp32BlufiEmulator):
    """A BluFi device that drops the link at write :data:`FLAKY_AT_WRITE` of its first link."""

    def __init__(self, *args: Any, drops: int = 1, **kwargs: Any) -> None:
        """Drop the link ``drops`` times, then behave."""
        super().__init__(*args, **kwargs)
        self.drops = drops
        self.model.config.faults.disconnect_at_write = FLAKY_AT_WRITE if drops else None

    def on_disconnect(self, connection: Connection, reason: int) -> None:
        """Count a drop; after the last one the device behaves."""
        super().on_disconnect(connection, reason)
        if self.drops > 0:
            self.drops -= 1
        if self.drops <= 0:
            self.model.config.faults.disconnect_at_write = None


def address_of(kind: str, index: int) -> str:
    """Deterministic address: BluFi ``24:0A:C4:10:HH:LL``, Bluenet ``B0:0B:1E:10:HH:LL``."""
    prefix = "B0:0B:1E:10" if kind == "bluenet" else "24:0A:C4:10"
    return f"{prefix}:{index >> 8 & 0xFF:02X}:{index & 0xFF:02X}"


def build_fleet(
    kinds: list[str],
    *,
    ssid: str = "HomeNet",
    password: str = "correct-horse-battery",
    wrong: Collection[int] = (),
    flaky: Collection[int] = (),
    drops: int = 1,
    dh_private_bits: int | None = None,
) -> list[EmulatedPeripheral]:
    """One emulator per kind; ``wrong`` / ``flaky`` are indices into ``kinds``.

    ``dh_private_bits``: the BluFi devices' DH private value size (None: as the firmware, 3072
    bits for V2, ~1 s of CPU per negotiation; tests pass a small one).
    """
    emulators: list[EmulatedPeripheral] = []
    for index, kind in enumerate(kinds, start=1):
        ap_password = WRONG_PASSWORD if index - 1 in wrong else password
        address = address_of(kind, index)
        if kind == "bluenet":
            config = BluenetConfig(
                networks=[BluenetNetwork(ssid, ap_password)], timings=BluenetTimings.fast(0.01)
            )
            emulators.append(BluenetDaemonEmulator(config, address=address))
            continue
        blufi = BlufiDeviceConfig(
            name=f"BLUFI_DEVICE-{index:02d}",
            networks=[WifiAp(ssid, -50, ap_password)],
            seed=index,
            dh_private_bits=dh_private_bits,
        )
        if index - 1 in flaky:
            emulators.append(
                FlakyBlufiEmulator(blufi, profile=_PROFILES[kind], address=address, drops=drops)
            )
        else:
            emulators.append(Esp32BlufiEmulator(blufi, profile=_PROFILES[kind], address=address))
    return emulators


async def close_fleet(emulators: list[EmulatedPeripheral]) -> None:
    """Stop every emulator's tasks and timers."""
    for emulator in emulators:
        close = getattr(emulator, "close", None)
        if close is not None:
            await close()


@dataclass(slots=True)
class LinkStats:
    """Connections that are up now, the most at once, and how many were made."""

    up: int = 0
    most: int = 0
    made: int = 0


class _CountingClient(BumbleBleakClient):
    stats: ClassVar[LinkStats]
    _bench_counted = False

    async def connect(self, pair: bool = False, **kwargs: Any) -> Any:
        result = await super().connect(pair, **kwargs)
        if self.is_connected and not self._bench_counted:
            self._bench_counted = True
            stats = self.stats
            stats.up += 1
            stats.made += 1
            stats.most = max(stats.most, stats.up)
        return result

    def _on_disconnection(self, reason: int) -> None:
        if self._bench_counted:
            self._bench_counted = False
            self.stats.up -= 1
        super()._on_disconnection(reason)


class LinkCounter:
    """Wrap a radio's client backend; :attr:`stats` counts the links that are up."""

    def __init__(self, backend: type[BaseBleakClient]) -> None:
        """Make a counting subclass of ``backend`` (a bench Bumble client class)."""
        if not issubclass(backend, BumbleBleakClient):
            msg = "LinkCounter wraps a bench client backend"
            raise TypeError(msg)
        self.stats = LinkStats()
        self.backend: type[BaseBleakClient] = type(
            f"Counting{backend.__name__}", (_CountingClient, backend), {"stats": self.stats}
        )
