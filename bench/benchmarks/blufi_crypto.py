"""The BluFi client's DH work: cost per negotiation and what it does to the event loop.

``python -m bench.benchmarks.blufi_crypto [--runs 20] [--json out.json]``

Prints, and writes as JSON:

* ``cpu``: the client's own CPU per negotiation (key pair + the checks of the device's key +
  the shared secret), median and worst of ``--runs``, for each group and implementation the
  client uses (V1: RFC 2409 group 2 with ``pow()``, the legacy group with ``pow()``; V2:
  ffdhe3072 with ``cryptography``, and its ``pow()`` fallback), next to what main did (legacy
  group with a 1024-bit private value, V2 with a 512-bit one, both in 32-bit ``pow()`` steps,
  no subgroup check);
* ``gil``: whether one call holds the GIL: a pure-Python counter runs on the main thread while
  another thread repeats the call; ``share`` is the counter's speed relative to running alone
  (about 1.0: the call lets the main thread run; about 0.5 or less: it holds the GIL);
* ``stall``: the lateness of a 1 ms ticker on the event loop: its worst per window, idle (the
  baseline, windows as long as one negotiation) and per negotiation while the client
  negotiates as it does (key pair and derivation in the default executor), ``--runs`` windows
  each, median and worst of them;
* ``bench``: a whole negotiation over the Bumble bench (client and emulated device on one loop;
  the device uses 256-bit private values so that its own work stays small): wall time, and
  the ticker's worst lateness per negotiation against idle windows as long (radio up).

Figures depend on the machine and its load: compare runs made on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import json
from pathlib import Path
import statistics
import threading
import time
from typing import Any

from bleak import BleakScanner

from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.blufi import AsyncBlufiClient, BlufiSecurity
from custom_components.ble_provisioning.protocol.blufi.const import SERVICE_UUID
from custom_components.ble_provisioning.protocol.blufi.dh import (
    V1_LEGACY_GROUP,
    V1_SAFE_GROUP,
    V2_GROUP,
    DhGroup,
    KeyPair,
    OpenSslKeyPair,
    PowKeyPair,
    check_peer_key,
    generate_key_pair,
)
from custom_components.ble_provisioning.protocol.blufi.security import session_for

from .harness import StallMeter


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _summary(samples: list[float]) -> dict[str, float]:
    return {"median_ms": _ms(statistics.median(samples)), "max_ms": _ms(max(samples))}


# ---------------------------------------------------------------- CPU per negotiation


def _negotiation(make: Callable[[], KeyPair], peer: int, check: DhGroup | None) -> float:
    start = time.perf_counter()
    pair = make()
    if check is not None:
        check_peer_key(peer, check, pair.public)
    pair.secret(peer)
    return time.perf_counter() - start


def cpu_figures(runs: int) -> dict[str, dict[str, float]]:
    """Client CPU per negotiation, per group and implementation (and main's for reference)."""
    cases: dict[str, tuple[DhGroup, Callable[[], KeyPair], bool]] = {
        "V1 rfc2409-group2, pow (client)": (
            V1_SAFE_GROUP,
            lambda: generate_key_pair(V1_SAFE_GROUP),
            True,
        ),
        "V1 legacy group, pow (fallback)": (
            V1_LEGACY_GROUP,
            lambda: generate_key_pair(V1_LEGACY_GROUP),
            True,
        ),
        "V2 ffdhe3072, cryptography (client)": (
            V2_GROUP,
            lambda: generate_key_pair(V2_GROUP),
            True,
        ),
        "V2 ffdhe3072, pow (fallback)": (
            V2_GROUP,
            lambda: PowKeyPair(V2_GROUP),
            True,
        ),
        "V1 legacy, pow 1024-bit (main)": (
            V1_LEGACY_GROUP,
            lambda: PowKeyPair(V1_LEGACY_GROUP, bits=1024),
            False,
        ),
        "V2 ffdhe3072, pow 512-bit (main)": (
            V2_GROUP,
            lambda: PowKeyPair(V2_GROUP, bits=512),
            False,
        ),
    }
    figures: dict[str, dict[str, float]] = {}
    for name, (group, make, checked) in cases.items():
        peer = PowKeyPair(group, bits=256).public
        make()  # warm-up (first OpenSSL call initialises its RNG)
        samples = [_negotiation(make, peer, group if checked else None) for _ in range(runs)]
        figures[name] = _summary(samples)
    return figures


# ---------------------------------------------------------------- the GIL


def _count_for(seconds: float) -> int:
    end = time.perf_counter() + seconds
    count = 0
    while time.perf_counter() < end:
        count += 1
    return count


def gil_share(call: Callable[[], object], seconds: float = 1.0) -> float:
    """Return the main thread's speed while another thread repeats ``call`` (1.0: alone)."""
    alone = _count_for(seconds)
    stop = threading.Event()

    def repeat() -> None:
        while not stop.is_set():
            call()

    worker = threading.Thread(target=repeat)
    worker.start()
    try:
        shared = _count_for(seconds)
    finally:
        stop.set()
        worker.join()
    return round(shared / alone, 2)


def gil_figures() -> dict[str, float]:
    """Return, per call, the share of the main thread's speed left (holds the GIL: < 1)."""
    openssl = OpenSslKeyPair(V2_GROUP)
    peer = generate_key_pair(V2_GROUP).public
    big = PowKeyPair(V2_GROUP, bits=256).public
    exponent = (1 << 511) | 12345
    return {
        "cryptography V2 exchange": gil_share(lambda: openssl.secret(peer)),
        "cryptography V2 key pair": gil_share(lambda: OpenSslKeyPair(V2_GROUP)),
        "pow() 3072-bit modulus, 512-bit exponent": gil_share(
            lambda: pow(big, exponent, V2_GROUP.p)
        ),
    }


# ---------------------------------------------------------------- event-loop stalls


async def _idle(seconds: float) -> float:
    async with StallMeter() as meter:
        await asyncio.sleep(seconds)
    return meter.worst


async def _client_crypto(group: DhGroup, device_public: bytes) -> None:
    loop = asyncio.get_running_loop()
    session = await loop.run_in_executor(None, session_for, group)
    await loop.run_in_executor(None, session.derive, device_public)


async def stall_figures(runs: int) -> dict[str, dict[str, float]]:
    """Worst ticker lateness per window: idle, and per negotiation's client crypto."""
    figures: dict[str, dict[str, float]] = {}
    for name, group in (("V1", V1_SAFE_GROUP), ("V2", V2_GROUP)):
        device_public = PowKeyPair(group, bits=256).public.to_bytes(group.size, "big")
        await _client_crypto(group, device_public)  # warm-up
        durations: list[float] = []
        stalls: list[float] = []
        for _ in range(runs):
            async with StallMeter() as meter:
                start = time.perf_counter()
                await _client_crypto(group, device_public)
                durations.append(time.perf_counter() - start)
            stalls.append(meter.worst)
        window = statistics.median(durations)
        idle = [await _idle(window) for _ in range(runs)]
        figures[f"{name} client crypto"] = {
            "window_ms": _ms(window),
            "stall_median_ms": _ms(statistics.median(stalls)),
            "stall_max_ms": _ms(max(stalls)),
            "idle_median_ms": _ms(statistics.median(idle)),
            "idle_max_ms": _ms(max(idle)),
        }
    return figures


async def bench_figures(runs: int) -> dict[str, dict[str, float]]:
    """Negotiations over the bench: wall time and worst ticker lateness each, and idle."""
    figures: dict[str, dict[str, float]] = {}
    for profile, security in (("v5.5", BlufiSecurity.V1), ("v6.0", BlufiSecurity.V2)):
        config = BlufiDeviceConfig(networks=[WifiAp("HomeNet", -45, "password1")], seed=3)
        config.dh_private_bits = 256
        device = Esp32BlufiEmulator(config, profile=profile)
        async with Radio() as radio:
            await radio.add_peripheral(device)
            try:
                found = await BleakScanner.find_device_by_filter(
                    lambda _d, adv: SERVICE_UUID in adv.service_uuids,
                    timeout=5.0,
                    backend=radio.scanner_backend,
                )
                assert found is not None
                async with AsyncBlufiClient(found, backend=radio.client_backend) as client:
                    await client.get_version()
                    walls, stalls = await _negotiations(client, security, runs)
                    idle = [await _idle(statistics.median(walls)) for _ in range(runs)]
            finally:
                await device.close()
        figures[f"{security.name} over the bench"] = {
            **_summary(walls),
            "stall_median_ms": _ms(statistics.median(stalls)),
            "stall_max_ms": _ms(max(stalls)),
            "idle_median_ms": _ms(statistics.median(idle)),
            "idle_max_ms": _ms(max(idle)),
        }
    return figures


async def _negotiations(
    client: AsyncBlufiClient, security: BlufiSecurity, runs: int
) -> tuple[list[float], list[float]]:
    walls: list[float] = []
    stalls: list[float] = []
    for _ in range(runs):
        async with StallMeter() as meter:
            start = time.perf_counter()
            await client.negotiate_security(security)
            walls.append(time.perf_counter() - start)
        stalls.append(meter.worst)
    return walls, stalls


def _print(results: dict[str, Any]) -> None:
    for section, rows in results.items():
        print(f"\n[{section}]")  # noqa: T201 - a command's output
        for name, value in rows.items():
            print(f"  {name:45s} {value}")  # noqa: T201


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.benchmarks.blufi_crypto")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", default="blufi-crypto-benchmark.json")
    options = parser.parse_args()
    results: dict[str, Any] = {
        "cpu": cpu_figures(options.runs),
        "gil": gil_figures(),
        "stall": asyncio.run(stall_figures(options.runs)),
        "bench": asyncio.run(bench_figures(options.runs)),
    }
    Path(options.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    _print(results)


if __name__ == "__main__":
    main()
