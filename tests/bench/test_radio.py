"""Stand-alone bench tests: Bumble radio + bleak backend + emulator base, no Home Assistant."""

from __future__ import annotations

import asyncio
import time

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
import bleak_retry_connector
from bleak_retry_connector import establish_connection
import pytest

from bench.advertising import LEGACY_ADV_MAX, parse_advertising_data
from bench.device import (
    AttError,
    Connection,
    EmulatedPeripheral,
    GattCharacteristic,
    GattService,
    GenericTestPeripheral as Generic,
    Prop,
)
from bench.radio import Radio

from .scenario import echo_round_trips_and_disconnect, report_timings

ADDRESS = "AA:BB:CC:DD:EE:01"


async def _find(radio: Radio, service_uuid: str, timeout: float = 30.0) -> BLEDevice:
    device = await BleakScanner.find_device_by_filter(
        lambda _d, adv: service_uuid in adv.service_uuids,
        timeout=timeout,
        backend=radio.scanner_backend,
    )
    assert device is not None, f"{service_uuid} not seen"
    return device


async def _connect(
    radio: Radio, device: BLEDevice, **kwargs: object
) -> bleak_retry_connector.BleakClientWithServiceCache:
    return await establish_connection(
        bleak_retry_connector.BleakClientWithServiceCache,
        device,
        "bench",
        backend=radio.client_backend,
        max_attempts=1,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_scan_finds_peripheral_by_service_uuid(radio: Radio) -> None:
    other = Generic(address="AA:BB:CC:DD:EE:02", name="OTHER", service_uuids=["1234"])
    await radio.add_peripheral(other)
    await radio.add_peripheral(Generic(address=ADDRESS))
    device = await _find(radio, Generic.SERVICE)
    assert device.address == ADDRESS
    assert device.name == "BENCH"
    # Details are JSON-friendly strings (Home Assistant stores them).
    assert device.details == {"address": ADDRESS, "address_type": "random"}


async def test_scanner_service_filter(radio: Radio) -> None:
    await radio.add_peripheral(Generic(address="AA:BB:CC:DD:EE:02", service_uuids=["1234"]))
    await radio.add_peripheral(Generic(address=ADDRESS))
    seen: set[str] = set()
    async with BleakScanner(
        lambda d, _a: seen.add(d.address),
        service_uuids=[Generic.SERVICE],
        backend=radio.scanner_backend,
    ):
        async with asyncio.timeout(10):
            while ADDRESS not in seen:  # noqa: ASYNC110 - the callback has no event
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.15)  # the other device advertises as often (every 20 ms)
    assert seen == {ADDRESS}


async def test_connect_mtu_write_notify_read(radio: Radio) -> None:
    peripheral = Generic(address=ADDRESS)
    await radio.add_peripheral(peripheral)
    client = await _connect(radio, await _find(radio, Generic.SERVICE))
    try:
        assert client.is_connected
        assert client.mtu_size == 517
        assert peripheral.mtu == 517
        service = client.services.get_service(Generic.SERVICE)
        assert service is not None
        assert {c.uuid for c in service.characteristics} == {
            Generic.WRITE_CHAR,
            Generic.NOTIFY_CHAR,
            Generic.READ_CHAR,
        }
        notify_char = client.services.get_characteristic(Generic.NOTIFY_CHAR)
        assert notify_char is not None
        assert notify_char.properties == ["notify"]
        # The CCCD is discovered as a descriptor.
        assert [d.uuid for d in notify_char.descriptors] == ["00002902-0000-1000-8000-00805f9b34fb"]

        received: asyncio.Queue[bytes] = asyncio.Queue()
        await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, d: received.put_nowait(bytes(d)))
        assert peripheral.subscriptions[Generic.NOTIFY_CHAR] is True

        await client.write_gatt_char(Generic.WRITE_CHAR, b"hello", response=True)
        assert peripheral.writes == [b"hello"]
        assert await asyncio.wait_for(received.get(), 1) == b"hello"

        await client.write_gatt_char(Generic.WRITE_CHAR, b"nr", response=False)
        assert await asyncio.wait_for(received.get(), 1) == b"nr"
        assert peripheral.writes == [b"hello", b"nr"]

        assert await client.read_gatt_char(Generic.READ_CHAR) == bytearray(b"bench")

        await client.stop_notify(Generic.NOTIFY_CHAR)
        assert peripheral.subscriptions[Generic.NOTIFY_CHAR] is False
        assert await peripheral.notify(Generic.NOTIFY_CHAR, b"late") == 0
    finally:
        await client.disconnect()
    assert not client.is_connected


@pytest.mark.radio_mtu(23)
async def test_mtu_23_and_notification_cut_at_mtu_minus_3(radio: Radio) -> None:
    peripheral = Generic(address=ADDRESS, echo=False)
    await radio.add_peripheral(peripheral)
    client = await _connect(radio, await _find(radio, Generic.SERVICE))
    try:
        assert client.mtu_size == 23
        received: asyncio.Queue[bytes] = asyncio.Queue()
        await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, d: received.put_nowait(bytes(d)))
        payload = bytes(range(40))
        assert await peripheral.notify(Generic.NOTIFY_CHAR, payload) == 1
        assert await asyncio.wait_for(received.get(), 1) == payload[:20]
    finally:
        await client.disconnect()


async def test_notification_cut_at_517_minus_3(radio: Radio) -> None:
    peripheral = Generic(address=ADDRESS, echo=False)
    await radio.add_peripheral(peripheral)
    client = await _connect(radio, await _find(radio, Generic.SERVICE))
    try:
        received: asyncio.Queue[bytes] = asyncio.Queue()
        await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, d: received.put_nowait(bytes(d)))
        await peripheral.notify(Generic.NOTIFY_CHAR, b"\x55" * 600)
        assert len(await asyncio.wait_for(received.get(), 1)) == 514
    finally:
        await client.disconnect()


async def test_peripheral_max_mtu_limits_exchange(radio: Radio) -> None:
    await radio.add_peripheral(Generic(address=ADDRESS, max_mtu=185))
    client = await _connect(radio, await _find(radio, Generic.SERVICE))
    try:
        assert client.mtu_size == 185
    finally:
        await client.disconnect()


async def test_write_to_notify_only_characteristic_is_rejected(radio: Radio) -> None:
    peripheral = Generic(address=ADDRESS)
    await radio.add_peripheral(peripheral)
    client = await _connect(radio, await _find(radio, Generic.SERVICE))
    try:
        with pytest.raises(BleakError, match="0x03") as err:
            await client.write_gatt_char(Generic.NOTIFY_CHAR, b"x", response=True)
        assert "WRITE_NOT_PERMITTED" in str(err.value)
        with pytest.raises(BleakError, match="0x03"):
            await client.write_gatt_char(Generic.READ_CHAR, b"x", response=True)
        # Write-without-response to a characteristic lacking that property is dropped.
        await client.write_gatt_char(Generic.READ_CHAR, b"dropped", response=False)
        await client.write_gatt_char(Generic.WRITE_CHAR, b"after", response=True)
        assert peripheral.writes == [b"after"]
        assert peripheral.values[Generic.READ_CHAR] == b"bench"
        # Reading a characteristic without READ fails with READ_NOT_PERMITTED.
        with pytest.raises(BleakError, match="0x02"):
            await client.read_gatt_char(Generic.WRITE_CHAR)
    finally:
        await client.disconnect()


class _Strict(EmulatedPeripheral):
    """Rejects non-UTF-8 writes with VALUE_NOT_ALLOWED (0x13) from an async handler."""

    services = (
        GattService(
            "0000ee00-0000-1000-8000-00805f9b34fb",
            (GattCharacteristic("0000ee01-0000-1000-8000-00805f9b34fb", Prop.WRITE),),
        ),
    )

    async def on_write(self, char_uuid: str, value: bytes, connection: Connection) -> None:
        try:
            value.decode("utf-8", errors="strict")
        except UnicodeDecodeError as err:
            raise AttError(0x13) from err
        self.values[char_uuid] = value


async def test_handler_att_error_reaches_bleak(radio: Radio) -> None:
    peripheral = _Strict(
        address=ADDRESS, name="STRICT", service_uuids=["0000ee00-0000-1000-8000-00805f9b34fb"]
    )
    await radio.add_peripheral(peripheral)
    client = await _connect(radio, await _find(radio, "0000ee00-0000-1000-8000-00805f9b34fb"))
    char = "0000ee01-0000-1000-8000-00805f9b34fb"
    try:
        await client.write_gatt_char(char, "ok ✓".encode(), response=True)
        assert peripheral.values[char] == "ok ✓".encode()
        with pytest.raises(BleakError, match="0x13"):
            await client.write_gatt_char(char, b"\xff\xfe", response=True)
    finally:
        await client.disconnect()


def test_advertisement_over_31_bytes_is_rejected() -> None:
    # flags (3) + 16-bit UUID list (4) + name (2 + n): n = 22 gives 31, n = 23 gives 32.
    ok = Generic(address=ADDRESS, name="N" * 22, service_uuids=["ffff"])
    assert len(ok.advertising_data) == LEGACY_ADV_MAX
    with pytest.raises(ValueError, match="32 bytes"):
        Generic(address=ADDRESS, name="N" * 23, service_uuids=["ffff"])


def test_blufi_and_bluenet_advertisements_fit_and_parse() -> None:
    blufi = EmulatedPeripheral(
        address=ADDRESS, name="BLUFI_DEVICE", service_uuids=["0000ffff-0000-1000-8000-00805f9b34fb"]
    )
    parsed = parse_advertising_data(blufi.advertising_data)
    assert parsed.local_name == "BLUFI_DEVICE"
    assert parsed.service_uuids == ["0000ffff-0000-1000-8000-00805f9b34fb"]
    bluenet = EmulatedPeripheral(
        address=ADDRESS,
        service_uuids=["fbe51523-b3e6-4f68-b6da-410c0bba1a78"],
        manufacturer_data={0xFFFF: b"\x01"},
    )
    parsed = parse_advertising_data(bluenet.advertising_data)
    assert parsed.local_name is None
    assert parsed.service_uuids == ["fbe51523-b3e6-4f68-b6da-410c0bba1a78"]
    assert parsed.manufacturer_data == {0xFFFF: b"\x01"}


async def test_device_initiated_disconnect_fires_disconnected_callback(radio: Radio) -> None:
    peripheral = Generic(address=ADDRESS)
    await radio.add_peripheral(peripheral)
    dropped = asyncio.Event()
    client = await _connect(
        radio, await _find(radio, Generic.SERVICE), disconnected_callback=lambda _c: dropped.set()
    )
    assert peripheral.is_connected
    await peripheral.disconnect()
    await asyncio.wait_for(dropped.wait(), 30)
    assert not client.is_connected
    assert not peripheral.is_connected


async def test_client_disconnect_does_not_fire_callback(radio: Radio) -> None:
    await radio.add_peripheral(Generic(address=ADDRESS))
    calls: list[object] = []
    client = BleakClient(
        await _find(radio, Generic.SERVICE),
        disconnected_callback=calls.append,
        backend=radio.client_backend,
    )
    await client.connect()
    assert client.is_connected
    await client.disconnect()
    await asyncio.sleep(0.01)
    assert calls == []
    # The device advertises again after the link is gone (auto-restart) and reconnects.
    client2 = await _connect(radio, await _find(radio, Generic.SERVICE))
    assert client2.is_connected
    await client2.disconnect()


async def test_removed_peripheral_is_not_found(radio: Radio) -> None:
    peripheral = Generic(address=ADDRESS)
    await radio.add_peripheral(peripheral)
    await _find(radio, Generic.SERVICE)
    await radio.remove_peripheral(peripheral)
    await asyncio.sleep(0.05)
    assert (
        await BleakScanner.find_device_by_filter(
            lambda d, _a: d.address == ADDRESS, timeout=0.2, backend=radio.scanner_backend
        )
        is None
    )


async def test_bench_scenario_timing(radio: Radio, record_property: object) -> None:
    """Discovery -> establish_connection -> 10 write/notify round trips -> disconnect."""
    started = time.perf_counter()
    peripheral = Generic(address=ADDRESS)
    await radio.add_peripheral(peripheral)
    device = await _find(radio, Generic.SERVICE)
    found = time.perf_counter()
    client = await _connect(radio, device)
    connected = time.perf_counter()
    trips, done = await echo_round_trips_and_disconnect(client)
    timings = report_timings(
        "standalone",
        record_property,  # type: ignore[arg-type]
        started=started,
        found=found,
        connected=connected,
        trips=trips,
        done=done,
    )
    assert set(timings) == {"discovery_ms", "connect_ms", "round_trip_ms", "total_ms"}


class _HeldWrites(Generic):
    """Holds every write request until ``release`` is set (its response stays in flight)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(address=ADDRESS, echo=False, **kwargs)  # type: ignore[arg-type]
        self.received = asyncio.Event()
        self.release = asyncio.Event()

    async def on_write(self, char_uuid: str, value: bytes, connection: Connection) -> None:
        self.writes.append(value)
        self.received.set()
        await self.release.wait()


async def test_cancelled_write_keeps_att_request_response_order(radio: Radio) -> None:
    """Cancelling a write whose response is in flight neither breaks nor confuses the link.

    ATT cannot cancel a request: the next request may only go out after the late response.
    Without that the read below would be answered with the cancelled write's response
    (mismatch, then a GATT timeout) or Bumble would set the result of a cancelled future.
    """
    peripheral = _HeldWrites()
    await radio.add_peripheral(peripheral)
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    try:
        client = await _connect(radio, await _find(radio, Generic.SERVICE))
        write = asyncio.ensure_future(
            client.write_gatt_char(Generic.WRITE_CHAR, b"held", response=True)
        )
        await asyncio.wait_for(peripheral.received.wait(), 30)
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write
        read = asyncio.ensure_future(client.read_gatt_char(Generic.READ_CHAR))
        await asyncio.sleep(0.05)
        assert not read.done()  # queued behind the write's outstanding response
        peripheral.release.set()
        assert bytes(await asyncio.wait_for(read, 30)) == b"bench"
        await client.write_gatt_char(Generic.WRITE_CHAR, b"next", response=True)
        assert peripheral.writes == [b"held", b"next"]
        assert client.is_connected
        await client.disconnect()
        await asyncio.sleep(0)  # let the shielded procedure's done callback run
    finally:
        loop.set_exception_handler(None)
    assert loop_errors == []


async def test_link_drop_during_request_raises_bleak_error(radio: Radio) -> None:
    """A request pending when the device drops the link fails with BleakError, not Cancelled."""
    peripheral = _HeldWrites()
    await radio.add_peripheral(peripheral)
    client = await _connect(radio, await _find(radio, Generic.SERVICE))
    write = asyncio.ensure_future(
        client.write_gatt_char(Generic.WRITE_CHAR, b"held", response=True)
    )
    await asyncio.wait_for(peripheral.received.wait(), 30)
    await peripheral.disconnect()
    with pytest.raises(BleakError, match="disconnected"):
        await asyncio.wait_for(write, 30)
    peripheral.release.set()


async def test_connect_timeout_leaves_no_pending_connection(radio: Radio) -> None:
    """A connect that times out (device not connectable) leaves nothing behind.

    The next connect right after the device advertises again succeeds at once: no ghost link
    completed later by a stale controller-side connection request holds the device.
    """
    peripheral = Generic(address=ADDRESS)
    await radio.add_peripheral(peripheral)
    device = await _find(radio, Generic.SERVICE)
    first = await _connect(radio, device)  # the device stops advertising while connected
    second = BleakClient(device, backend=radio.client_backend, timeout=0.3)
    with pytest.raises((TimeoutError, BleakError)):
        await second.connect(timeout=0.3)
    await first.disconnect()
    await asyncio.sleep(0.2)  # the device advertises again (every 20 ms)
    assert len(radio.central.connections) == 0
    assert not peripheral.is_connected
    third = await _connect(radio, device, timeout=30.0)
    assert third.is_connected
    assert len(peripheral.connections) == 1
    await third.disconnect()
