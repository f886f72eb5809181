"""Home Assistant's connection slots against a scripted bluetooth manager: the rare interleavings.

The manager's allocations and the scanners that see a device are stubbed, so each case (two
waiters, a grant racing a cancellation, a scanner without slot reports) happens exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from habluetooth import HaBluetoothSlotAllocations
from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
import pytest

from bench.bleak_backend import make_ble_device
from custom_components.ble_provisioning import slots as slots_module
from custom_components.ble_provisioning.slots import HaConnectionSlots

from .conftest import wait_for

FIRST, SECOND = "24:0A:C4:00:00:21", "24:0A:C4:00:00:22"
Callback = Callable[[HaBluetoothSlotAllocations], None]


@dataclass
class Manager:
    """The part of habluetooth's manager the slots read: allocations and their callbacks."""

    allocations: dict[str, HaBluetoothSlotAllocations] = field(default_factory=dict)
    callbacks: list[Callback] = field(default_factory=list)
    registrations: int = 0
    seen_by: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    """Address -> (scanner source, RSSI) of each scanner that sees it."""

    def set(self, source: str, slots: int, allocated: list[str]) -> None:
        free = max(slots - len(allocated), 0)
        self.allocations[source] = HaBluetoothSlotAllocations(source, slots, free, allocated)

    def report(self, source: str, slots: int, allocated: list[str]) -> None:
        """The adapter reports a change: every registered callback hears it."""
        self.set(source, slots, allocated)
        for callback in list(self.callbacks):
            callback(self.allocations[source])

    def async_current_allocations(self, source: str | None) -> list[HaBluetoothSlotAllocations]:
        return [self.allocations[source]] if source in self.allocations else []

    def async_register_allocation_callback(
        self, callback: Callback, source: str | None
    ) -> Callable[[], None]:
        self.registrations += 1
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def scanner_devices(self, _hass: object, address: str, connectable: bool) -> list[object]:
        assert connectable
        return [
            SimpleNamespace(
                scanner=SimpleNamespace(source=source),
                advertisement=SimpleNamespace(rssi=rssi),
            )
            for source, rssi in self.seen_by.get(address, [])
        ]


@pytest.fixture
def manager(monkeypatch: pytest.MonkeyPatch) -> Manager:
    fake = Manager()
    monkeypatch.setattr(slots_module, "get_manager", lambda: fake)
    monkeypatch.setattr(bluetooth, "async_scanner_devices_by_address", fake.scanner_devices)
    return fake


async def test_two_waiters_share_one_subscription_first_come_first_served(
    hass: HomeAssistant, manager: Manager
) -> None:
    manager.seen_by = {FIRST: [("proxy", -60)], SECOND: [("proxy", -60)]}
    manager.set("proxy", 1, ["24:0A:C4:00:00:99"])  # the one slot is taken
    slots = HaConnectionSlots(hass)
    first = asyncio.create_task(slots.acquire(make_ble_device(FIRST), 30))
    await wait_for(lambda: slots.waiting == 1)
    second = asyncio.create_task(slots.acquire(make_ble_device(SECOND), 30))
    await wait_for(lambda: slots.waiting == 2)
    assert manager.registrations == 1  # one subscription for every waiter
    manager.report("proxy", 1, [])  # the slot is free: only the first waiter gets it
    lease = await first
    assert not second.done()
    assert slots.in_flight("proxy") == 1
    assert len(manager.callbacks) == 1  # still subscribed: the second one waits
    lease.connected()  # now the adapter lists it itself
    manager.report("proxy", 1, [FIRST])
    assert not second.done()
    lease.release()
    manager.report("proxy", 1, [])
    second_lease = await second
    assert slots.waiting == 0
    assert manager.callbacks == []  # the last waiter gone: unsubscribed
    second_lease.release()
    assert slots.in_flight("proxy") == 0


async def test_a_slot_granted_as_the_waiter_is_cancelled_is_given_back(
    hass: HomeAssistant, manager: Manager
) -> None:
    manager.seen_by = {FIRST: [("proxy", -60)]}
    manager.set("proxy", 1, [SECOND])
    slots = HaConnectionSlots(hass)
    waiter = asyncio.create_task(slots.acquire(make_ble_device(FIRST), 30))
    await wait_for(lambda: slots.waiting == 1)
    manager.report("proxy", 1, [])  # granted ...
    assert slots.in_flight("proxy") == 1
    waiter.cancel()  # ... and cancelled before the waiter ran again
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert slots.in_flight("proxy") == 0  # the claim was given back
    assert (slots.waiting, manager.callbacks) == (0, [])
    lease = await asyncio.wait_for(slots.acquire(make_ble_device(FIRST), 30), 10)
    assert slots.in_flight("proxy") == 1  # the slot was free again at once
    lease.release()


async def test_the_strongest_scanner_with_a_free_slot(
    hass: HomeAssistant, manager: Manager
) -> None:
    manager.seen_by = {FIRST: [("weak", -90), ("strong", -40)]}
    manager.set("strong", 1, [SECOND])
    manager.set("weak", 2, [])
    slots = HaConnectionSlots(hass)
    lease = await slots.acquire(make_ble_device(FIRST), 0.01)
    assert (slots.in_flight("weak"), slots.in_flight("strong")) == (1, 0)
    assert slots.waits == 0
    lease.release()
    manager.set("strong", 2, [SECOND])
    lease = await slots.acquire(make_ble_device(FIRST), 0.01)
    assert (slots.in_flight("weak"), slots.in_flight("strong")) == (0, 1)
    lease.release()


@pytest.mark.parametrize("reported", [None, 0], ids=["no report", "zero slots"])
async def test_a_scanner_without_slot_reports_does_not_hold_back(
    hass: HomeAssistant, manager: Manager, reported: int | None
) -> None:
    """Unknown slots (not reported yet, or 0): a lease at once, counted against no scanner."""
    manager.seen_by = {FIRST: [("adapter", -50)]}
    if reported is not None:
        manager.set("adapter", reported, [])
    slots = HaConnectionSlots(hass)
    leases = [await slots.acquire(make_ble_device(FIRST), 0.01) for _ in range(3)]
    assert slots.in_flight("adapter") == 0
    assert (slots.waits, manager.registrations) == (0, 0)
    for lease in leases:
        lease.release()


async def test_ending_a_claim_that_is_not_there_changes_nothing(
    hass: HomeAssistant, manager: Manager
) -> None:
    manager.seen_by = {FIRST: [("proxy", -60)]}
    manager.set("proxy", 3, [])
    slots = HaConnectionSlots(hass)
    lease = await slots.acquire(make_ble_device(FIRST), 0.01)
    slots.unclaim("proxy", SECOND)
    slots.unclaim("elsewhere", FIRST)
    slots.unclaim(None, FIRST)
    assert slots.in_flight("proxy") == 1
    lease.release()
    slots.unclaim("proxy", FIRST)  # already ended
    assert slots.in_flight("proxy") == 0
