"""Home Assistant's connection slots: a connect waits for a free proxy slot instead of failing."""

from __future__ import annotations

import asyncio
from unittest.mock import patch

import bleak_retry_connector
from habluetooth import get_manager
from homeassistant.core import HomeAssistant
import pytest

from bench.bleak_backend import make_ble_device
from bench.emulators.blufi import BlufiDeviceConfig, WifiAp
from bench.proxy import VirtualProxy
from custom_components.ble_provisioning.device import ha_device
from custom_components.ble_provisioning.protocol.engine import ProvisioningEngine
from custom_components.ble_provisioning.protocol.errors import NoConnectionSlotError
from custom_components.ble_provisioning.protocol.models import (
    Protocol,
    ProvisionOutcome,
    ProvisionRequest,
)
from custom_components.ble_provisioning.slots import HaConnectionSlots, ha_slots

from .conftest import PASSWORD, Bench

ADDRESSES = ["24:0A:C4:00:00:11", "24:0A:C4:00:00:12", "24:0A:C4:00:00:13"]
REQUEST = ProvisionRequest("HomeNet", PASSWORD)


async def _devices(bench: Bench, count: int) -> list[str]:
    for index, address in enumerate(ADDRESSES[:count]):
        config = BlufiDeviceConfig(networks=[WifiAp("HomeNet", -45, PASSWORD)], seed=index)
        await bench.blufi(config, address=address, profile="v6.0" if index % 2 else "v5.5")
    return ADDRESSES[:count]


@pytest.fixture
def no_out_of_slots_retry() -> object:
    """An out-of-slots failure would now stall for an hour: the tests' timeouts catch it."""
    return patch.object(bleak_retry_connector, "BLEAK_OUT_OF_SLOTS_BACKOFF_TIME", 3600.0)


@pytest.mark.proxy_slots(1)
async def test_second_device_waits_for_the_slot(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy, no_out_of_slots_retry: object
) -> None:
    """One slot, two devices at once: the second waits, then connects when the first releases."""
    addresses = await _devices(bench, 2)
    slots = ha_slots(hass)
    most: list[int] = []
    unsubscribe = get_manager().async_register_allocation_callback(
        lambda allocations: most.append(allocations.slots - allocations.free),
        virtual_proxy.source,
    )
    devices = [ha_device(hass, address, Protocol.BLUFI) for address in addresses]
    try:
        with no_out_of_slots_retry:  # type: ignore[attr-defined]
            async with asyncio.timeout(60):
                reports = await asyncio.gather(
                    *(device.provision(REQUEST, 10.0) for device in devices)
                )
    finally:
        unsubscribe()
        for device in devices:
            await device.close()
    assert [report.outcome for report in reports] == [ProvisionOutcome.CONNECTED] * 2
    assert slots.waits == 1  # the second connect waited instead of failing
    assert max(most) == 1
    assert slots.in_flight(virtual_proxy.source) == 0
    assert slots.waiting == 0
    assert virtual_proxy.allocated == []


@pytest.mark.proxy_slots(2)
async def test_engine_within_the_proxy_slots(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy, no_out_of_slots_retry: object
) -> None:
    """The library's engine through Home Assistant's manager: three devices, two slots."""
    addresses = await _devices(bench, 3)
    engine = ProvisioningEngine(slots=ha_slots(hass))
    devices = [ha_device(hass, address, Protocol.BLUFI) for address in addresses]
    try:
        with no_out_of_slots_retry:  # type: ignore[attr-defined]
            async with asyncio.timeout(60):
                results = await engine.provision(devices, REQUEST).wait()
    finally:
        for device in devices:
            await device.close()
    assert all(result.success for result in results)
    assert ha_slots(hass).waits >= 1
    assert virtual_proxy.allocated == []


@pytest.mark.proxy_slots(1)
async def test_bounded_wait_and_unknown_devices(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """No free slot in time: NoConnectionSlotError; a device nobody sees is not held back."""
    (address,) = await _devices(bench, 1)
    holder = ha_device(hass, address, Protocol.BLUFI, idle_timeout=60.0)
    slots = HaConnectionSlots(hass)
    try:
        await holder.identify()  # keeps the only slot
        assert virtual_proxy.allocated == [address]
        ble_device = make_ble_device(address, None, None)
        with pytest.raises(NoConnectionSlotError, match="no free connection slot"):
            await slots.acquire(ble_device, 0.05)
        assert slots.waiting == 0
        waiter = asyncio.create_task(slots.acquire(ble_device, 30.0))
        await asyncio.sleep(0)
        assert slots.waiting == 1
        await holder.disconnect()  # the proxy reports the freed slot: the waiter gets it
        lease = await asyncio.wait_for(waiter, 10)
        assert slots.in_flight(virtual_proxy.source) == 1
        lease.connected()
        assert slots.in_flight(virtual_proxy.source) == 0
        lease.release()
        lease.release()  # idempotent
        # A cancelled waiter leaves nothing behind.
        await holder.identify()
        cancelled = asyncio.create_task(slots.acquire(ble_device, 30.0))
        await asyncio.sleep(0)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert slots.waiting == 0
    finally:
        await holder.close()
    unknown = await slots.acquire(make_ble_device("24:0A:C4:00:00:99", None, None), 0.01)
    unknown.release()
    assert slots.in_flight(virtual_proxy.source) == 0
