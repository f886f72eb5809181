"""The client's DH work never runs on the event loop (the behaviour behind the stall figure).

A 3072-bit ``pow()`` holds the GIL for ~100 ms, so doing it on the loop - or in one call on an
executor thread - freezes Home Assistant. The client runs every modular exponentiation in an
executor thread and in small steps (:func:`security.modexp`), handing the GIL back in between.
How long the loop really stalls is a figure of ``python -m bench.benchmarks.blufi_figures``.
"""

from __future__ import annotations

import threading
from unittest.mock import patch

import pytest

from custom_components.ble_provisioning.protocol.blufi import (
    BlufiSecurity,
    BlufiVersion,
    security as security_module,
)

from .conftest import BenchFactory

#: Exponent bits one ``pow()`` step may cover: 64 bits of a 3072-bit modulus take microseconds.
MAX_STEP_BITS = 64


@pytest.mark.parametrize(
    ("profile", "security", "version"),
    [
        ("v5.5", BlufiSecurity.V1, BlufiVersion(1, 3)),
        ("v6.0", BlufiSecurity.V2, BlufiVersion(1, 4)),
    ],
)
async def test_dh_runs_in_executor_threads_in_small_steps(
    blufi_bench: BenchFactory, profile: str, security: BlufiSecurity, version: BlufiVersion
) -> None:
    loop_thread = threading.get_ident()
    calls: list[tuple[int, int]] = []  # (thread, step bits) of every client exponentiation
    real_modexp = security_module.modexp

    def spy(
        base: int, exponent: int, modulus: int, chunk_bits: int = security_module.MODEXP_CHUNK_BITS
    ) -> int:
        calls.append((threading.get_ident(), chunk_bits))
        return real_modexp(base, exponent, modulus, chunk_bits)

    async with blufi_bench(profile=profile) as bench:
        client = bench.client()
        with patch.object(security_module, "modexp", spy):
            async with client:
                assert await client.negotiate_security() is security
                assert await client.get_version() == version  # encrypted: the key is right
    assert len(calls) >= 2  # the key pair and the shared secret
    assert all(thread != loop_thread for thread, _ in calls), "DH ran on the event loop"
    assert all(bits <= MAX_STEP_BITS for _, bits in calls)
