"""The batch engine on the bench: N emulated BluFi devices (V1/V2 alternating) over 2 adapters.

``python -m bench.benchmarks.engine [--devices 20 50] [--slots 3] [--adapters 2]
[--wrong 0] [--interval-ms 0] [--json out.json]`` prints a table and writes JSON: total time,
failures, the most connections up at once, slots free afterwards, per-device duration.

The adapters are emulated by the engine's per-adapter slot accounting (``AdapterSlots`` with an
adapter key that spreads the devices over ``--adapters``); the bench has one Bumble central, which
serialises connection set-up (one pending LE connection at a time), as a real controller does.
``--interval-ms`` is the per-ATT-exchange latency of a link profile; the radio gets it once the
bench models link profiles (until then only 0 is accepted).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
from pathlib import Path
import statistics
import time
from typing import Any

from bleak.backends.device import BLEDevice

from custom_components.ble_provisioning.protocol.discovery import scan
from custom_components.ble_provisioning.protocol.engine import ProvisioningEngine, Target
from custom_components.ble_provisioning.protocol.models import ProvisionRequest
from custom_components.ble_provisioning.protocol.slots import AdapterSlots

from ..fleet import LinkCounter, build_fleet, close_fleet, mixed
from ..radio import Radio

SSID = "HomeNet"
PASSWORD = "correct-horse-battery"


def make_radio(interval_ms: float) -> Radio:
    """Return a radio with the link profile's per-exchange latency, where the bench supports it."""
    if not interval_ms:
        return Radio()
    if "connection_interval_ms" in inspect.signature(Radio).parameters:
        return Radio(connection_interval_ms=interval_ms)  # type: ignore[call-arg]
    msg = "this bench has no link profiles yet: only --interval-ms 0"
    raise SystemExit(msg)


async def run_once(
    count: int, *, slots: int, adapters: int, wrong: int, interval_ms: float
) -> dict[str, Any]:
    """Provision ``count`` devices once; return the figures."""
    emulators = build_fleet(
        mixed(count), ssid=SSID, password=PASSWORD, wrong=set(range(1, 1 + wrong))
    )
    order = {emulator.address: index for index, emulator in enumerate(emulators)}

    def adapter_key(device: BLEDevice) -> str:
        return f"hci{order.get(device.address.upper(), 0) % adapters}"

    try:
        async with make_radio(interval_ms) as radio:
            for emulator in emulators:
                await radio.add_peripheral(emulator)
            found = await scan(
                60.0, backend=radio.scanner_backend, done=lambda seen: len(seen) >= count
            )
            links = LinkCounter(radio.client_backend)
            adapter_slots = AdapterSlots(slots, adapter_key=adapter_key)
            engine = ProvisioningEngine(slots=adapter_slots, backend=links.backend)
            targets = [Target(item.ble_device, item.protocol, item.name) for item in found]
            start = time.monotonic()
            async with engine.provision(targets, ProvisionRequest(SSID, PASSWORD)) as run:
                results = await run.wait()
            total = time.monotonic() - start
            free = {key: semaphore._value for key, semaphore in adapter_slots._semaphores.items()}
    finally:
        await close_fleet(emulators)
    durations = [result.duration for result in results if result.success]
    return {
        "devices": count,
        "adapters": adapters,
        "slots_per_adapter": slots,
        "interval_ms": interval_ms,
        "total_s": round(total, 3),
        "failures": sum(1 for result in results if not result.success),
        "expected_failures": wrong,
        "statuses": sorted({result.status for result in results}),
        "most_links_up": links.stats.most,
        "links_up_after": links.stats.up,
        "slots_free_after": free,
        "all_slots_free": all(value == slots for value in free.values()),
        "device_median_s": round(statistics.median(durations), 3) if durations else None,
        "device_max_s": round(max(durations), 3) if durations else None,
        "retries": sum(result.attempts - 1 for result in results),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    columns = (
        "devices", "adapters", "slots_per_adapter", "interval_ms", "total_s", "failures",
        "most_links_up", "all_slots_free", "device_median_s", "device_max_s", "retries",
    )  # fmt: skip
    lines = ["  ".join(columns)]
    lines += ["  ".join(str(row[column]).ljust(len(column)) for column in columns) for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.benchmarks.engine")
    parser.add_argument("--devices", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--slots", type=int, default=3)
    parser.add_argument("--adapters", type=int, default=2)
    parser.add_argument("--wrong", type=int, default=0, help="devices with a wrong password")
    parser.add_argument("--interval-ms", type=float, default=0.0)
    parser.add_argument("--json", default="engine-benchmark.json")
    options = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for count in options.devices:
        rows.append(
            asyncio.run(
                run_once(
                    count,
                    slots=options.slots,
                    adapters=options.adapters,
                    wrong=options.wrong,
                    interval_ms=options.interval_ms,
                )
            )
        )
        # Written after each size, so that a long run still leaves its figures.
        Path(options.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(_table(rows))  # noqa: T201 - a command's output


if __name__ == "__main__":
    main()
