"""GattLink, the connection both protocol clients share: typed errors and disconnect-aware waits."""

from __future__ import annotations

import asyncio

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
import pytest

from bench.device import GenericTestPeripheral as Generic
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.errors import (
    MissingServiceError,
    ProtocolDecodeError,
    ProvisioningConnectionError,
    ProvisioningTimeoutError,
)
from custom_components.ble_provisioning.protocol.gatt import DEFAULT_MTU, GattLink
from custom_components.ble_provisioning.protocol.slots import AdapterSlots

ADDRESS = "AA:BB:CC:DD:EE:21"


async def _device(radio: Radio, peripheral: Generic) -> BLEDevice:
    await radio.add_peripheral(peripheral)
    device = await BleakScanner.find_device_by_address(
        peripheral.address, timeout=30.0, backend=radio.scanner_backend
    )
    assert device is not None
    return device


def _link(radio: Radio, device: BLEDevice, **kwargs: object) -> GattLink:
    return GattLink(
        device,
        service_uuid=Generic.SERVICE,
        characteristics=(Generic.WRITE_CHAR, Generic.NOTIFY_CHAR, Generic.READ_CHAR),
        backend=radio.client_backend,
        max_attempts=1,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_round_trip_and_idempotent_disconnect(radio: Radio) -> None:
    peripheral = Generic(address=ADDRESS)
    link = _link(radio, await _device(radio, peripheral))
    assert link.mtu == DEFAULT_MTU  # unknown before connecting
    assert link.name == "BENCH"
    assert link.address == ADDRESS
    await link.connect()
    await link.connect()  # already connected: nothing happens
    assert link.is_connected
    assert link.mtu == 517
    assert link.max_value_length == 512  # ATT's longest attribute value, below MTU - 3
    received: asyncio.Queue[bytes] = asyncio.Queue()
    await link.start_notify(Generic.NOTIFY_CHAR, received.put_nowait)
    await link.write(Generic.WRITE_CHAR, b"ping")
    assert await asyncio.wait_for(received.get(), 2) == b"ping"
    assert await link.read(Generic.READ_CHAR) == b"bench"
    await link.stop_notify(Generic.NOTIFY_CHAR)
    await link.disconnect()
    await link.disconnect()
    assert not link.is_connected
    with pytest.raises(ProvisioningConnectionError, match="not connected"):
        await link.read(Generic.READ_CHAR)


async def test_missing_service_and_characteristic(radio: Radio) -> None:
    device = await _device(radio, Generic(address=ADDRESS))
    no_service = GattLink(
        device,
        service_uuid="0000dead-0000-1000-8000-00805f9b34fb",
        characteristics=(),
        backend=radio.client_backend,
        max_attempts=1,
    )
    with pytest.raises(MissingServiceError, match="service"):
        await no_service.connect()
    assert not no_service.is_connected
    no_char = GattLink(
        device,
        service_uuid=Generic.SERVICE,
        characteristics=("0000beef-0000-1000-8000-00805f9b34fb",),
        backend=radio.client_backend,
        max_attempts=1,
    )
    with pytest.raises(MissingServiceError, match="characteristic"):
        await no_char.connect()
    assert not no_char.is_connected
    link = _link(radio, device)
    await link.connect()
    with pytest.raises(MissingServiceError, match="not known"):
        await link.read("0000beef-0000-1000-8000-00805f9b34fb")
    await link.disconnect()


async def test_att_error_becomes_connection_error(radio: Radio) -> None:
    link = _link(radio, await _device(radio, Generic(address=ADDRESS)))
    await link.connect()
    # NOTIFY_CHAR has no WRITE: the device answers ATT error 0x03.
    with pytest.raises(ProvisioningConnectionError, match="write to"):
        await link.write(Generic.NOTIFY_CHAR, b"x")
    await link.disconnect()


async def test_wait_maps_every_outcome(radio: Radio) -> None:
    link = _link(radio, await _device(radio, Generic(address=ADDRESS)))
    await link.connect()

    async def fail(err: BaseException) -> None:
        raise err

    assert await link.wait(asyncio.sleep(0, "done"), 1, "noop") == "done"
    with pytest.raises(ProtocolDecodeError):  # the library's own errors pass through
        await link.wait(fail(ProtocolDecodeError("bad")), 1, "decode")
    with pytest.raises(ProvisioningTimeoutError, match="op timed out"):
        await link.wait(fail(TimeoutError()), 1, "op")
    with pytest.raises(ProvisioningConnectionError, match="op failed"):
        await link.wait(fail(BleakError("boom")), 1, "op")
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    with pytest.raises(ProvisioningTimeoutError, match=r"no answer to op within 0\.05 s"):
        await link.wait(never, 0.05, "op")
    assert never.cancelled()
    await link.disconnect()


async def test_wait_fails_fast_when_the_link_drops(radio: Radio) -> None:
    peripheral = Generic(address=ADDRESS)
    dropped: list[bool] = []
    link = _link(
        radio, await _device(radio, peripheral), on_disconnect=lambda: dropped.append(True)
    )
    await link.connect()
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    loop.call_later(0.05, lambda: asyncio.ensure_future(peripheral.disconnect()))
    # A connection error, not the ProvisioningTimeoutError of the 60 s bound.
    with pytest.raises(ProvisioningConnectionError, match="connection lost during op"):
        await link.wait(never, 60, "op")
    assert dropped == [True]
    await link.disconnect()


async def test_cancelled_wait_cancels_the_operation(radio: Radio) -> None:
    link = _link(radio, await _device(radio, Generic(address=ADDRESS)))
    await link.connect()
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(link.wait(never, 10, "op"))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert never.cancelled()
    await link.disconnect()


async def test_unreachable_device_is_a_connection_error(radio: Radio) -> None:
    peripheral = Generic(address=ADDRESS)
    device = await _device(radio, peripheral)
    await radio.remove_peripheral(peripheral)
    link = _link(radio, device, timeout=0.5)
    with pytest.raises((ProvisioningConnectionError, ProvisioningTimeoutError)):
        await link.connect()
    assert not link.is_connected


async def test_disconnect_cancelled_midway_gives_the_slot_back(radio: Radio) -> None:
    """A run closed while a link is disconnecting: the slot is free for the next device."""
    slots = AdapterSlots(1)
    device = await _device(radio, Generic(address=ADDRESS))
    link = _link(radio, device, slots=slots)
    await link.connect()
    client = link._client
    assert client is not None
    entered = asyncio.Event()
    real_disconnect = client.disconnect

    async def slow_disconnect() -> bool:
        entered.set()
        await asyncio.Event().wait()  # the stack never answers before the caller gives up
        return await real_disconnect()

    client.disconnect = slow_disconnect  # type: ignore[method-assign]
    task = asyncio.create_task(link.disconnect())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The only slot of the adapter is free again: taking it does not wait.
    lease = await slots.acquire(device, 30.0)
    lease.release()
    await real_disconnect()
