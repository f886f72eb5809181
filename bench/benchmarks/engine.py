"""P4 without Home Assistant: the library's engine with N BluFi devices (V1/V2 alternating).

The devices are spread over ``adapters`` emulated adapters of ``slots`` connection slots each by
the engine's own slot accounting (``AdapterSlots`` with an adapter key); the bench has one
Bumble central, which serialises connection set-up (one pending LE connection at a time), as a
real controller does. The link profile and the connection interval apply to every connection.

Figures: total time, failures (with ``wrong`` devices whose access point has another password:
those must fail with their reason, the rest succeed), the most links up at once, the slots free
afterwards, per-device durations and retries; and the ideal, ``⌈N / (adapters·slots)⌉`` times
one provisioning (the mean of a V1 and a V2 device provisioned alone through the same engine).

``python -m bench.benchmarks.engine [--devices 20 50] [--slots 3] [--adapters 2] [--wrong 0]
[--profile bluez-local] [--interval-ms 30] [--json out.json]`` runs it alone.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
import contextlib
from dataclasses import dataclass
import json
import math
from pathlib import Path
import statistics
import sys
import time
from typing import Any

from bleak.backends.device import BLEDevice

from bench.device import EmulatedPeripheral
from bench.fleet import LinkCounter, close_fleet, mixed
from bench.link.profiles import get_profile
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.discovery import scan
from custom_components.ble_provisioning.protocol.engine import ProvisioningEngine, Target
from custom_components.ble_provisioning.protocol.models import ProvisionRequest
from custom_components.ble_provisioning.protocol.slots import AdapterSlots

from . import devices
from .harness import DEFAULT_DIR, Context, write_report
from .quiet import packet_strings_off

SSID = "HomeNet"
PASSWORD = "correct-horse-battery"
GOAL = 1.2
"""Issue 11: total time within 1.2 x the ideal."""
ADVERTISING_MS = 160.0
"""Advertising interval of a fleet's devices: ESP-IDF's BluFi example advertises every 0x100 x
0.625 ms. (The radio's default, 20 ms, is for tests that want devices found at once; 20 or 50
devices at 20 ms flood the one-process bench with reports a real fleet does not send.)"""


@dataclass(slots=True)
class FleetOnRadio:
    """A fleet on a started radio, scanned, with the adapter each device counts against."""

    radio: Radio
    targets: list[Target]
    adapter_key: Callable[[BLEDevice], str]

    def slots(self, slots: int) -> AdapterSlots:
        """``slots`` per emulated adapter."""
        return AdapterSlots(slots, adapter_key=self.adapter_key)


@contextlib.asynccontextmanager
async def fleet_on_radio(
    emulators: list[EmulatedPeripheral], *, profile: str, interval: float, adapters: int
) -> AsyncIterator[FleetOnRadio]:
    """Put ``emulators`` on a radio, find them all; device i counts against adapter i % N."""
    order = {emulator.address: index for index, emulator in enumerate(emulators)}

    def adapter_key(device: BLEDevice) -> str:
        return f"hci{order.get(device.address.upper(), 0) % adapters}"

    try:
        async with Radio(
            profile=get_profile(profile, interval=interval), advertising_interval_ms=ADVERTISING_MS
        ) as radio:
            for emulator in emulators:
                await radio.add_peripheral(emulator)
            found = await scan(
                60.0, backend=radio.scanner_backend, done=lambda seen: len(seen) >= len(emulators)
            )
            targets = [Target(item.ble_device, item.protocol, item.name) for item in found]
            yield FleetOnRadio(radio, targets, adapter_key)
    finally:
        await close_fleet(emulators)


async def run_once(
    count: int,
    *,
    slots: int,
    adapters: int,
    wrong: int,
    profile: str,
    interval: float,
    kinds: Sequence[str] = ("blufi-v1", "blufi-v2"),
) -> dict[str, Any]:
    """Provision ``count`` devices once; return the figures."""
    wrong_indices = set(range(1, 1 + wrong))
    emulators = devices.fleet(
        mixed(count, kinds), ssid=SSID, password=PASSWORD, wrong=wrong_indices
    )
    async with fleet_on_radio(
        emulators, profile=profile, interval=interval, adapters=adapters
    ) as fleet:
        links = LinkCounter(fleet.radio.client_backend)
        adapter_slots = fleet.slots(slots)
        engine = ProvisioningEngine(slots=adapter_slots, backend=links.backend)
        start, cpu = time.monotonic(), time.process_time()
        async with engine.provision(fleet.targets, ProvisionRequest(SSID, PASSWORD)) as run:
            results = await run.wait()
        total, cpu = time.monotonic() - start, time.process_time() - cpu
        free = {key: semaphore._value for key, semaphore in adapter_slots._semaphores.items()}
    durations = [result.duration for result in results if result.success]
    wrong_addresses = {emulators[index].address for index in wrong_indices}
    return {
        "devices": count,
        "adapters": adapters,
        "slots_per_adapter": slots,
        "total_s": round(total, 3),
        "failures": sum(1 for result in results if not result.success),
        "expected_failures": wrong,
        "unexpected": sorted(
            f"{result.address} {result.status}"
            for result in results
            if result.success == (result.address in wrong_addresses)
        ),
        "statuses": sorted({result.status for result in results}),
        "most_links_up": links.stats.most,
        "links_up_after": links.stats.up,
        "slots_free_after": free,
        "all_slots_free": all(value == slots for value in free.values()),
        "device_median_s": round(statistics.median(durations), 3) if durations else None,
        "device_max_s": round(max(durations), 3) if durations else None,
        "retries": sum(result.attempts - 1 for result in results),
        "process_cpu_s": round(cpu, 3),
        "process_cpu_share": round(cpu / total, 3) if total else None,
    }


async def one_provisioning(profile: str, interval: float) -> float:
    """Seconds one device takes alone through the engine: the mean of a V1 and a V2 device."""
    times = [
        (
            await run_once(
                1,
                slots=1,
                adapters=1,
                wrong=0,
                profile=profile,
                interval=interval,
                kinds=(kind,),
            )
        )["total_s"]
        for kind in ("blufi-v1", "blufi-v2")
    ]
    return float(statistics.mean(times))


async def run(
    profile: str,
    interval: float,
    scenarios: Sequence[tuple[int, int]] = ((20, 0), (50, 0), (20, 3)),
    *,
    slots: int = 3,
    adapters: int = 2,
) -> dict[str, Any]:
    """Each (devices, wrong passwords) scenario, against the ideal."""
    single = await one_provisioning(profile, interval)
    rows = []
    for count, wrong in scenarios:
        row = await run_once(
            count, slots=slots, adapters=adapters, wrong=wrong, profile=profile, interval=interval
        )
        ideal = math.ceil(count / (slots * adapters)) * single
        row["ideal_s"] = round(ideal, 3)
        row["of_ideal"] = round(row["total_s"] / ideal, 3) if ideal else None
        rows.append(row)
    return {"one_provisioning_s": round(single, 3), "scenarios": rows}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.benchmarks.engine")
    parser.add_argument("--devices", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--slots", type=int, default=3)
    parser.add_argument("--adapters", type=int, default=2)
    parser.add_argument("--wrong", type=int, default=0, help="devices with a wrong password")
    parser.add_argument("--profile", default="bluez-local")
    parser.add_argument("--interval-ms", type=float, default=30.0)
    parser.add_argument("--json", type=Path, default=DEFAULT_DIR / "engine.json")
    options = parser.parse_args(argv)
    context = Context(profile=options.profile, interval_ms=options.interval_ms)
    with packet_strings_off():
        results = asyncio.run(
            run(
                options.profile,
                context.interval,
                [(count, options.wrong) for count in options.devices],
                slots=options.slots,
                adapters=options.adapters,
            )
        )
    write_report(options.json, context, "engine", results)
    sys.stdout.write(json.dumps(results["scenarios"], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
