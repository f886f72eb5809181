"""The fleet move's edges: an unknown canary, a move closed early, and used as a context."""

from __future__ import annotations

import asyncio

import pytest

from bench.radio import Radio
from custom_components.ble_provisioning.protocol.engine import ProvisioningEngine, Target
from custom_components.ble_provisioning.protocol.errors import InvalidInputError
from custom_components.ble_provisioning.protocol.fleet import FleetMove
from custom_components.ble_provisioning.protocol.slots import AdapterSlots

from .engine_helpers import REQUEST, fleet_on

KINDS = ["blufi-v2", "bluenet", "blufi-v1", "blufi-v2"]


def test_a_canary_that_is_not_among_the_devices() -> None:
    targets = [Target("24:0A:C4:00:00:01"), Target("24:0A:C4:00:00:02")]
    with pytest.raises(InvalidInputError, match="canary 24:0a:c4:00:00:09 is not among"):
        FleetMove(ProvisioningEngine(), targets, REQUEST, canary="24:0a:c4:00:00:09")


async def test_closing_a_move_before_it_started_touches_nothing(radio: Radio) -> None:
    """Leaving the context without iterating: no device contacted, and none contacted later."""
    async with fleet_on(radio, KINDS) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        async with FleetMove(engine, fleet.targets(), REQUEST, wave_size=2) as move:
            assert move.waves[0] == [fleet.emulators[0].address]
        assert [result async for result in move] == []  # closed: nothing more happens
        assert move.report.untouched == [emulator.address for emulator in fleet.emulators]
        assert move.report.canary is None
        assert not move.report.completed
        assert fleet.slots is not None
        assert fleet.slots.granted == 0  # no connection was ever attempted
        fleet.assert_released()


async def test_leaving_the_context_after_the_canary_stops_the_move(radio: Radio) -> None:
    """The canary finished, the first wave running: leaving cancels it and releases its links."""
    async with fleet_on(radio, KINDS) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        async with FleetMove(engine, fleet.targets(), REQUEST, wave_size=3, verify=False) as move:
            async with asyncio.timeout(30):
                canary = await anext(move)
        assert canary.success
        assert canary.address == fleet.emulators[0].address
        assert [result async for result in move] == []  # closed: nothing more happens
        report = move.report
        assert report.canary is canary
        assert report.moved == [canary]
        assert report.untouched == [emulator.address for emulator in fleet.emulators[1:]]
        fleet.assert_released()
