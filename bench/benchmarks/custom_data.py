"""P3: 64 KiB of custom data to a BluFi device against the BluFi frame bound.

A BluFi message is carried in frames of at most 255 data bytes, each one ATT Write Request
(FF01 has no write without response), and a fragment spends 2 bytes on the remaining length:
``custom_data_frames`` frames (:mod:`.limits`) at the connection's MTU. Under the link model a
write with response costs 2 connection intervals, so the bound is ``(2F - 1)·I`` from the
first frame's delivery to the last frame's response. The message is 65 535 bytes: the longest a
BluFi message can be (its total length travels in 16 bits).

The MTU is set on the device (``max_mtu``): BlueZ and the ``ideal`` client both ask for 517, and
the exchange settles on the smaller value. The same transfer at interval 0 shows the bench's
CPU per frame (client, emulator, Bumble and the bleak backend together, one process); with
``profile_cpu`` it is profiled (cProfile) and the time is split by whose code ran.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
from typing import Any

from custom_components.ble_provisioning.protocol.device import create_device
from custom_components.ble_provisioning.protocol.models import Protocol

from . import devices
from .harness import bench_radio, ms
from .limits import custom_data_frames
from .recorder import AirRecorder, Att, handle_names
from .timeline import blufi_label

SIZE = 65535
MTUS = (23, 185, 517)
_CHECK = 0x02
_CUSTOM = "DATA CUSTOM_DATA"


async def transfer(
    profile: str,
    interval: float,
    mtu: int,
    size: int = SIZE,
    *,
    cpu: cProfile.Profile | None = None,
) -> dict[str, Any]:
    """Send ``size`` bytes at ``mtu`` once; the figures of the transfer."""
    emulator = devices.blufi("V2", seed=5)
    emulator.max_mtu = mtu
    payload = bytes(index % 251 for index in range(size))
    async with bench_radio(profile, interval, emulator) as (radio, found):
        names = handle_names(emulator, devices.BLUFI_NAMES)
        device = create_device(Protocol.BLUFI, found, backend=radio.client_backend, timeout=60.0)
        loop = asyncio.get_running_loop()
        with AirRecorder(radio) as recorder:
            try:
                if cpu is not None:
                    cpu.enable()
                start = loop.time()
                await device.send_custom_data(payload)
                wall = loop.time() - start
            finally:
                if cpu is not None:
                    cpu.disable()
                await device.close()
    frames = [
        pdu
        for pdu in recorder.pdus
        if pdu.to_peripheral
        and pdu.opcode == Att.WRITE_REQ
        and names.get(pdu.handle or -1) == "FF01"
        and blufi_label(pdu.value).startswith(_CUSTOM)
    ]
    if not frames:
        msg = "no custom data frame was recorded"
        raise RuntimeError(msg)
    last = frames[-1]
    answer = next(
        (
            pdu
            for pdu in recorder.pdus
            if not pdu.to_peripheral and pdu.opcode == Att.WRITE_RSP and pdu.time >= last.time
        ),
        last,
    )
    span = answer.time - frames[0].time
    checksum = bool(frames[0].value[1] & _CHECK)
    negotiated = min(mtu, 517)
    minimum = custom_data_frames(size, negotiated, checksum=checksum)
    bound = (2 * minimum - 1) * interval
    return {
        "mtu": negotiated,
        "bytes": size,
        "frames": len(frames),
        "frames_minimum": minimum,
        "checksum": checksum,
        "wall_ms": ms(wall),
        "transfer_ms": ms(span),
        "bound_ms": ms(bound),
        "of_bound": round(bound / span, 3) if bound > 0 and span > 0 else None,
        "kib_per_s": round(size / 1024 / span, 1) if span > 0 else None,
        "cpu_per_frame_ms": ms(span / len(frames), 3) if interval == 0 else None,
    }


_BUCKETS = (
    ("client (custom_components)", "custom_components/"),
    ("bench emulators", "bench/emulators/"),
    ("bench radio and backends", "/bench/"),
    ("bumble", "/bumble/"),
    ("bleak and bleak-retry-connector", "/bleak"),
    ("asyncio", "/asyncio/"),
)


def cpu_split(profile: cProfile.Profile, top: int = 8) -> dict[str, Any]:
    """Own CPU time by whose code ran, and the costliest functions."""
    stats = pstats.Stats(profile)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    buckets: dict[str, float] = {}
    functions: list[tuple[float, str]] = []
    total = 0.0
    for (filename, line, function), (_cc, _nc, own, _cum, _callers) in raw.items():
        total += own
        bucket = next((name for name, part in _BUCKETS if part in filename), "other")
        buckets[bucket] = buckets.get(bucket, 0.0) + own
        short = filename.split("site-packages/")[-1].split("benchmarks/")[-1]
        functions.append((own, f"{short}:{line} {function}"))
    functions.sort(reverse=True)
    return {
        "total_s": round(total, 3),
        "share": {name: round(value / total, 3) for name, value in sorted(buckets.items())}
        if total
        else {},
        "top": [{"function": name, "own_s": round(own, 3)} for own, name in functions[:top]],
    }


GOAL = 0.9
"""Issue 13: custom data at >= 90 % of the frame bound (MTU 185 and 517)."""


async def run(
    profile: str,
    interval: float,
    mtus: tuple[int, ...] = MTUS,
    *,
    size: int = SIZE,
    profile_cpu: str = "auto",
) -> dict[str, Any]:
    """Each MTU at ``interval``; the bench's CPU per frame at interval 0.

    ``profile_cpu``: "auto" profiles the interval-0 transfer when the linked one stays below
    :data:`GOAL`, "always" or "never". The profiled run is a separate one (cProfile slows
    what it watches), so ``cpu_per_frame_ms`` comes from an unprofiled run.
    """
    results: dict[str, Any] = {}
    for mtu in mtus:
        linked = await transfer(profile, interval, mtu, size)
        bare = await transfer(profile, 0.0, mtu, size)
        row = {**linked, "cpu_per_frame_ms": bare["cpu_per_frame_ms"]}
        if interval > 0 and bare["cpu_per_frame_ms"] is not None:
            # What the bench's own work is of the time each frame has on the link (2 events).
            row["cpu_of_frame_time"] = round(bare["cpu_per_frame_ms"] / (2 * interval * 1000), 3)
        short = linked["of_bound"] is not None and linked["of_bound"] < GOAL
        if profile_cpu == "always" or (profile_cpu == "auto" and (short or interval == 0)):
            cpu = cProfile.Profile()
            await transfer(profile, 0.0, mtu, size, cpu=cpu)
            row["cpu_profile"] = cpu_split(cpu)
        results[str(mtu)] = row
    return results
