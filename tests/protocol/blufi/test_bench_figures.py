"""Bench figures for the report, and the 1 000-negotiation soak (marked ``blufi_soak``).

Run with ``-s`` to see the figures. The soak reuses one connection and re-negotiates; both
sides use 256-bit DH private values to keep it fast (as shipped the client uses 1024 bits for
V1 and 512 for V2; the secrets, their leading zeros and the key derivation are unaffected).
Each negotiation is proven by an encrypted, checksummed GET_VERSION round trip.
"""

from __future__ import annotations

import asyncio
import time
from typing import Self

import pytest

from bench.emulators.blufi import BlufiDeviceConfig
from custom_components.ble_provisioning.protocol.blufi import (
    BlufiSecurity,
    BlufiVersion,
    ProvisionOutcome,
)
from custom_components.ble_provisioning.protocol.blufi.dh import DhGroup
from custom_components.ble_provisioning.protocol.blufi.security import (
    BlufiSession,
    V1Session,
    V2Session,
)

from .conftest import BenchFactory, default_networks


class StallMeter:
    """A 1 ms ticker task recording how late the event loop runs it (the longest stall)."""

    def __init__(self) -> None:
        self.max_late = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(0.001)
            self.max_late = max(self.max_late, loop.time() - start - 0.001)

    def __enter__(self) -> Self:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


@pytest.mark.parametrize(("profile", "security"), [("v5.5", "V1"), ("v6.0", "V2")])
async def test_figures_full_provisioning(
    blufi_bench: BenchFactory, profile: str, security: str
) -> None:
    """One full provisioning, firmware-faithful device DH (V2: 3072-bit private value)."""
    config = BlufiDeviceConfig(networks=default_networks(), seed=11)
    async with blufi_bench(profile=profile, config=config) as bench:
        client = bench.client()
        start = time.perf_counter()
        result = await client.provision("HomeNet", "password1", poll_interval=0.05)
        wall = time.perf_counter() - start
        assert result.outcome is ProvisionOutcome.CONNECTED
        writes = len(bench.device.model.writes)
        notes = len(bench.device.model.notifications)
        print(  # noqa: T201
            f"\nFIGURE {security} provisioning ({profile}, MTU 517): {writes} ATT writes, "
            f"{notes} notifications, {wall * 1000:.1f} ms wall (connect to disconnect)"
        )
        # GET_VERSION, NEG LEN, NEG DATA (V1: 2 frames, V2: 4), SET_SEC_MODE, SET_OPMODE,
        # STA_SSID, STA_PASSWD, CONN_TO_AP; the success report is pushed (no poll).
        assert writes == (9 if security == "V1" else 11)


STALL_LIMIT = 0.05
"""A synchronous 3072-bit pow() on the loop stalls it ~100 ms (more on a loaded CPU)."""
STALL_RUNS = 3


async def test_figures_v2_negotiation_loop_stall(blufi_bench: BenchFactory) -> None:
    """Longest event-loop stall while the client negotiates V2 (ffdhe3072).

    The ticker's lateness also counts time the OS gives other processes, so on a loaded CPU
    one negotiation can show a long stall the code did not cause. The negotiation is repeated
    (on the same link, up to ``STALL_RUNS`` times, stopping at the first run under the limit)
    and the limit applies to the best run: DH work done synchronously on the loop stalls every
    run, scheduling noise does not hit every one.
    """
    config = BlufiDeviceConfig(networks=default_networks(), seed=12)
    async with blufi_bench(profile="v6.0", config=config) as bench:
        client = bench.client()
        async with client:
            await client.get_version()
            stalls: list[float] = []
            walls: list[float] = []
            while len(stalls) < STALL_RUNS:
                with StallMeter() as meter:
                    start = time.perf_counter()
                    assert await client.negotiate_security() is BlufiSecurity.V2
                    walls.append(time.perf_counter() - start)
                stalls.append(meter.max_late)
                if meter.max_late < STALL_LIMIT:
                    break
            best = min(range(len(stalls)), key=stalls.__getitem__)
            print(  # noqa: T201
                f"\nFIGURE V2 negotiation: {walls[best] * 1000:.1f} ms wall, longest event-loop "
                f"stall {stalls[best] * 1000:.1f} ms (best of {len(stalls)} negotiation(s); "
                f"each run: {', '.join(f'{x * 1000:.1f}' for x in stalls)} ms; client and "
                "emulated device share the loop)"
            )
            assert stalls[best] < STALL_LIMIT


@pytest.mark.blufi_soak
@pytest.mark.parametrize(
    ("profile", "security", "count"),
    [("v5.5", BlufiSecurity.V1, 1000), ("v6.0", BlufiSecurity.V2, 1000)],
)
async def test_soak_negotiations(
    blufi_bench: BenchFactory, profile: str, security: BlufiSecurity, count: int
) -> None:
    """1 000 V1 and 1 000 V2 negotiations on one connection; none may fail."""
    config = BlufiDeviceConfig(networks=default_networks(), seed=13, dh_private_bits=256)
    sessions: list[BlufiSession] = []

    def factory(group: DhGroup) -> BlufiSession:
        cls = V1Session if group.security is BlufiSecurity.V1 else V2Session
        session = cls(bits=256, group=group)
        sessions.append(session)
        return session

    async with blufi_bench(profile=profile, config=config) as bench:
        client = bench.client()
        client.session_factory = factory
        expected = BlufiVersion(1, 3) if security is BlufiSecurity.V1 else BlufiVersion(1, 4)
        start = time.perf_counter()
        async with client:
            for _ in range(count):
                assert await client.negotiate_security(security) is security
                assert await client.get_version() == expected
        wall = time.perf_counter() - start
        model = bench.device.model
        assert model.negotiations == count
        assert model.errors_sent == []
        leading_zero = sum(1 for s in sessions if s.secret_padded and s.secret_padded[0] == 0)
        print(  # noqa: T201
            f"\nFIGURE {count} {security.name} negotiations: {wall:.1f} s, "
            f"{leading_zero} with a leading-zero secret, 0 failures"
        )
