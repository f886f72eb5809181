"""BluFi figures on the bench: what a provisioning costs, how long V2 takes, how the loop fares.

Run ``python -m bench.benchmarks.blufi_figures`` (``--help`` for the options). It prints a table
and writes the same figures as JSON (default ``artifacts/benchmarks/blufi_figures.json``).
These figures were assertions in the test suite once; timing and exact counts of status polls
depend on the machine's load, so they are measured here and the tests check behaviour.

* **provisioning** (ESP-IDF v5.5 / V1 and v6.0 / V2 profiles, MTU 517, firmware-faithful device
  DH: 3072-bit private value for V2): ATT writes, notifications, status polls and wall time
  from connect to disconnect of one ``provision()``, fresh device each run.
* **V2 negotiation**: wall time of one ``negotiate_security()`` on an open link and the longest
  event-loop stall during it, seen by a 1 ms ticker task (client and emulated device share the
  loop, so the device's own DH counts too; the OS scheduling other processes counts as well:
  read the minimum, and the load average recorded with the figures).
* **soak**: ``--negotiations`` V1 and V2 negotiations on one connection, each proven by an
  encrypted GET_VERSION round trip, 256-bit DH private values on both sides (as the ``soak``
  tests): total and per-negotiation time, secrets with a leading zero byte, failures.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Sequence
import contextlib
from dataclasses import dataclass, field
import importlib.metadata
import json
import os
from pathlib import Path
import platform
import statistics
import sys
import time
from types import TracebackType
from typing import Any, Self

from bleak import BleakScanner
from bleak.backends.device import BLEDevice

from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.blufi import (
    SERVICE_UUID,
    AsyncBlufiClient,
    BlufiSecurity,
    BlufiVersion,
    ControlSubtype,
    ProvisionOutcome,
)
from custom_components.ble_provisioning.protocol.blufi.dh import DhGroup
from custom_components.ble_provisioning.protocol.blufi.security import (
    BlufiSession,
    V1Session,
    V2Session,
)

DEFAULT_JSON = (
    Path(__file__).resolve().parents[2] / "artifacts" / "benchmarks" / "blufi_figures.json"
)
PROFILES = {"V1": ("v5.5", BlufiSecurity.V1), "V2": ("v6.0", BlufiSecurity.V2)}


def _networks() -> list[WifiAp]:
    return [
        WifiAp("HomeNet", rssi=-45, password="password1", bssid="a4:cf:12:34:56:78"),
        WifiAp("Office-5G", rssi=-67, password="office-pass"),
        WifiAp("Cafe Free WiFi", rssi=-81),
    ]


@dataclass
class Figure:
    """One measured quantity over several runs."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)
    note: str = ""

    def summary(self) -> dict[str, Any]:
        """Min, median and max of the runs (and the runs themselves)."""
        return {
            "unit": self.unit,
            "min": min(self.values),
            "median": statistics.median(self.values),
            "max": max(self.values),
            "runs": self.values,
            "note": self.note,
        }


class StallMeter:
    """A 1 ms ticker task recording how late the event loop runs it (the longest stall)."""

    def __init__(self) -> None:
        """Create the meter; it runs inside ``with``."""
        self.max_late = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(0.001)
            self.max_late = max(self.max_late, loop.time() - start - 0.001)

    def __enter__(self) -> Self:
        """Start ticking."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop ticking."""
        assert self._task is not None
        self._task.cancel()


@contextlib.asynccontextmanager
async def _device(
    profile: str, config: BlufiDeviceConfig
) -> AsyncIterator[tuple[Radio, Esp32BlufiEmulator, BLEDevice]]:
    """Start a radio with one BluFi emulator; find it the way the official apps do."""
    device = Esp32BlufiEmulator(config, profile=profile)
    async with Radio(mtu=517) as radio:
        await radio.add_peripheral(device)
        try:
            found = await BleakScanner.find_device_by_filter(
                lambda _d, adv: SERVICE_UUID in adv.service_uuids,
                timeout=10.0,
                backend=radio.scanner_backend,
            )
            if found is None:
                raise RuntimeError("the emulated BluFi device was not found")
            yield radio, device, found
        finally:
            await device.close()


async def provisioning_figures(security: str, runs: int) -> dict[str, Figure]:
    """One full provisioning per run, each on a fresh device."""
    profile, _ = PROFILES[security]
    figures = {
        "wall": Figure(f"{security} provisioning", "ms", note="connect to disconnect"),
        "writes": Figure(f"{security} provisioning ATT writes", "writes"),
        "notifications": Figure(f"{security} provisioning notifications", "notifications"),
        "polls": Figure(
            f"{security} provisioning status polls",
            "polls",
            note="GET_WIFI_STATUS sent before the pushed report arrived (load-dependent)",
        ),
    }
    for run in range(runs):
        config = BlufiDeviceConfig(networks=_networks(), seed=11 + run)
        async with _device(profile, config) as (radio, device, found):
            client = AsyncBlufiClient(found, backend=radio.client_backend, timeout=30.0)
            start = time.perf_counter()
            result = await client.provision("HomeNet", "password1", poll_interval=0.05)
            wall = time.perf_counter() - start
            if result.outcome is not ProvisionOutcome.CONNECTED:
                raise RuntimeError(f"provisioning ended {result.outcome}")
            model = device.model
            figures["wall"].values.append(round(wall * 1000, 1))
            figures["writes"].values.append(len(model.writes))
            figures["notifications"].values.append(len(model.notifications))
            figures["polls"].values.append(
                sum(1 for m in model.messages if m[1] == ControlSubtype.GET_WIFI_STATUS)
            )
    return figures


async def v2_negotiation_figures(runs: int) -> dict[str, Figure]:
    """Negotiate V2 ``runs`` times on one link: wall time and the longest event-loop stall."""
    wall = Figure("V2 negotiation", "ms", note="ffdhe3072, device private value 3072 bits")
    stall = Figure(
        "V2 negotiation: longest event-loop stall",
        "ms",
        note="1 ms ticker; includes the device's DH and other processes' CPU time",
    )
    config = BlufiDeviceConfig(networks=_networks(), seed=12)
    async with _device("v6.0", config) as (radio, _, found):
        client = AsyncBlufiClient(found, backend=radio.client_backend, timeout=30.0)
        async with client:
            await client.get_version()
            for _ in range(runs):
                with StallMeter() as meter:
                    start = time.perf_counter()
                    if await client.negotiate_security() is not BlufiSecurity.V2:
                        raise RuntimeError("V2 expected")
                    wall.values.append(round((time.perf_counter() - start) * 1000, 1))
                stall.values.append(round(meter.max_late * 1000, 1))
    return {"wall": wall, "stall": stall}


async def soak_figures(security: str, count: int) -> dict[str, Figure]:
    """``count`` negotiations of one security version on one connection."""
    profile, sec = PROFILES[security]
    sessions: list[BlufiSession] = []

    def factory(group: DhGroup) -> BlufiSession:
        cls = V1Session if group.security is BlufiSecurity.V1 else V2Session
        session = cls(bits=256, group=group)
        sessions.append(session)
        return session

    expected = BlufiVersion(1, 3) if sec is BlufiSecurity.V1 else BlufiVersion(1, 4)
    config = BlufiDeviceConfig(networks=_networks(), seed=13, dh_private_bits=256)
    async with _device(profile, config) as (radio, device, found):
        client = AsyncBlufiClient(found, backend=radio.client_backend, timeout=30.0)
        client.session_factory = factory
        failures = 0
        start = time.perf_counter()
        async with client:
            for _ in range(count):
                ok = await client.negotiate_security(sec) is sec
                failures += not (ok and await client.get_version() == expected)
        wall = time.perf_counter() - start
        failures += len(device.model.errors_sent)
    zeros = sum(1 for s in sessions if s.secret_padded and s.secret_padded[0] == 0)
    return {
        "total": Figure(f"{count} {security} negotiations", "s", [round(wall, 2)]),
        "each": Figure(f"{security} negotiation (soak)", "ms", [round(wall / count * 1000, 2)]),
        "leading_zero": Figure(f"{security} secrets with a leading zero", "secrets", [zeros]),
        "failures": Figure(f"{security} soak failures", "failures", [failures]),
    }


def _environment() -> dict[str, Any]:
    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "bleak": version("bleak"),
        "bumble": version("bumble"),
        "load_average_start": os.getloadavg()[0],
    }


async def run(runs: int, negotiations: int) -> dict[str, Any]:
    """Measure every figure; return them with the environment they were measured in."""
    environment = _environment()
    figures: list[Figure] = []
    for security in PROFILES:
        figures += (await provisioning_figures(security, runs)).values()
    figures += (await v2_negotiation_figures(runs)).values()
    if negotiations > 0:
        for security in PROFILES:
            figures += (await soak_figures(security, negotiations)).values()
    environment["load_average_end"] = os.getloadavg()[0]
    return {
        "benchmark": "blufi_figures",
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": runs,
        "negotiations": negotiations,
        "environment": environment,
        "figures": {f.name: f.summary() for f in figures},
    }


def table(report: dict[str, Any]) -> str:
    """Format the figures as a plain-text table."""
    env = report["environment"]
    lines = [
        f"BluFi figures: Python {env['python']}, bleak {env['bleak']}, bumble {env['bumble']}, "
        f"{env['cpus']} CPUs, load average {env['load_average_start']:.2f} -> "
        f"{env['load_average_end']:.2f}",
        f"{'figure':<48} {'unit':>13} {'min':>9} {'median':>9} {'max':>9}",
    ]
    for name, fig in report["figures"].items():
        lines.append(
            f"{name:<48} {fig['unit']:>13} {fig['min']:>9g} {fig['median']:>9g} {fig['max']:>9g}"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.benchmarks.blufi_figures",
        description="BluFi figures on the bench (see the module docstring).",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument(
        "--negotiations",
        type=int,
        default=1000,
        help="negotiations per security version in the soak (default 1000; 0 skips it)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.negotiations < 0:
        parser.error("--runs must be >= 1 and --negotiations >= 0")
    report = asyncio.run(run(args.runs, args.negotiations))
    sys.stdout.write(table(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"written: {args.json}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
