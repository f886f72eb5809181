"""Repeated negotiations on one connection: a short soak in every run, the full one as ``soak``.

Each negotiation is proven by an encrypted, checksummed GET_VERSION round trip. Both sides use
256-bit DH private values to keep it fast (as shipped the client uses 1024 bits for V1 and 512
for V2; the secrets, their leading zeros and the key derivation are unaffected). The 1 000-run
soak is deselected by ``scripts/test`` and run once by ``.ci/run`` (``scripts/test --soak``);
its timing figures are in ``scripts/bench --only SOAK``.
"""

from __future__ import annotations

import pytest

from bench.emulators.blufi import BlufiDeviceConfig
from custom_components.ble_provisioning.protocol.blufi import BlufiSecurity, BlufiVersion
from custom_components.ble_provisioning.protocol.blufi.dh import DhGroup
from custom_components.ble_provisioning.protocol.blufi.security import (
    BlufiSession,
    V1Session,
    V2Session,
)

from .conftest import BenchFactory, default_networks

SHORT = 20
FULL = 1000


@pytest.mark.parametrize(
    ("profile", "security", "count"),
    [
        pytest.param("v5.5", BlufiSecurity.V1, SHORT, id=f"V1-{SHORT}"),
        pytest.param("v6.0", BlufiSecurity.V2, SHORT, id=f"V2-{SHORT}"),
        pytest.param("v5.5", BlufiSecurity.V1, FULL, id=f"V1-{FULL}", marks=pytest.mark.soak),
        pytest.param("v6.0", BlufiSecurity.V2, FULL, id=f"V2-{FULL}", marks=pytest.mark.soak),
    ],
)
async def test_repeated_negotiations(
    blufi_bench: BenchFactory, profile: str, security: BlufiSecurity, count: int
) -> None:
    """``count`` negotiations on one connection; none may fail."""
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
        async with client:
            for _ in range(count):
                assert await client.negotiate_security(security) is security
                assert await client.get_version() == expected
        model = bench.device.model
        assert model.negotiations == count
        assert model.errors_sent == []
        assert len(sessions) == count
        assert len({s.public_key for s in sessions}) == count  # a fresh key pair every time
