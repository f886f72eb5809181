"""What every benchmark shares: the run's context, the radio set-up, the JSON report, a ticker.

A :class:`Context` says where and how the figures were taken (commit, leg, profile, connection
interval, load average, versions); :func:`write_report` writes a benchmark's figures with it as
JSON, so runs can be compared across commits. :class:`StallMeter` measures how late the event
loop runs a 1 ms ticker (the longest stall). :func:`bench_radio` starts a radio on a link
profile with one emulator and finds it the way a client does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import importlib.metadata
import json
import os
from pathlib import Path
import platform
import statistics
import subprocess
import sys
import time
from typing import Any, Self

from bleak import BleakScanner
from bleak.backends.device import BLEDevice

from bench.device import EmulatedPeripheral
from bench.link.profiles import get_profile
from bench.radio import Radio

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "artifacts" / "benchmarks"
TICK = 0.001


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", *args],  # noqa: S607 - git from PATH, as every script here
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def leg() -> str:
    """Which leg this interpreter is: ``floor`` (Python 3.13) or ``current`` (3.14+)."""
    override = os.environ.get("BENCH_LEG")
    if override:
        return override
    return "floor" if sys.version_info < (3, 14) else "current"


@dataclass(slots=True)
class Context:
    """Where and how a run took its figures."""

    profile: str
    interval_ms: float
    quick: bool = False
    commit: str | None = field(
        default_factory=lambda: os.environ.get("BENCH_COMMIT") or _git("rev-parse", "HEAD")
    )
    dirty: bool = field(
        default_factory=lambda: (
            os.environ["BENCH_DIRTY"] == "1"
            if "BENCH_DIRTY" in os.environ
            else bool(_git("status", "--porcelain"))
        )
    )
    leg: str = field(default_factory=leg)
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    load_average_start: float = field(default_factory=lambda: os.getloadavg()[0])
    load_samples: list[float] = field(default_factory=list)
    """1-minute load averages taken between sections (:meth:`sample`)."""

    def sample(self) -> None:
        """Note the load average now (the machine is shared: say how busy it was)."""
        self.load_samples.append(os.getloadavg()[0])

    @property
    def interval(self) -> float:
        """The connection interval in seconds."""
        return self.interval_ms / 1000

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly, with the versions and the load average now."""
        return {
            "commit": self.commit,
            "dirty": self.dirty,
            "leg": self.leg,
            "profile": self.profile,
            "interval_ms": self.interval_ms,
            "quick": self.quick,
            "started": self.started,
            "load_average_start": round(self.load_average_start, 2),
            "load_average_end": round(os.getloadavg()[0], 2),
            "load_average_between_sections": [round(value, 2) for value in self.load_samples],
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "versions": {
                name: _version(name)
                for name in (
                    "homeassistant",
                    "bleak",
                    "bleak-retry-connector",
                    "habluetooth",
                    "bumble",
                    "cryptography",
                )
            },
        }


def write_report(path: Path, context: Context, name: str, results: Any) -> Path:
    """Write ``results`` of benchmark ``name`` with ``context`` as JSON; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": name, "context": context.as_dict(), "results": results}
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def median(values: list[float]) -> float | None:
    """Median, or None for no values."""
    return statistics.median(values) if values else None


def ms(seconds: float | None, digits: int = 1) -> float | None:
    """Seconds to rounded milliseconds."""
    return None if seconds is None else round(seconds * 1000, digits)


class StallMeter:
    """A 1 ms ticker on the running loop; :attr:`worst` is its longest lateness (seconds)."""

    def __init__(self) -> None:
        """Not started (``async with``)."""
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(TICK)
            self.worst = max(self.worst, loop.time() - start - TICK)

    async def __aenter__(self) -> Self:
        """Start ticking."""
        self._task = asyncio.get_running_loop().create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Stop ticking."""
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def idle_stall(seconds: float) -> float:
    """Return the ticker's worst lateness over ``seconds`` of doing nothing else."""
    async with StallMeter() as meter:
        await asyncio.sleep(seconds)
    return meter.worst


@contextlib.asynccontextmanager
async def bench_radio(
    profile: str, interval: float, emulator: EmulatedPeripheral, *, mtu: int = 517
) -> AsyncIterator[tuple[Radio, BLEDevice]]:
    """Yield a started radio on ``profile`` at ``interval`` with ``emulator``, found by a scan."""
    radio = Radio(profile=get_profile(profile, interval=interval), mtu=mtu)
    async with radio:
        await radio.add_peripheral(emulator)
        try:
            found = await BleakScanner.find_device_by_address(
                emulator.address, timeout=10.0, backend=radio.scanner_backend
            )
            if found is None:
                msg = f"{emulator.address} was not found on the bench"
                raise RuntimeError(msg)
            yield radio, found
        finally:
            close = getattr(emulator, "close", None)
            if close is not None:
                await close()
