"""P2: the longest event-loop stall during a security negotiation, against the idle baseline.

One connection to a BluFi device (V2: BluFi 1.4, and V1 for comparison) on the chosen link;
``runs`` negotiations, each watched by a 1 ms ticker task (:class:`~.harness.StallMeter`):
its worst lateness is the longest time the loop could not run anything. The baseline is the
same ticker over windows as long as a negotiation with the link up and nothing else running.
Client and emulated device share the loop: the device's own DH (a 256-bit private value, a
few milliseconds at most) counts in the stall, and so does every other process on the machine
(read the baseline and the load average with the figures).
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from custom_components.ble_provisioning.protocol.blufi import AsyncBlufiClient, BlufiSecurity
from custom_components.ble_provisioning.protocol.blufi.dh import V2_GROUP, generate_key_pair
from custom_components.ble_provisioning.protocol.blufi.security import session_for

from . import devices
from .harness import StallMeter, bench_radio, idle_stall, ms


async def _negotiations(profile: str, interval: float, security: str, runs: int) -> dict[str, Any]:
    wanted = BlufiSecurity.V2 if security == "V2" else BlufiSecurity.V1
    emulator = devices.blufi(security, seed=7)
    walls: list[float] = []
    stalls: list[float] = []
    async with bench_radio(profile, interval, emulator) as (radio, found):
        client = AsyncBlufiClient(found, backend=radio.client_backend, timeout=30.0)
        async with client:
            await client.get_version()
            await client.negotiate_security(wanted)  # warm-up (first thread-pool use)
            loop = asyncio.get_running_loop()
            for _ in range(runs):
                async with StallMeter() as meter:
                    start = loop.time()
                    chosen = await client.negotiate_security(wanted)
                    walls.append(loop.time() - start)
                if chosen is not wanted:
                    msg = f"{security} negotiation ended with {chosen}"
                    raise RuntimeError(msg)
                stalls.append(meter.worst)
            window = statistics.median(walls)
            idle = [await idle_stall(window) for _ in range(runs)]
    return _figures(walls, stalls, idle, runs)


async def _client_dh(runs: int) -> dict[str, Any]:
    """Time the V2 client's own DH work alone: key pair and derivation, as the client runs them.

    The client makes its session and derives the key in executor threads
    (``negotiation.py``); here the same calls run with no device and no radio on the loop, so
    the stall is the client's share of the negotiation's (the device's DH and the bench's
    packet handling run on the loop in the figures above).
    """
    loop = asyncio.get_running_loop()
    device = generate_key_pair(V2_GROUP, bits=256).public.to_bytes(V2_GROUP.size, "big")
    await loop.run_in_executor(None, session_for, V2_GROUP)  # warm-up (first thread-pool use)
    walls: list[float] = []
    stalls: list[float] = []
    for _ in range(runs):
        async with StallMeter() as meter:
            start = loop.time()
            session = await loop.run_in_executor(None, session_for, V2_GROUP)
            await loop.run_in_executor(None, session.derive, device)
            walls.append(loop.time() - start)
        stalls.append(meter.worst)
    window = statistics.median(walls)
    idle = [await idle_stall(window) for _ in range(runs)]
    return _figures(walls, stalls, idle, runs)


def _figures(
    walls: list[float], stalls: list[float], idle: list[float], runs: int
) -> dict[str, Any]:
    return {
        "negotiation_median_ms": ms(statistics.median(walls)),
        "stall_median_ms": ms(statistics.median(stalls), 2),
        "stall_max_ms": ms(max(stalls), 2),
        "idle_median_ms": ms(statistics.median(idle), 2),
        "idle_max_ms": ms(max(idle), 2),
        "beyond_idle_ms": ms(statistics.median(stalls) - statistics.median(idle), 2),
        "runs": runs,
    }


async def run(profile: str, interval: float, runs: int) -> dict[str, Any]:
    """V2 (the figure of issue 13) and V1; the V2 client's DH work alone."""
    results = {
        security: await _negotiations(profile, interval, security, runs)
        for security in ("V2", "V1")
    }
    results["V2 client DH alone"] = await _client_dh(runs)
    return results
