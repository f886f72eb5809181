"""The fleet move with a canary: the canary first and confirmed, then waves; stop at a failure."""

from __future__ import annotations

import asyncio

import pytest

from bench.emulators.blufi import Esp32BlufiEmulator
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.errors import InvalidInputError
from custom_components.ble_provisioning.protocol.fleet import FleetMove
from custom_components.ble_provisioning.protocol.models import ProvisionOutcome
from custom_components.ble_provisioning.protocol.slots import AdapterSlots

from .engine_helpers import REQUEST, fleet_on

KINDS = ["blufi-v2", "blufi-v1", "bluenet", "blufi-v2", "blufi-v1"]


def _connections(emulator: object) -> int:
    """How many BLE connections an emulator accepted."""
    if isinstance(emulator, Esp32BlufiEmulator):
        return emulator.model.connections
    return len(emulator.model.writes)  # Bluenet: writes only happen when connected


async def test_canary_then_waves(radio: Radio) -> None:
    """Canary confirmed by a status read, then waves of 2: everyone moved, in plan order."""
    async with fleet_on(radio, KINDS) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        canary = fleet.emulators[2].address  # the Bluenet device
        move = FleetMove(engine, fleet.targets(), REQUEST, wave_size=2, canary=canary.lower())
        assert move.waves[0] == [canary]
        assert [len(wave) for wave in move.waves] == [1, 2, 2]
        order = [result.address async for result in move]
        report = move.report
        assert report.completed
        assert order[0] == canary
        assert report.canary is not None
        assert report.canary.verified is True
        assert [result.address for result in report.moved] == order
        assert not report.failed
        assert not report.untouched
        plan = move.waves
        assert set(order[1:3]) == set(plan[1])  # wave 1 finished before wave 2 started
        assert report.as_dict()["canary"] == canary
        fleet.assert_released()


async def test_failing_canary_touches_nothing_else(radio: Radio) -> None:
    """The canary's wrong password stops the move before any other device is contacted."""
    async with fleet_on(radio, KINDS, wrong={0}) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        report = await FleetMove(engine, fleet.targets(), REQUEST, wave_size=2).wait()
        assert not report.completed
        assert report.canary is not None
        assert report.canary.outcome is ProvisionOutcome.WRONG_PASSWORD
        assert report.failed == [report.canary]
        assert not report.moved
        assert report.untouched == [emulator.address for emulator in fleet.emulators[1:]]
        for emulator in fleet.emulators[1:]:
            assert _connections(emulator) == 0
        fleet.assert_released()


async def test_a_failing_wave_stops_the_move(radio: Radio) -> None:
    """A failure in wave 1 lets that wave finish, then leaves wave 2 untouched."""
    async with fleet_on(radio, KINDS, wrong={1}) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        move = FleetMove(engine, fleet.targets(), REQUEST, wave_size=2, verify=False)
        report = await move.wait()
        assert [result.address for result in report.failed] == [fleet.emulators[1].address]
        assert {result.address for result in report.moved} == {
            fleet.emulators[0].address,
            fleet.emulators[2].address,
        }
        assert report.untouched == move.waves[2]
        assert report.canary is not None
        assert report.canary.verified is None
        fleet.assert_released()


async def test_cancelling_a_move(radio: Radio) -> None:
    """Cancelled during the first wave: links released, later devices untouched."""
    async with fleet_on(radio, KINDS) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        move = FleetMove(engine, fleet.targets(), REQUEST, wave_size=4, verify=False)
        canary_done = asyncio.Event()

        async def consume() -> None:
            async for _ in move:
                canary_done.set()

        task = asyncio.create_task(consume())
        async with asyncio.timeout(30):
            await canary_done.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await move.aclose()
        fleet.assert_released()
        assert move.report.canary is not None
        assert len(move.report.moved) < len(KINDS)
        assert len(move.report.untouched) + len(move.report.moved) == len(KINDS)


def test_bad_moves() -> None:
    from custom_components.ble_provisioning.protocol.engine import ProvisioningEngine

    engine = ProvisioningEngine()
    with pytest.raises(InvalidInputError):
        FleetMove(engine, [], REQUEST)
    with pytest.raises(ValueError, match="wave_size"):
        FleetMove(engine, [], REQUEST, wave_size=0)
