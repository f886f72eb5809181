"""Home Assistant's connection slots: wait for a free slot of an adapter or proxy that sees it.

:class:`HaConnectionSlots` is the library's :class:`~.protocol.slots.ConnectionSlots` for Home
Assistant. It follows the bluetooth manager's slot allocations (habluetooth's
``async_current_allocations`` and allocation callbacks, which ESPHome proxies and local adapters
report) for every connectable scanner that currently sees the device, and grants a lease when one
of them has a free slot. Waiting is event-driven (an allocation change or a lease given back wakes
the waiters, first come first served) and bounded by the caller's timeout.

A granted lease counts as an in-flight claim on that scanner until the connection is up
(``connected()``) or given up (``release()``): the manager only sees a connection once the
adapter reports it, so without the claim several waiters woken by one free slot would all rush
it. A claim whose address the scanner already lists as allocated is not counted twice.

A scanner that reports no slots (``slots == 0``: unknown, e.g. not reported yet) is not limited
here; a device no connectable scanner sees gets a lease at once (the connect then fails with
"device not found"). The scanner a lease counts against is the strongest one with a free slot;
Home Assistant's client wrapper may still pick another with a free slot, which the next
allocation report corrects.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
import enum
from typing import Final

from bleak.backends.device import BLEDevice
from habluetooth import HaBluetoothSlotAllocations, get_manager
from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant

from .protocol.errors import NoConnectionSlotError
from .protocol.slots import ConnectionSlots, SlotLease

DATA_SLOTS: Final = "ble_provisioning_slots"


class _Busy(enum.Enum):
    BUSY = "busy"


_BUSY: Final = _Busy.BUSY

Pick = str | None | _Busy
"""A scanner source with a free slot, None (not accounted) or busy."""


@dataclass(slots=True)
class _Waiter:
    address: str
    future: asyncio.Future[str | None]


@dataclass(slots=True)
class _Lease:
    """One in-flight claim on a scanner's slot."""

    owner: HaConnectionSlots
    source: str | None
    address: str
    claimed: bool = field(default=True)

    def connected(self) -> None:
        """End the in-flight claim: the adapter now reports the connection itself."""
        self._end_claim()

    def release(self) -> None:
        """Give the slot back (idempotent) and wake the waiters."""
        self._end_claim()
        self.owner.dispatch()

    def _end_claim(self) -> None:
        if self.claimed:
            self.claimed = False
            self.owner.unclaim(self.source, self.address)


class HaConnectionSlots:
    """Connection slots as Home Assistant's bluetooth manager allocates them (see the module)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Follow ``hass``'s bluetooth manager (set up by the bluetooth integration)."""
        self._hass = hass
        self._claims: dict[str, list[str]] = {}
        self._waiters: deque[_Waiter] = deque()
        self._unsubscribe: Callable[[], None] | None = None
        self.waits = 0
        """How many acquisitions had to wait for a slot (diagnostics)."""

    def in_flight(self, source: str) -> int:
        """Count the connections granted on ``source`` that are not up yet."""
        return len(self._claims.get(source, ()))

    @property
    def waiting(self) -> int:
        """How many connects wait for a slot."""
        return len(self._waiters)

    async def acquire(self, ble_device: BLEDevice, timeout: float) -> SlotLease:
        """Return a lease once a scanner that sees the device has a free slot."""
        address = ble_device.address.upper()
        pick = self._pick(address)
        if not isinstance(pick, _Busy):
            return self._claim(pick, address)
        self.waits += 1
        waiter = _Waiter(address, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        self._subscribe()
        try:
            async with asyncio.timeout(timeout):
                source = await waiter.future
        except BaseException as err:
            if waiter.future.done() and not waiter.future.cancelled():
                # Granted in the same instant as the timeout or cancellation: give it back.
                _Lease(self, waiter.future.result(), address).release()
            if isinstance(err, TimeoutError):
                raise NoConnectionSlotError(
                    f"{address}: no free connection slot on any adapter or proxy"
                    f" within {timeout:g} s"
                ) from None
            raise
        finally:
            self._waiters.remove(waiter)
            if not self._waiters:
                self._unsubscribe_allocations()
        return _Lease(self, source, address)

    def _claim(self, source: str | None, address: str) -> _Lease:
        if source is not None:
            self._claims.setdefault(source, []).append(address)
        return _Lease(self, source, address)

    def unclaim(self, source: str | None, address: str) -> None:
        """End an in-flight claim (called by a lease)."""
        if source is None:
            return
        claims = self._claims.get(source)
        if claims and address in claims:
            claims.remove(address)
            if not claims:
                del self._claims[source]

    def _pick(self, address: str) -> Pick:
        scanners = bluetooth.async_scanner_devices_by_address(self._hass, address, True)
        if not scanners:
            return None
        manager = get_manager()
        for scanner_device in sorted(
            scanners, key=lambda item: item.advertisement.rssi, reverse=True
        ):
            source = scanner_device.scanner.source
            allocations = manager.async_current_allocations(source)
            if not allocations or allocations[0].slots <= 0:
                return None
            if self._free(allocations[0]) > 0:
                return source
        return _BUSY

    def _free(self, allocations: HaBluetoothSlotAllocations) -> int:
        allocated = {address.upper() for address in allocations.allocated}
        claims = self._claims.get(allocations.source, ())
        return allocations.free - sum(1 for address in claims if address not in allocated)

    def dispatch(self, _allocations: HaBluetoothSlotAllocations | None = None) -> None:
        """Grant free slots to the waiters, first come first served (no stampede)."""
        for waiter in list(self._waiters):
            if waiter.future.done():
                continue
            pick = self._pick(waiter.address)
            if isinstance(pick, _Busy):
                continue
            self._claim(pick, waiter.address)
            waiter.future.set_result(pick)

    def _subscribe(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = get_manager().async_register_allocation_callback(
                self.dispatch, None
            )

    def _unsubscribe_allocations(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()


def ha_slots(hass: HomeAssistant) -> HaConnectionSlots:
    """Return the connection slots shared by every device of this integration in ``hass``."""
    slots = hass.data.get(DATA_SLOTS)
    if not isinstance(slots, HaConnectionSlots):
        slots = hass.data[DATA_SLOTS] = HaConnectionSlots(hass)
    return slots


class EntrySlots:
    """The slots of an entry's device: a connect's own wait bound, or a batch's while one runs.

    A batch (:mod:`.batch`) queues many devices for few slots; an entry's device in it waits as
    long as the batch's own devices do (``wait_timeout``, set while the batch holds the entry)
    instead of failing after one connect's bound.
    """

    def __init__(self, inner: ConnectionSlots) -> None:
        """Wrap ``inner`` (Home Assistant's shared slots)."""
        self._inner = inner
        self.wait_timeout: float | None = None

    async def acquire(self, ble_device: BLEDevice, timeout: float) -> SlotLease:
        """Wait for a slot: ``wait_timeout`` when set, else the caller's bound."""
        bound = timeout if self.wait_timeout is None else self.wait_timeout
        return await self._inner.acquire(ble_device, bound)
