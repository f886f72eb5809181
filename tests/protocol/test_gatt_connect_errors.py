"""GattLink against a scripted ``establish_connection``: each connect failure is typed and gives
the connection slot back; a backend that hides the MTU still connects at ATT's minimum."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bleak.exc import BleakError
from bleak_retry_connector import BleakNotFoundError, BleakOutOfConnectionSlotsError
import pytest

from bench.bleak_backend import make_ble_device
from custom_components.ble_provisioning.protocol import gatt
from custom_components.ble_provisioning.protocol.errors import (
    ConnectionLostError,
    DeviceNotFoundError,
    NoConnectionSlotError,
    ProvisioningConnectionError,
    ProvisioningError,
    ProvisioningTimeoutError,
)
from custom_components.ble_provisioning.protocol.gatt import DEFAULT_MTU, GattLink
from custom_components.ble_provisioning.protocol.slots import AdapterSlots

SERVICE = "0000ffff-0000-1000-8000-00805f9b34fb"
CHAR = "0000ff01-0000-1000-8000-00805f9b34fb"
ADDRESS = "24:0A:C4:00:00:51"


class _Char:
    uuid = CHAR

    @property
    def max_write_without_response_size(self) -> int:
        raise AttributeError("not known")  # a backend that does not say


class _Service:
    def get_characteristic(self, uuid: str) -> _Char | None:
        return _Char() if uuid == CHAR else None


class _Services:
    def get_service(self, uuid: str) -> _Service | None:
        return _Service() if uuid == SERVICE else None


class HiddenMtuClient:
    """A connected client whose backend neither reports nor acquires the MTU."""

    services = _Services()

    def __init__(self) -> None:
        self.is_connected = True
        self.acquire_attempts = 0
        self.disconnecting = asyncio.Event()
        self.disconnect_done = asyncio.Event()
        self.disconnect_done.set()  # answers at once unless a test clears it

    @property
    def mtu_size(self) -> int:
        raise BleakError("MTU not acquired")

    async def _acquire_mtu(self) -> None:
        self.acquire_attempts += 1
        raise BleakError("AcquireWrite not supported")

    async def disconnect(self) -> bool:
        self.disconnecting.set()
        await self.disconnect_done.wait()
        self.is_connected = False
        return True


def _link(slots: AdapterSlots, **kwargs: Any) -> GattLink:
    return GattLink(
        make_ble_device(ADDRESS, "BLUFI_DEVICE"),
        service_uuid=SERVICE,
        characteristics=(CHAR,),
        max_attempts=1,
        timeout=5.0,
        slots=slots,
        **kwargs,
    )


async def _slot_is_free(slots: AdapterSlots) -> bool:
    """Whether the (one-slot) adapter has its slot free: taken at once, then given back."""
    try:
        lease = await slots.acquire(make_ble_device(ADDRESS), 0.01)
    except NoConnectionSlotError:
        return False
    lease.release()
    return True


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (TimeoutError(), ProvisioningTimeoutError),
        (BleakNotFoundError("not in range"), DeviceNotFoundError),
        (BleakOutOfConnectionSlotsError("proxy full"), NoConnectionSlotError),
        (BleakError("le-connection-abort-by-local"), ProvisioningConnectionError),
        (OSError("adapter gone"), ProvisioningConnectionError),
    ],
    ids=["timeout", "not found", "out of slots", "bleak error", "os error"],
)
async def test_connect_failures_are_typed_and_give_the_slot_back(
    monkeypatch: pytest.MonkeyPatch, raised: Exception, expected: type[ProvisioningError]
) -> None:
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(gatt, "establish_connection", failing)
    slots = AdapterSlots(1)
    link = _link(slots)
    with pytest.raises(expected) as caught:
        await link.connect()
    assert caught.value.__cause__ is raised
    assert "BLUFI_DEVICE" in str(caught.value)
    assert not link.is_connected
    assert await _slot_is_free(slots)


async def test_a_cancelled_connect_gives_the_slot_back(monkeypatch: pytest.MonkeyPatch) -> None:
    started = asyncio.Event()

    async def hanging(*args: Any, **kwargs: Any) -> Any:
        started.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(gatt, "establish_connection", hanging)
    slots = AdapterSlots(1)
    task = asyncio.create_task(_link(slots).connect())
    await started.wait()
    assert not await _slot_is_free(slots)  # held while connecting
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _slot_is_free(slots)


async def test_a_backend_hiding_the_mtu_connects_at_the_minimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = HiddenMtuClient()
    callbacks: list[Callable[[Any], None]] = []

    async def connected(*args: Any, **kwargs: Any) -> HiddenMtuClient:
        callbacks.append(kwargs["disconnected_callback"])
        return client

    monkeypatch.setattr(gatt, "establish_connection", connected)
    dropped: list[None] = []
    slots = AdapterSlots(1)
    link = _link(slots, on_disconnect=lambda: dropped.append(None))
    await link.connect()
    assert link.is_connected
    assert client.acquire_attempts == 1  # asked once; its failure is not the link's
    assert (link.mtu, link.att_mtu, link.max_value_length) == (DEFAULT_MTU, DEFAULT_MTU, 20)
    assert not await _slot_is_free(slots)
    await link.disconnect()
    assert await _slot_is_free(slots)
    # The stack reports the disconnect we asked for afterwards: nothing more to release.
    callbacks[0](client)
    assert dropped == [None]
    assert await _slot_is_free(slots)
    assert not link.is_connected


async def test_wait_before_any_connection() -> None:
    """Without a link there is no drop to watch: ``wait`` bounds the operation alone."""
    link = _link(AdapterSlots(1))
    assert await link.wait(asyncio.sleep(0, "done"), 5.0, "a step") == "done"
    with pytest.raises(ProvisioningTimeoutError, match="no answer to a step"):
        await link.wait(asyncio.Event().wait(), 0.01, "a step")


async def test_a_disconnect_cancelled_midway_still_gives_the_slot_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cancelled while the stack disconnects (a run being cancelled): the slot is not lost."""
    client = HiddenMtuClient()
    client.disconnect_done.clear()  # the stack takes its time

    async def connected(*args: Any, **kwargs: Any) -> HiddenMtuClient:
        return client

    monkeypatch.setattr(gatt, "establish_connection", connected)
    slots = AdapterSlots(1)
    link = _link(slots)
    await link.connect()
    closing = asyncio.create_task(link.disconnect())
    await client.disconnecting.wait()
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert not link.is_connected
    assert await _slot_is_free(slots)
    # Waiters on the link are told it is gone (not left to their timeout).
    with pytest.raises(ConnectionLostError, match="connection lost during a step"):
        await link.wait(asyncio.Event().wait(), 30.0, "a step")
