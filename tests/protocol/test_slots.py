"""Connection slots: a waiter gets the next free slot without polling, bounded by a timeout."""

from __future__ import annotations

import asyncio

import pytest

from bench.bleak_backend import make_ble_device
from custom_components.ble_provisioning.protocol.errors import NoConnectionSlotError
from custom_components.ble_provisioning.protocol.slots import AdapterSlots, adapter_of


def _device(address: str, details: object) -> object:
    return make_ble_device(address, None, details)


def test_adapter_of() -> None:
    assert adapter_of(_device("AA:00:00:00:00:01", {"source": "proxy-1"})) == "proxy-1"  # type: ignore[arg-type]
    path = {"path": "/org/bluez/hci1/dev_AA_00_00_00_00_01"}
    assert adapter_of(_device("AA:00:00:00:00:01", path)) == "hci1"  # type: ignore[arg-type]
    assert adapter_of(_device("AA:00:00:00:00:01", None)) == "default"  # type: ignore[arg-type]


async def test_waiter_gets_the_released_slot_in_order() -> None:
    slots = AdapterSlots(2)
    first = make_ble_device("AA:00:00:00:00:01", None, {"source": "p"})
    leases = [await slots.acquire(first, 1.0) for _ in range(2)]
    order: list[int] = []

    async def wait(index: int) -> None:
        lease = await slots.acquire(first, 60.0)
        order.append(index)
        lease.release()

    waiters = [asyncio.create_task(wait(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert order == []  # both slots taken: everybody waits
    leases[0].release()
    leases[0].release()  # idempotent: gives back one slot only
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2]
    other = make_ble_device("AA:00:00:00:00:02", None, {"source": "q"})
    (await slots.acquire(other, 0.01)).release()  # another adapter has its own slots
    leases[1].release()


async def test_timeout_is_typed() -> None:
    slots = AdapterSlots(1)
    device = make_ble_device("AA:00:00:00:00:01", None, {"source": "p"})
    lease = await slots.acquire(device, 1.0)
    with pytest.raises(NoConnectionSlotError, match="no free connection slot"):
        await slots.acquire(device, 0.01)
    lease.release()
    with pytest.raises(ValueError, match="at least 1"):
        AdapterSlots(0)
