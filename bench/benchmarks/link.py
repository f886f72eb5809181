"""Round trips on each link profile at real connection intervals.

Run ``python -m bench.benchmarks.link`` (``--help`` for the options). For every stand-alone link
profile (``ideal``, ``bluez-local``) and connection interval (30 ms and 7.5 ms by default, plus
0 for reference) it connects to a bench peripheral through bleak-retry-connector's
``establish_connection`` and measures, on a fresh radio per run:

* **connect**: the first connection (link, MTU exchange, service discovery), and the ATT
  exchanges it took;
* **reconnect**: a second connection (``bluez-local``: services from the cache);
* **write**: back-to-back writes with response, per exchange;
* **read**: back-to-back reads, per exchange;
* **echo**: a write with response and the notification it triggers, per round trip.

It prints a table (medians over the runs) and writes every run as JSON (default
``artifacts/benchmarks/link.json``) with the machine's load average. The model behind the
figures is in :mod:`bench.link.air`: with an interval I a back-to-back exchange should cost
about 2·I (request at one connection event, response at the next, next request at the one
after), which the ``write / I`` column shows. The ``esphome-proxy`` profile needs Home
Assistant and is not measured here.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import importlib.metadata
import json
import os
from pathlib import Path
import platform
import statistics
import sys
import time
from typing import Any

from bleak import BleakScanner
import bleak_retry_connector

from bench.device import GenericTestPeripheral as Generic
from bench.link.profiles import BLUEZ_LOCAL, IDEAL, get_profile
from bench.radio import Radio

DEFAULT_JSON = Path(__file__).resolve().parents[2] / "artifacts" / "benchmarks" / "link.json"
ADDRESS = "AA:BB:CC:DD:EE:01"
FIGURES = ("connect", "reconnect", "write", "read", "echo")


async def _measure(profile: str, interval_ms: float, exchanges: int) -> dict[str, float]:
    """One run: a fresh radio and peripheral; every figure in milliseconds."""
    radio = Radio(profile=get_profile(profile, interval=interval_ms / 1000))
    peripheral = Generic(address=ADDRESS, echo=False)
    async with radio:
        await radio.add_peripheral(peripheral)
        device = await BleakScanner.find_device_by_address(
            ADDRESS, timeout=10.0, backend=radio.scanner_backend
        )
        if device is None:
            msg = "the bench peripheral was not found"
            raise RuntimeError(msg)
        loop = asyncio.get_running_loop()

        async def connect() -> tuple[Any, float]:
            start = loop.time()
            client = await bleak_retry_connector.establish_connection(
                bleak_retry_connector.BleakClientWithServiceCache,
                device,
                "benchmark",
                backend=radio.client_backend,
                max_attempts=1,
            )
            return client, (loop.time() - start) * 1000

        client, connect_ms = await connect()
        state = radio.link.link(ADDRESS)
        connect_exchanges = state.exchanges if state is not None else 0
        await client.disconnect()
        client, reconnect_ms = await connect()

        start = loop.time()
        for i in range(exchanges):
            await client.write_gatt_char(Generic.WRITE_CHAR, bytes([i]) * 16, response=True)
        write_ms = (loop.time() - start) * 1000 / exchanges

        start = loop.time()
        for _ in range(exchanges):
            await client.read_gatt_char(Generic.READ_CHAR)
        read_ms = (loop.time() - start) * 1000 / exchanges

        peripheral.echo = True
        received: asyncio.Queue[bytes] = asyncio.Queue()
        await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, d: received.put_nowait(d))
        start = loop.time()
        for i in range(exchanges):
            await client.write_gatt_char(Generic.WRITE_CHAR, bytes([i]) * 16, response=True)
            await asyncio.wait_for(received.get(), 10)
        echo_ms = (loop.time() - start) * 1000 / exchanges
        await client.disconnect()
    return {
        "connect": connect_ms,
        "connect_exchanges": float(connect_exchanges),
        "reconnect": reconnect_ms,
        "write": write_ms,
        "read": read_ms,
        "echo": echo_ms,
    }


def _environment() -> dict[str, Any]:
    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "bleak": version("bleak"),
        "bumble": version("bumble"),
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg()[0],
    }


async def run(
    profiles: Sequence[str], intervals: Sequence[float], runs: int, exchanges: int
) -> dict[str, Any]:
    """Measure every profile at every interval ``runs`` times."""
    environment = _environment()
    results: list[dict[str, Any]] = []
    for profile in profiles:
        for interval in intervals:
            measured = [await _measure(profile, interval, exchanges) for _ in range(runs)]
            medians = {key: statistics.median(run[key] for run in measured) for key in measured[0]}
            results.append(
                {"profile": profile, "interval_ms": interval, "median": medians, "runs": measured}
            )
    environment["load_average_end"] = os.getloadavg()[0]
    return {
        "benchmark": "link",
        "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": runs,
        "exchanges": exchanges,
        "environment": environment,
        "results": results,
    }


def format_table(report: dict[str, Any]) -> str:
    """Format the medians as a text table (milliseconds)."""
    header = (
        f"{'profile':<12} {'interval':>8} {'connect':>8} {'(ATT)':>5} {'reconn.':>8} "
        f"{'write':>7} {'read':>7} {'echo':>7} {'write/I':>7}"
    )
    lines = [header, "-" * len(header)]
    for result in report["results"]:
        median = result["median"]
        interval = result["interval_ms"]
        ratio = f"{median['write'] / interval:.2f}" if interval else "-"
        lines.append(
            f"{result['profile']:<12} {interval:>8g} {median['connect']:>8.1f} "
            f"{median['connect_exchanges']:>5.0f} {median['reconnect']:>8.1f} "
            f"{median['write']:>7.2f} {median['read']:>7.2f} {median['echo']:>7.2f} {ratio:>7}"
        )
    environment = report["environment"]
    lines.append(
        f"medians of {report['runs']} runs, {report['exchanges']} exchanges each; load average "
        f"{environment['load_average_start']:.2f} -> {environment['load_average_end']:.2f}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.benchmarks.link",
        description="Round trips on each link profile (see the module docstring).",
    )
    parser.add_argument("--profiles", nargs="+", default=[IDEAL, BLUEZ_LOCAL], help="link profiles")
    parser.add_argument(
        "--intervals",
        nargs="+",
        type=float,
        default=[30.0, 7.5, 0.0],
        help="connection intervals in ms (default 30 7.5 0)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per cell (default 3)")
    parser.add_argument(
        "--exchanges", type=int, default=20, help="exchanges per figure (default 20)"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args.profiles, args.intervals, args.runs, args.exchanges))
    sys.stdout.write(format_table(report) + "\n")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"written: {args.json}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
