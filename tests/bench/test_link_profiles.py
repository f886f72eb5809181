"""What bleak reports on each stand-alone link profile (no Home Assistant).

``ideal`` is today's bench; ``bluez-local`` is bleak's BlueZ backend on a local adapter
(bench.link.bluez has the sources). Each test runs on the profiles it names through the
``link_profiles`` marker: the ``radio`` fixture is built on the run's profile.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDBusError, BleakError
import bleak_retry_connector
from bleak_retry_connector import establish_connection
import pytest

from bench.bleak_gatt import LEGACY_GATT
from bench.device import (
    GattCharacteristic,
    GattService,
    GenericTestPeripheral as Generic,
    Prop,
)
from bench.link.air import LinkConditions
from bench.link.profiles import (
    BLUEZ_LOCAL,
    IDEAL,
    LinkProfile,
    ProfileError,
    ProfileUnavailableError,
    get_profile,
    resolve,
)
from bench.radio import Radio

from .scenario import ROUND_TRIPS

ADDRESS = "AA:BB:CC:DD:EE:01"
CCCD = "00002902-0000-1000-8000-00805f9b34fb"
ATT_RESPONSES = frozenset({0x01, 0x03, 0x05, 0x07, 0x09, 0x0B, 0x0D, 0x11, 0x13, 0x17, 0x19})
ATT_REQUESTS = frozenset({0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x10, 0x12, 0x16, 0x18})
BOTH = (IDEAL, BLUEZ_LOCAL)


async def _find(radio: Radio) -> BLEDevice:
    device = await BleakScanner.find_device_by_address(
        ADDRESS, timeout=30.0, backend=radio.scanner_backend
    )
    assert device is not None
    return device


async def _establish(radio: Radio, **kwargs: Any) -> Any:
    return await establish_connection(
        bleak_retry_connector.BleakClientWithServiceCache,
        await _find(radio),
        "bench",
        backend=radio.client_backend,
        max_attempts=1,
        **kwargs,
    )


def _exchanges(radio: Radio) -> int:
    state = radio.link.link(ADDRESS)
    assert state is not None
    return state.exchanges


def _char(client: Any, uuid: str) -> Any:
    char = client.services.get_characteristic(uuid)
    assert char is not None
    return char


async def _round_trips(client: Any) -> None:
    received: asyncio.Queue[bytes] = asyncio.Queue()
    await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, d: received.put_nowait(bytes(d)))
    for i in range(ROUND_TRIPS):
        await client.write_gatt_char(Generic.WRITE_CHAR, bytes([i]) * 16, response=True)
        assert await asyncio.wait_for(received.get(), 2) == bytes([i]) * 16


# ---------------------------------------------------------------------------- issue 9 item 6


@pytest.mark.link_profiles(*BOTH)
async def test_connect_accepts_timeout_none(radio: Radio, link_profile: LinkProfile) -> None:
    """bleak's BlueZ backend runs asyncio.timeout(None): no deadline. So does the bench."""
    await radio.add_peripheral(Generic(address=ADDRESS))
    device = await _find(radio)
    client = BleakClient(device, backend=radio.client_backend, timeout=None)  # type: ignore[arg-type]
    await client.connect(timeout=None)
    assert client.is_connected
    await client.disconnect()
    client = BleakClient(device, backend=radio.client_backend, timeout=None)  # type: ignore[arg-type]
    await client.connect()  # the constructor's None
    assert client.is_connected
    await client.disconnect()


def test_radio_does_not_import_the_backend() -> None:
    """Importing the radio (and the profile registry) loads no bleak backend of the bench."""
    code = (
        "import sys, bench.radio, bench.link.profiles\n"
        "loaded = [m for m in sys.modules if m.startswith(('bench.bleak', 'bench.link.bluez',"
        " 'bench.link.ha', 'homeassistant'))]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------- registry


def test_registry_fails_loudly() -> None:
    assert get_profile("bluez-local", interval=0.03).conditions == LinkConditions(interval=0.03)
    with pytest.raises(ProfileError, match="unknown link profile 'bluez'"):
        get_profile("bluez")
    with pytest.raises(ProfileUnavailableError, match="only through Home Assistant"):
        get_profile("esphome-proxy").client_factory()
    with pytest.raises(ProfileUnavailableError, match=r"bench\.no_such_module"):
        resolve("bench.no_such_module:start", "x")
    with pytest.raises(ProfileUnavailableError, match="does not define"):
        resolve("bench.link.profiles:no_such_factory", "x")
    with pytest.raises(ValueError, match="interval"):
        get_profile("ideal", interval=-0.01)


# ---------------------------------------------------------------------------- MTU


@pytest.mark.link_profiles(*BOTH)
async def test_mtu_size_and_max_write_without_response_size(
    radio: Radio, link_profile: LinkProfile
) -> None:
    """ideal: the true MTU. bluez-local: 23 (with bleak's warning) unless acquired."""
    await radio.add_peripheral(Generic(address=ADDRESS, max_mtu=185))
    client = await _establish(radio)
    char = _char(client, Generic.WRITE_CHAR)
    # Per characteristic, from the real MTU on both.
    assert char.max_write_without_response_size == 182
    if link_profile.name == IDEAL:
        assert client.mtu_size == 185
        assert not hasattr(client._backend, "_acquire_mtu")
    else:
        with pytest.warns(UserWarning, match="Using default MTU value"):
            assert client.mtu_size == 23
        before = _exchanges(radio)
        await client._backend._acquire_mtu()  # AcquireWrite: no ATT traffic
        assert _exchanges(radio) == before
        assert client.mtu_size == 185
    await client.disconnect()


@pytest.mark.link_profiles(BLUEZ_LOCAL)
async def test_bluez_caches_services_and_reads_mtu_at_access_time(
    radio: Radio, link_profile: LinkProfile
) -> None:
    """The reconnection reuses the cached services (no discovery); mwwr follows the link."""
    peripheral = Generic(address=ADDRESS)
    await radio.add_peripheral(peripheral)
    first = await _establish(radio)
    discovery = _exchanges(radio)
    assert discovery > 1  # MTU exchange + discovery
    char = _char(first, Generic.WRITE_CHAR)
    assert char.max_write_without_response_size == 514
    await first.disconnect()
    assert char.max_write_without_response_size == 514  # BlueZ's MTU property stays
    assert peripheral.device is not None
    peripheral.device.gatt_server.max_mtu = 100  # the device now accepts less
    second = await _establish(radio)
    assert _exchanges(radio) == 1  # only BlueZ's MTU exchange
    assert second.services is first.services
    assert char.max_write_without_response_size == 97  # the same object, read now
    # The cached handles work: notifications and writes on the new link.
    await _round_trips(second)
    await second.disconnect()


@pytest.mark.link_profiles(*BOTH)
async def test_when_services_are_discovered(radio: Radio, link_profile: LinkProfile) -> None:
    """ideal: every connection. bluez-local: without the cache flag and after clear_cache()."""
    await radio.add_peripheral(Generic(address=ADDRESS))
    client = await _establish(radio)
    discovery = _exchanges(radio)
    await client.disconnect()
    client = await _establish(radio)
    cached = link_profile.name == BLUEZ_LOCAL
    assert _exchanges(radio) == (1 if cached else discovery)
    await client.disconnect()
    # BleakClient.connect() without dangerous_use_bleak_cache: bleak waits for BlueZ's discovery.
    plain = BleakClient(await _find(radio), backend=radio.client_backend)
    await plain.connect()
    assert _exchanges(radio) == discovery
    # HA's wrapper calls the backend's clear_cache() (BleakClient has none).
    assert await plain._backend.clear_cache()  # type: ignore[attr-defined]
    await plain.disconnect()
    client = await _establish(radio)
    assert _exchanges(radio) == discovery
    await client.disconnect()


class _NotifyOnly(Generic):
    """Write (with response) and notify, no write-without-response: AcquireNotify's case."""

    services = (
        GattService(
            Generic.SERVICE,
            (
                GattCharacteristic(Generic.WRITE_CHAR, Prop.WRITE),
                GattCharacteristic(Generic.NOTIFY_CHAR, Prop.NOTIFY),
            ),
        ),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(address=ADDRESS, **kwargs)
        self.subscribe_calls: list[bool] = []

    def on_subscribe(self, char_uuid: str, enabled: bool) -> None:
        self.subscribe_calls.append(enabled)


@pytest.mark.link_profiles(BLUEZ_LOCAL)
async def test_acquire_mtu_through_acquire_notify(radio: Radio, link_profile: LinkProfile) -> None:
    """No write-without-response characteristic: AcquireNotify subscribes, then unsubscribes."""
    peripheral = _NotifyOnly()
    await radio.add_peripheral(peripheral)
    client = await _establish(radio)
    before = _exchanges(radio)
    await client._backend._acquire_mtu()
    assert _exchanges(radio) == before + 2  # CCCD 1, then CCCD 0 when bleak closes the fd
    assert peripheral.subscribe_calls == [True, False]
    assert client.mtu_size == 517
    # AcquireNotify on a characteristic this client is notified on: BlueZ says InProgress.
    await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, _d: None)
    client._backend._mtu_size = None
    with pytest.raises(BleakDBusError, match="InProgress"):
        await client._backend._acquire_mtu()
    await client.disconnect()


@pytest.mark.link_profiles(BLUEZ_LOCAL)
async def test_acquire_mtu_without_a_candidate_raises(
    radio: Radio, link_profile: LinkProfile
) -> None:
    """bleak#925: no write-without-response and no notify characteristic."""
    reader = Generic(
        address=ADDRESS,
        services=(
            GattService(Generic.SERVICE, (GattCharacteristic(Generic.READ_CHAR, Prop.READ),)),
        ),
    )
    await radio.add_peripheral(reader)
    client = await _establish(radio)
    with pytest.raises(RuntimeError, match="StopIteration"):
        await client._backend._acquire_mtu()
    await client.disconnect()


# ---------------------------------------------------------------------------- reads and writes


@pytest.mark.link_profiles(*BOTH)
async def test_read_length(radio: Radio, link_profile: LinkProfile) -> None:
    """A 600-byte value: Bumble reads it all; BlueZ stops at 512 bytes, i.e. one MTU-1 PDU."""
    peripheral = Generic(address=ADDRESS)
    peripheral.values[Generic.READ_CHAR] = bytes(range(256)) * 2 + b"\xee" * 88
    await radio.add_peripheral(peripheral)
    client = await _establish(radio)
    value = await client.read_gatt_char(Generic.READ_CHAR)
    expected = 600 if link_profile.name == IDEAL else 516
    assert bytes(value) == peripheral.values[Generic.READ_CHAR][:expected]
    await client.disconnect()


@pytest.mark.link_profiles(*BOTH)
async def test_long_read_at_a_small_mtu(radio: Radio, link_profile: LinkProfile) -> None:
    """MTU 100: both read a 300-byte value with Read Blob; a value of exactly MTU-1 bytes
    makes Bumble's server answer ATTRIBUTE_NOT_LONG to BlueZ's Read Blob, which fails BlueZ's
    read (Bumble's client takes the error as the end of the value)."""
    peripheral = Generic(address=ADDRESS, max_mtu=100)
    await radio.add_peripheral(peripheral)
    client = await _establish(radio)
    peripheral.values[Generic.READ_CHAR] = b"\x11" * 300
    assert bytes(await client.read_gatt_char(Generic.READ_CHAR)) == b"\x11" * 300
    peripheral.values[Generic.READ_CHAR] = b"\x22" * 99
    if link_profile.name == IDEAL:
        assert bytes(await client.read_gatt_char(Generic.READ_CHAR)) == b"\x22" * 99
    else:
        with pytest.raises(BleakError, match="0x0B"):
            await client.read_gatt_char(Generic.READ_CHAR)
    await client.disconnect()


@pytest.mark.link_profiles(*BOTH)
async def test_writes_longer_than_the_mtu(radio: Radio, link_profile: LinkProfile) -> None:
    """MTU 185, 500 bytes. With response: a long write on both (prepare writes of MTU-5
    bytes, then execute). Without response: sent as is (ideal) or refused before anything is
    sent (BlueZ)."""
    peripheral = Generic(address=ADDRESS, echo=False, max_mtu=185)
    await radio.add_peripheral(peripheral)
    client = await _establish(radio)
    value = bytes(range(250)) * 2
    before = _exchanges(radio)
    await client.write_gatt_char(Generic.WRITE_CHAR, value, response=True)
    assert peripheral.writes == [value]
    assert _exchanges(radio) - before == 4  # 3 x 180-byte parts + execute
    if link_profile.name == BLUEZ_LOCAL:
        with pytest.raises(BleakDBusError, match="Failed to initiate write"):
            await client.write_gatt_char(Generic.WRITE_CHAR, value, response=False)
        await client.write_gatt_char(Generic.WRITE_CHAR, value[:182], response=False)
        await client.write_gatt_char(Generic.WRITE_CHAR, b"end", response=True)
        assert peripheral.writes == [value, value[:182], b"end"]
    else:
        await client.write_gatt_char(Generic.WRITE_CHAR, value, response=False)
        await client.write_gatt_char(Generic.WRITE_CHAR, b"end", response=True)
        assert peripheral.writes == [value, value, b"end"]
    await client.disconnect()


@pytest.mark.link_profiles(*BOTH)
async def test_cccd_write(radio: Radio, link_profile: LinkProfile) -> None:
    """BlueZ refuses writes to a CCCD (StartNotify is the way). bleak >= 1.0 refuses them
    itself on every backend; on bleak 0.22 the ideal client writes it."""
    peripheral = Generic(address=ADDRESS)
    await radio.add_peripheral(peripheral)
    client = await _establish(radio)
    cccd = _char(client, Generic.NOTIFY_CHAR).get_descriptor(CCCD)
    assert cccd is not None
    if not LEGACY_GATT:
        with pytest.raises(ValueError, match="CCCD"):
            await client.write_gatt_descriptor(cccd.handle, b"\x01\x00")
    if link_profile.name == BLUEZ_LOCAL:
        with pytest.raises(BleakDBusError, match="NotPermitted"):
            await client._backend.write_gatt_descriptor(cccd.handle, b"\x01\x00")
        assert not peripheral.subscriptions.get(Generic.NOTIFY_CHAR)
    else:
        await client._backend.write_gatt_descriptor(cccd.handle, b"\x01\x00")
        assert peripheral.subscriptions[Generic.NOTIFY_CHAR] is True
    await client.disconnect()


# ---------------------------------------------------------------------------- drops


@pytest.mark.link_profiles(*BOTH)
async def test_drop_after_n_exchanges(radio: Radio, link_profile: LinkProfile) -> None:
    """Armed on a live link: 2 writes pass, the 3rd fails, the disconnect callback fires."""
    peripheral = Generic(address=ADDRESS, echo=False)
    await radio.add_peripheral(peripheral)
    dropped = asyncio.Event()
    client = await _establish(radio, disconnected_callback=lambda _c: dropped.set())
    state = radio.link.link(ADDRESS)
    assert state is not None
    state.arm_drop(2)
    await client.write_gatt_char(Generic.WRITE_CHAR, b"1", response=True)
    await client.write_gatt_char(Generic.WRITE_CHAR, b"2", response=True)
    assert not dropped.is_set()
    with pytest.raises(BleakError):
        await client.write_gatt_char(Generic.WRITE_CHAR, b"3", response=True)
    await asyncio.wait_for(dropped.wait(), 30)
    assert not client.is_connected
    assert peripheral.writes == [b"1", b"2"]
    assert radio.link.stats.drops == 1
    await asyncio.wait_for(_until_disconnected(peripheral), 30)


async def _until_disconnected(peripheral: Generic) -> None:
    while peripheral.is_connected:  # noqa: ASYNC110 - the emulator has no event to await
        await asyncio.sleep(0.005)


@pytest.mark.link_profiles(*BOTH)
async def test_drop_rule_of_the_link_conditions(radio: Radio, link_profile: LinkProfile) -> None:
    """drop_after counts from the connection's start: connect + 1 write, then the drop."""
    await radio.add_peripheral(Generic(address=ADDRESS, echo=False))
    client = await _establish(radio)
    setup = _exchanges(radio)
    await client.disconnect()
    reconnect = 1 if link_profile.name == BLUEZ_LOCAL else setup
    radio.link.conditions = LinkConditions(drop_after=reconnect + 1)
    client = await _establish(radio)
    await client.write_gatt_char(Generic.WRITE_CHAR, b"1", response=True)
    with pytest.raises(BleakError):
        await client.read_gatt_char(Generic.READ_CHAR)
    assert not client.is_connected


@pytest.mark.link_profiles(*BOTH, drop_after=0)
async def test_drop_rule_from_the_marker(radio: Radio, link_profile: LinkProfile) -> None:
    """The marker's drop_after reaches the radio: the first exchange (MTU) is already lost."""
    assert radio.profile == link_profile
    assert link_profile.drop_after == 0
    await radio.add_peripheral(Generic(address=ADDRESS))
    client = BleakClient(await _find(radio), backend=radio.client_backend)
    with pytest.raises(BleakError):
        await client.connect()
    assert radio.link.stats.drops == 1


# ---------------------------------------------------------------------------- timing


@pytest.mark.link_profiles(*BOTH)
async def test_interval_zero_schedules_no_delay(radio: Radio, link_profile: LinkProfile) -> None:
    await radio.add_peripheral(Generic(address=ADDRESS))
    client = await _establish(radio)
    await _round_trips(client)
    await client.disconnect()
    stats = radio.link.stats
    assert stats.exchanges > ROUND_TRIPS
    assert stats.pdus > stats.exchanges
    assert stats.events_scheduled == 0
    assert stats.delayed_pdus == 0


@pytest.mark.link_profiles(*BOTH, interval_ms=5)
async def test_interval_orders_deliveries(radio: Radio, link_profile: LinkProfile) -> None:
    """Every PDU rides a connection event; an answer rides a later event than its request."""
    await radio.add_peripheral(Generic(address=ADDRESS))
    trace: list[Any] = []
    radio.link.trace = trace
    client = await _establish(radio)
    await _round_trips(client)
    await client.disconnect()
    att_pdus = [d for d in trace if d.att_opcode is not None]
    assert radio.link.stats.delayed_pdus == radio.link.stats.pdus > 0
    assert radio.link.stats.events_scheduled > 0
    events = [d.event for d in trace]
    assert events == sorted(events)
    assert min(events) >= 1
    request = None
    answers = 0
    for delivery in att_pdus:
        if delivery.sender == "central" and delivery.att_opcode in ATT_REQUESTS:
            assert request is None  # one outstanding request at a time
            request = delivery
        elif delivery.sender == "peripheral" and delivery.att_opcode in ATT_RESPONSES:
            assert request is not None
            assert delivery.event > request.event
            request = None
            answers += 1
    assert answers >= ROUND_TRIPS
    # Each echo notification arrives before (or with) the write response that follows it.
    writes = [i for i, d in enumerate(att_pdus) if d.att_opcode == 0x13]
    assert len(writes) >= ROUND_TRIPS
    for index in writes[-ROUND_TRIPS:]:
        assert att_pdus[index - 1].att_opcode == 0x1B
        assert att_pdus[index - 1].event <= att_pdus[index].event
