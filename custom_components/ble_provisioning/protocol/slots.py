"""Connection slots: wait for a free one instead of failing (or polling) when an adapter is full.

A BLE adapter or an ESPHome Bluetooth proxy holds only a few connections at once (a proxy has
~3). :class:`~.gatt.GattLink` asks a :class:`ConnectionSlots` for a lease before it connects,
tells the lease when the link is up, and releases it when the link goes down, so a slot is never
held by a device that is not being talked to. Waiting is event-driven (no polling), bounded by the
caller's timeout, and ends in :class:`~.errors.NoConnectionSlotError`.

:class:`AdapterSlots` counts slots itself, per adapter (a local BlueZ adapter, or any backend whose
devices name their adapter); Home Assistant supplies its own implementation that follows the
bluetooth manager's slot allocations of every adapter and proxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from bleak.backends.device import BLEDevice

from .errors import NoConnectionSlotError


class SlotLease(Protocol):
    """One connection's claim on a slot."""

    def connected(self) -> None:
        """Call when the link is up (the adapter now accounts for the connection itself)."""

    def release(self) -> None:
        """Call when the link is down or the connection attempt failed (idempotent)."""


class ConnectionSlots(Protocol):
    """Hands out leases on connection slots."""

    async def acquire(self, ble_device: BLEDevice, timeout: float) -> SlotLease:
        """Return a lease once ``ble_device`` may be connected; raise after ``timeout`` s.

        Raises :class:`~.errors.NoConnectionSlotError` when no slot frees up in time.
        """
        ...


def adapter_of(ble_device: BLEDevice) -> str:
    """Best-effort name of the adapter or proxy a ``BLEDevice`` was seen through.

    habluetooth puts ``{"source": ...}`` in ``details``; bleak's BlueZ backend puts the D-Bus
    object path (``/org/bluez/hci0/dev_...``). Anything else counts as one adapter.
    """
    details: Any = ble_device.details
    if isinstance(details, dict):
        if isinstance(source := details.get("source"), str):
            return source
        path = details.get("path")
        if isinstance(path, str) and path.startswith("/org/bluez/"):
            return path.split("/")[3]
    return "default"


class _AdapterLease:
    """A permit of an :class:`AdapterSlots` semaphore, given back once."""

    __slots__ = ("_semaphore",)

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore: asyncio.Semaphore | None = semaphore

    def connected(self) -> None:
        """Keep the permit while the link is up."""

    def release(self) -> None:
        """Give the permit back (once)."""
        if self._semaphore is not None:
            self._semaphore.release()
            self._semaphore = None


class AdapterSlots:
    """``slots`` concurrent connections per adapter, counted here.

    Use one instance for every device that shares the adapters (e.g. the whole batch of a
    provisioning run). ``adapter_key`` maps a device to its adapter (default :func:`adapter_of`).
    """

    def __init__(
        self, slots: int = 3, *, adapter_key: Callable[[BLEDevice], str] = adapter_of
    ) -> None:
        """Allow ``slots`` (≥ 1) simultaneous connections on each adapter."""
        if slots < 1:
            msg = "slots must be at least 1"
            raise ValueError(msg)
        self.slots = slots
        self._adapter_key = adapter_key
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    async def acquire(self, ble_device: BLEDevice, timeout: float) -> SlotLease:
        """Wait (bounded) for a free slot on the device's adapter."""
        key = self._adapter_key(ble_device)
        semaphore = self._semaphores.setdefault(key, asyncio.Semaphore(self.slots))
        try:
            async with asyncio.timeout(timeout):
                await semaphore.acquire()
        except TimeoutError:
            raise NoConnectionSlotError(
                f"{ble_device.address}: no free connection slot on {key} within {timeout:g} s"
            ) from None
        return _AdapterLease(semaphore)
