"""The batch engine on the bench: many BluFi V1/V2 and Bluenet emulators, few connection slots."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bench.fleet import mixed
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.device import create_device
from custom_components.ble_provisioning.protocol.engine import (
    DeviceResult,
    ProvisioningEngine,
    ProvisioningRun,
    Target,
    is_transient,
)
from custom_components.ble_provisioning.protocol.errors import (
    ConnectionLostError,
    ConnectTimeoutError,
    DeviceNotFoundError,
    InvalidInputError,
    MissingServiceError,
    NoConnectionSlotError,
    ProvisioningConnectionError,
    ProvisioningTimeoutError,
)
from custom_components.ble_provisioning.protocol.models import (
    Protocol,
    ProvisioningSecurity,
    ProvisionOutcome,
    ProvisionRequest,
)
from custom_components.ble_provisioning.protocol.slots import AdapterSlots

from .engine_helpers import PASSWORD, REQUEST, SSID, Fleet, fleet_on

KINDS = ["blufi-v1", "blufi-v2", "bluenet", "blufi-v1", "blufi-v2", "bluenet", "blufi-v2"]


def test_transient_failures() -> None:
    """Link failures are retried; a device's answer, bad input or no slot are final."""
    assert is_transient(ConnectionLostError("x"))
    assert is_transient(ProvisioningConnectionError("x"))
    assert is_transient(ConnectTimeoutError("x"))
    assert not is_transient(ProvisioningTimeoutError("x"))
    assert not is_transient(MissingServiceError("x"))
    assert not is_transient(NoConnectionSlotError("x"))
    assert not is_transient(DeviceNotFoundError("x"))
    assert not is_transient(InvalidInputError("x"))


async def test_all_succeed_within_the_slots(radio: Radio) -> None:
    """Seven devices of both protocols through 2 slots: all connected, never 3 links at once."""
    async with fleet_on(radio, KINDS) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        seen: list[DeviceResult] = []
        async with engine.provision(fleet.targets(), REQUEST) as run:
            assert run.total == len(KINDS)
            async for result in run:
                seen.append(result)
                assert run.done == len(seen)
        assert {result.address for result in seen} == {e.address for e in fleet.emulators}
        assert all(result.success for result in seen), [r.status for r in seen]
        assert run.failed == 0
        assert fleet.slots is not None
        assert fleet.slots.most == 2  # the slots were the limit: devices waited for them
        assert fleet.links.stats.most <= 2
        assert fleet.links.stats.made == len(KINDS)  # one connection per device
        fleet.assert_released()
        assert run.slots_held == 0
        by_protocol = {result.protocol for result in seen}
        assert by_protocol == {Protocol.BLUFI, Protocol.BLUENET}
        for result in seen:
            assert result.outcome is ProvisionOutcome.CONNECTED
            assert result.error_key is None
            assert result.attempts == 1
            assert result.ssid == SSID
            assert result.status == "connected"
            assert PASSWORD not in repr(result)
            assert PASSWORD not in str(result.as_dict())
        securities = {result.security for result in seen}
        assert securities == {
            ProvisioningSecurity.BLUFI_V1,
            ProvisioningSecurity.BLUFI_V2,
            ProvisioningSecurity.CLEARTEXT,
        }
        # Queued devices waited for a slot; the wait is not part of their duration.
        assert max(result.waited for result in seen) > 0


async def test_wrong_passwords_fail_with_their_reason(radio: Radio) -> None:
    """A BluFi and a Bluenet device with another password fail; the others succeed."""
    kinds = ["blufi-v2", "blufi-v1", "bluenet", "blufi-v2", "bluenet"]
    async with fleet_on(radio, kinds, wrong={1, 4}) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        results = {r.address: r for r in await engine.provision(fleet.targets(), REQUEST).wait()}
        wrong = {fleet.emulators[1].address, fleet.emulators[4].address}
        for address, result in results.items():
            if address in wrong:
                assert result.outcome is ProvisionOutcome.WRONG_PASSWORD
                assert not result.success
                assert result.attempts == 1  # not a link failure: never retried
            else:
                assert result.success, result
        assert results[fleet.emulators[1].address].reason_code == 15  # 4-way handshake timeout
        fleet.assert_released()


async def test_a_dropped_link_is_retried(radio: Radio) -> None:
    """A device that drops the link once succeeds on its second attempt."""
    async with fleet_on(radio, ["blufi-v2", "blufi-v1", "blufi-v2"], flaky={1}) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        results = {r.address: r for r in await engine.provision(fleet.targets(), REQUEST).wait()}
        flaky = results[fleet.emulators[1].address]
        assert flaky.success
        assert flaky.attempts == 2
        assert [r.attempts for r in results.values()].count(1) == 2
        assert fleet.links.stats.made == 4
        fleet.assert_released()


async def test_retries_are_bounded(radio: Radio) -> None:
    """A device that always drops the link ends as connection_lost after max_attempts."""
    async with fleet_on(radio, ["blufi-v2"], flaky={0}, drops=99) as fleet:
        engine = fleet.engine(AdapterSlots(1), max_attempts=2)
        (result,) = await engine.provision(fleet.targets(), REQUEST).wait()
        assert result.error_key == "connection_lost"
        assert result.outcome is None
        assert result.status == "connection_lost"
        assert result.attempts == 2
        assert not result.success
        fleet.assert_released()


async def _consume_then_cancel(fleet: Fleet, run: ProvisioningRun, *, times: int) -> None:
    """Iterate ``run`` in a task; after its first result cancel the task ``times`` times."""
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in run:
            first.set()

    task = asyncio.create_task(consume())
    async with asyncio.timeout(30):
        await first.wait()  # one finished, others are connected or waiting
    assert fleet.links.stats.up > 0 or run.done < run.total
    for left in range(times, 0, -1):
        task.cancel()
        if left > 1:
            await asyncio.sleep(0)  # this cancellation reached aclose()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancelling_leaves_no_link_and_no_slot(radio: Radio) -> None:
    """Cancelling the iterating task mid-run: every link down, every slot free, devices closed."""
    async with fleet_on(radio, mixed(5)) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        run = engine.provision(fleet.targets(), REQUEST)
        await _consume_then_cancel(fleet, run, times=1)
        fleet.assert_released()
        assert run.slots_held == 0
        await run.aclose()  # idempotent
        assert run.done < run.total


async def test_cancelled_twice_still_releases_everything(radio: Radio) -> None:
    """A caller cancelled again while the run is closing (Home Assistant cancels a flow's task
    a second time when the flow ends): the links are still released before it returns."""
    async with fleet_on(radio, mixed(5)) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        run = engine.provision(fleet.targets(), REQUEST)
        await _consume_then_cancel(fleet, run, times=2)
        fleet.assert_released()
        assert run.slots_held == 0


async def test_leaving_the_context_cancels(radio: Radio) -> None:
    """``async with`` exited after the first result: the rest is cancelled and released."""
    async with fleet_on(radio, mixed(4)) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        async with engine.provision(fleet.targets(), REQUEST) as run:
            async for _ in run:
                break
        fleet.assert_released()
        assert run.done == 1


async def test_inputs(radio: Radio) -> None:
    """Per-device requests, bad input as a result, and the errors of a malformed batch."""
    async with fleet_on(radio, ["blufi-v2", "bluenet"]) as fleet:
        blufi, bluenet = fleet.targets()
        engine = fleet.engine(AdapterSlots(2))
        with pytest.raises(InvalidInputError):
            engine.provision([blufi])
        with pytest.raises(ValueError, match="twice"):
            engine.provision([blufi, blufi], REQUEST)
        with pytest.raises(ValueError, match="protocol"):
            engine.provision([Target(blufi.device)], REQUEST)
        with pytest.raises(ValueError, match="resolver"):
            engine.provision([Target(blufi.address, Protocol.BLUFI)], REQUEST)
        with pytest.raises(ValueError, match="max_attempts"):
            ProvisioningEngine(max_attempts=0)
        run = engine.provision(
            [replace(blufi, request=ProvisionRequest("x" * 40, PASSWORD)), bluenet],
            requests={bluenet.address.lower(): ProvisionRequest(SSID, "short")},
        )
        results = {result.protocol: result for result in await run.wait()}
        assert results[Protocol.BLUENET].error_key == "invalid_input"
        assert results[Protocol.BLUENET].attempts == 1
        assert results[Protocol.BLUENET].ssid == SSID
        assert results[Protocol.BLUFI].error_key == "invalid_input"
        fleet.assert_released()


async def test_addresses_and_ready_devices(radio: Radio) -> None:
    """An address with a resolver, and a ready device whose idle hold the engine ends."""
    async with fleet_on(radio, ["blufi-v2", "blufi-v1"]) as fleet:
        first, second = fleet.targets()
        found = {address: item.ble_device for address, item in fleet.found.items()}
        engine = fleet.engine(AdapterSlots(2), resolver=lambda address: found.get(address))
        ready = create_device(
            Protocol.BLUFI, second.device, backend=fleet.links.backend, idle_timeout=60.0
        )
        targets = [Target(first.address.lower(), Protocol.BLUFI, name="by address"), ready]
        results = {r.address: r for r in await engine.provision(targets, REQUEST).wait()}
        assert all(result.success for result in results.values())
        assert results[first.address].name == "by address"
        assert not ready.is_connected  # no idle hold after a batch
        assert not ready.closed  # the caller's device stays usable
        await ready.close()
        fleet.assert_released()


async def test_verification_reads_the_status(radio: Radio) -> None:
    """With verify, a success is confirmed by a status read on a second connection."""
    async with fleet_on(radio, ["blufi-v2", "bluenet"]) as fleet:
        engine = fleet.engine(AdapterSlots(2))
        results = await engine.provision(fleet.targets(), REQUEST, verify=True).wait()
        assert all(result.verified for result in results)
        assert fleet.links.stats.made == 4
        fleet.assert_released()
