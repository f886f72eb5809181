"""The client's DH work never runs on the event loop (the behaviour behind the stall figure).

A 3072-bit exponentiation holds the GIL for ~100 ms, so doing it on the loop freezes Home
Assistant. The client makes its key pair and derives the shared secret in executor threads
(``pow()`` in small steps that hand the GIL back, or OpenSSL for ffdhe3072). How long the loop
really stalls is a figure of ``python -m bench.benchmarks.blufi_crypto``.
"""

from __future__ import annotations

import threading
from typing import Any
from unittest.mock import patch

import pytest

from custom_components.ble_provisioning.protocol.blufi import (
    BlufiSecurity,
    BlufiVersion,
    security as security_module,
)

from .conftest import BenchFactory


@pytest.mark.parametrize(
    ("profile", "security", "version"),
    [
        ("v5.5", BlufiSecurity.V1, BlufiVersion(1, 3)),
        ("v6.0", BlufiSecurity.V2, BlufiVersion(1, 4)),
    ],
)
async def test_dh_runs_in_executor_threads(
    blufi_bench: BenchFactory, profile: str, security: BlufiSecurity, version: BlufiVersion
) -> None:
    loop_thread = threading.get_ident()
    calls: list[tuple[str, int]] = []  # (what, thread) of every DH computation of the client
    real_generate = security_module.generate_key_pair
    real_secret = security_module.BlufiSession.shared_secret

    def generate(*args: Any, **kwargs: Any) -> Any:
        calls.append(("key pair", threading.get_ident()))
        return real_generate(*args, **kwargs)

    def secret(self: security_module.BlufiSession, peer_public: bytes) -> bytes:
        calls.append(("secret", threading.get_ident()))
        return real_secret(self, peer_public)

    async with blufi_bench(profile=profile) as bench:
        client = bench.client()
        with (
            patch.object(security_module, "generate_key_pair", generate),
            patch.object(security_module.BlufiSession, "shared_secret", secret),
        ):
            async with client:
                assert await client.negotiate_security() is security
                assert await client.get_version() == version  # encrypted: the key is right
    assert {what for what, _ in calls} == {"key pair", "secret"}
    assert all(thread != loop_thread for _, thread in calls), calls
