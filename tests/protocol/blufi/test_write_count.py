"""The exchanges of one provisioning (the negotiation soak is ``test_soak.py``; timing figures
come from ``python -m bench.benchmarks.blufi_crypto``)."""

from __future__ import annotations

import pytest

from bench.emulators.blufi import BlufiDeviceConfig
from custom_components.ble_provisioning.protocol.blufi import ControlSubtype, ProvisionOutcome

from .conftest import BenchFactory, default_networks


@pytest.mark.parametrize(("profile", "security"), [("v5.5", "V1"), ("v6.0", "V2")])
async def test_write_count_of_a_provisioning(
    blufi_bench: BenchFactory, profile: str, security: str
) -> None:
    """One full provisioning: the frames the client writes (status polls aside)."""
    config = BlufiDeviceConfig(networks=default_networks(), seed=11)
    async with blufi_bench(profile=profile, config=config) as bench:
        result = await bench.client().provision("HomeNet", "password1", poll_interval=0.05)
        assert result.outcome is ProvisionOutcome.CONNECTED
        # GET_VERSION, NEG LEN, NEG DATA (V1: 2 frames, V2: 4), SET_SEC_MODE, SET_OPMODE,
        # STA_SSID, STA_PASSWD, CONN_TO_AP (and status polls if the join is slow to show)
        poll = ControlSubtype.GET_WIFI_STATUS << 2
        writes = [w for w in bench.device.model.writes if w[0] != poll]
        assert len(writes) == (9 if security == "V1" else 11)
