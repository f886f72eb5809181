"""The 1000-negotiation soaks (issue 7): many V1 and V2 negotiations on one connection.

Each negotiation is proven by an encrypted GET_VERSION round trip right after it (a wrong key
fails its CRC or decryption). The client negotiates as it always does; the emulated device
uses 256-bit DH private values so that its share stays small. Runs on the ``ideal`` link at
interval 0 by default (the soak tests the security code, not the link). A failure does not end
the soak: the client reconnects and goes on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from custom_components.ble_provisioning.protocol.blufi import AsyncBlufiClient, BlufiSecurity
from custom_components.ble_provisioning.protocol.errors import ProvisioningError

from . import devices
from .harness import bench_radio, ms

EXPECTED_VERSION = {"V1": (1, 3), "V2": (1, 4)}


async def soak(security: str, count: int, profile: str, interval: float) -> dict[str, Any]:
    """``count`` negotiations of ``security`` ("V1" / "V2")."""
    wanted = BlufiSecurity.V2 if security == "V2" else BlufiSecurity.V1
    emulator = devices.blufi(security, seed=13)
    failures: list[str] = []
    loop = asyncio.get_running_loop()
    async with bench_radio(profile, interval, emulator) as (radio, found):
        client = AsyncBlufiClient(found, backend=radio.client_backend, timeout=30.0)
        start = loop.time()
        try:
            for _ in range(count):
                try:
                    if not client.is_connected:
                        await client.connect()
                    chosen = await client.negotiate_security(wanted)
                    version = await client.get_version()
                except ProvisioningError as err:
                    failures.append(f"{type(err).__name__}: {err}")
                    continue
                if chosen is not wanted or version.as_tuple != EXPECTED_VERSION[security]:
                    failures.append(f"negotiated {chosen}, version {version}")
        finally:
            await client.disconnect()
        total = loop.time() - start
    return {
        "negotiations": count,
        "failures": len(failures),
        "first_failures": failures[:5],
        "total_s": round(total, 2),
        "per_negotiation_ms": ms(total / count, 2) if count else None,
    }


async def run(count: int, profile: str = "ideal", interval: float = 0.0) -> dict[str, Any]:
    """V1 and V2."""
    return {security: await soak(security, count, profile, interval) for security in ("V1", "V2")}
