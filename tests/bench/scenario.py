"""The bench timing scenario shared by the stand-alone and the Home Assistant tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time
from typing import Any

from bench.device import GenericTestPeripheral as Generic

ROUND_TRIPS = 10


async def echo_round_trips_and_disconnect(client: Any) -> tuple[float, float]:
    """Do 10 write/notify round trips, then disconnect; return both end times."""
    received: asyncio.Queue[bytes] = asyncio.Queue()
    await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, d: received.put_nowait(bytes(d)))
    for i in range(ROUND_TRIPS):
        await client.write_gatt_char(Generic.WRITE_CHAR, bytes([i]) * 16, response=True)
        assert await asyncio.wait_for(received.get(), 1) == bytes([i]) * 16
    trips = time.perf_counter()
    await client.disconnect()
    return trips, time.perf_counter()


def report_timings(
    label: str,
    record_property: Callable[[str, object], None],
    *,
    started: float,
    found: float,
    connected: float,
    trips: float,
    done: float,
) -> dict[str, float]:
    """Print the scenario's timings (``bench_timings <label> ...``) and record them."""
    timings = {
        "discovery_ms": (found - started) * 1000,
        "connect_ms": (connected - found) * 1000,
        "round_trip_ms": (trips - connected) * 1000 / ROUND_TRIPS,
        "total_ms": (done - started) * 1000,
    }
    print(f"bench_timings {label} " + " ".join(f"{k}={v:.1f}" for k, v in timings.items()))  # noqa: T201
    for key, value in timings.items():
        record_property(key, round(value, 2))
    return timings
