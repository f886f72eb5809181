"""The exchanges of one provisioning, and the 1 000-negotiation soak (marked ``blufi_soak``).

Timing figures (negotiation cost, event-loop stalls) are not tests: they come from
``python -m bench.benchmarks.blufi_crypto``. The soak reuses one connection and re-negotiates;
both sides use 256-bit DH private values to keep it fast (the secrets, their leading zeros and
the key derivation are unaffected). Each negotiation is proven by an encrypted, checksummed
GET_VERSION round trip.
"""

from __future__ import annotations

import time

import pytest

from bench.emulators.blufi import BlufiDeviceConfig
from custom_components.ble_provisioning.protocol.blufi import (
    BlufiSecurity,
    BlufiVersion,
    ControlSubtype,
    ProvisionOutcome,
)
from custom_components.ble_provisioning.protocol.blufi.dh import DhGroup
from custom_components.ble_provisioning.protocol.blufi.security import (
    BlufiSession,
    V1Session,
    V2Session,
)

from .conftest import BenchFactory, default_networks


@pytest.mark.parametrize(("profile", "security"), [("v5.5", "V1"), ("v6.0", "V2")])
async def test_write_count_of_a_provisioning(
    blufi_bench: BenchFactory, profile: str, security: str
) -> None:
    """One full provisioning, firmware-faithful device DH (V2: 3072-bit private value)."""
    config = BlufiDeviceConfig(networks=default_networks(), seed=11)
    async with blufi_bench(profile=profile, config=config) as bench:
        result = await bench.client().provision("HomeNet", "password1", poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.CONNECTED
        # GET_VERSION, NEG LEN, NEG DATA (V1: 2 frames, V2: 4), SET_SEC_MODE, SET_OPMODE,
        # STA_SSID, STA_PASSWD, CONN_TO_AP (and status polls if the join is slow to show)
        poll = ControlSubtype.GET_WIFI_STATUS << 2
        writes = [w for w in bench.device.model.writes if w[0] != poll]
        assert len(writes) == (9 if security == "V1" else 11)


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
