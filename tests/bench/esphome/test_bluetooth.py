"""The emulated proxy's Bluetooth side, driven by aioesphomeapi itself (no HA).

Advertisements, slots, connect/disconnect outcomes and their ESP-IDF codes, GATT.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aioesphomeapi.client import APIClient
from aioesphomeapi.core import BluetoothGATTAPIError
import pytest

from bench.device import GenericTestPeripheral as Generic
from bench.esphome import EspCode, EsphomeProxyServer
from bench.esphome.gatt import uses_short_uuids
from bench.esphome.link import LinkState
from bench.esphome.messages import PB, SCHEMA, message_id
from bench.esphome.proxy import MAX_RAW_DATA
from bench.radio import Radio

from .conftest import (
    ADDRESS,
    ADDRESS_INT,
    ADDRESS_TYPE_RANDOM,
    LIVENESS,
    PERIPHERAL_MTU,
    ClientFactory,
    ServerFactory,
    connect,
    wait_until,
)

OTHER_ADDRESS = "AA:BB:CC:DD:EE:02"
OTHER_ADDRESS_INT = 0xAABBCCDDEE02
ABSENT_ADDRESS_INT = 0xAABBCCDDEE99
SERVICES_DONE = 72


async def _next(queue: asyncio.Queue[Any]) -> Any:
    return await asyncio.wait_for(queue.get(), LIVENESS)


async def _characteristics(client: APIClient) -> dict[str, Any]:
    services = await client.bluetooth_gatt_get_services(ADDRESS_INT)
    return {c.uuid: c for s in services.services for c in s.characteristics}


# ---------------------------------------------------------------- advertisements
async def test_raw_advertisements(client: APIClient, peripheral: Generic) -> None:
    """Subscribed with the RAW flag: id 93, random address type, the AD bytes (<= 62)."""
    received: asyncio.Queue[Any] = asyncio.Queue()

    def on_advertisements(response: Any) -> None:
        for adv in response.advertisements:
            received.put_nowait(adv)

    client.subscribe_bluetooth_le_raw_advertisements(on_advertisements)
    adv = await _next(received)
    assert adv.address == ADDRESS_INT
    assert adv.address_type == ADDRESS_TYPE_RANDOM
    assert bytes(adv.data) == peripheral.advertising_data
    assert len(adv.data) <= MAX_RAW_DATA
    assert adv.rssi == -50


async def test_legacy_advertisements(client: APIClient, peripheral: Generic) -> None:
    """Subscribed without flags: the parsed form (67), UUIDs as the firmware prints them."""
    received: asyncio.Queue[Any] = asyncio.Queue()
    client.subscribe_bluetooth_le_advertisements(received.put_nowait)
    adv = await _next(received)
    assert adv.address == ADDRESS_INT
    assert adv.address_type == ADDRESS_TYPE_RANDOM
    assert adv.name == "BENCH"
    assert adv.service_uuids == [Generic.SERVICE]


async def test_only_one_advertisement_subscriber(
    server: EsphomeProxyServer, make_client: ClientFactory, peripheral: Generic
) -> None:
    first, second = await make_client(server), await make_client(server)
    to_first: asyncio.Queue[Any] = asyncio.Queue()
    to_second: asyncio.Queue[Any] = asyncio.Queue()
    first.subscribe_bluetooth_le_raw_advertisements(to_first.put_nowait)
    second.subscribe_bluetooth_le_raw_advertisements(to_second.put_nowait)
    for _ in range(3):
        await _next(to_first)
    assert to_second.empty()
    # Once the first subscriber is gone, the slot is free for another.
    await first.disconnect()
    second.subscribe_bluetooth_le_raw_advertisements(to_second.put_nowait)
    await _next(to_second)


@pytest.mark.skipif(not SCHEMA.scanner_state, reason="schema without scanner state/mode")
async def test_scanner_state_and_mode(client: APIClient, peripheral: Generic) -> None:
    import aioesphomeapi

    newer_client: Any = client  # scanner state/mode API: aioesphomeapi >= 30.1 only
    mode_enum: Any = aioesphomeapi.BluetoothScannerMode  # type: ignore[attr-defined, unused-ignore]
    state_enum: Any = aioesphomeapi.BluetoothScannerState  # type: ignore[attr-defined, unused-ignore]
    states: asyncio.Queue[Any] = asyncio.Queue()
    newer_client.subscribe_bluetooth_scanner_state(states.put_nowait)
    client.subscribe_bluetooth_le_raw_advertisements(lambda _r: None)
    state = await _next(states)
    assert state.state == state_enum.RUNNING
    assert state.mode == mode_enum.ACTIVE
    assert state.configured_mode == mode_enum.ACTIVE
    newer_client.bluetooth_scanner_set_mode(mode_enum.PASSIVE)
    state = await _next(states)
    assert state.mode == mode_enum.PASSIVE
    assert state.configured_mode == mode_enum.ACTIVE


# ---------------------------------------------------------------- slots and connections
async def test_connections_free_on_subscribe_and_every_change(
    make_server: ServerFactory, make_client: ClientFactory, peripheral: Generic
) -> None:
    client = await make_client(await make_server(slots=2))
    reports: asyncio.Queue[tuple[int, int, list[int]]] = asyncio.Queue()
    client.subscribe_bluetooth_connections_free(
        lambda free, limit, allocated: reports.put_nowait((free, limit, list(allocated)))
    )
    assert await _next(reports) == (2, 2, [])
    states = await connect(client)
    assert await _next(reports) == (1, 2, [ADDRESS_INT])
    assert states.states == [(True, PERIPHERAL_MTU, 0)]
    await client.bluetooth_device_disconnect(ADDRESS_INT)
    assert await _next(reports) == (2, 2, [])


async def test_out_of_slots_is_refused_at_the_proxy(
    radio: Radio, make_server: ServerFactory, make_client: ClientFactory, peripheral: Generic
) -> None:
    """All slots taken: the firmware answers 69 connected=false, error 0, at once."""
    await radio.add_peripheral(Generic(address=OTHER_ADDRESS, name="OTHER"))
    server = await make_server(slots=1)
    client = await make_client(server)
    assert (await connect(client)).states == [(True, PERIPHERAL_MTU, 0)]
    refused = await connect(client, OTHER_ADDRESS_INT)
    assert refused.states == [(False, 0, 0)]
    assert server.proxy.allocated == [ADDRESS]


async def test_connect_timeout_for_an_absent_device(
    make_server: ServerFactory, make_client: ClientFactory, peripheral: Generic
) -> None:
    """Nobody answers: after the establishment timeout, ESP_GATT_CONN_CONN_CANCEL (0x100)."""
    server = await make_server(connect_timeout=0.2)
    client = await make_client(server)
    states = await connect(client, ABSENT_ADDRESS_INT)
    assert states.states == [(False, 0, EspCode.CONN_CONN_CANCEL)]
    assert server.proxy.allocated == []
    # The controller is not left initiating: the next connect works.
    assert (await connect(client)).states == [(True, PERIPHERAL_MTU, 0)]


async def test_disconnect_aborts_a_pending_connect(
    server: EsphomeProxyServer, client: APIClient, peripheral: Generic
) -> None:
    pending = asyncio.ensure_future(connect(client, ABSENT_ADDRESS_INT))
    links = server.proxy.links
    await wait_until(
        lambda: ABSENT_ADDRESS_INT in links
        and links[ABSENT_ADDRESS_INT].state is LinkState.CONNECTING
    )
    await client.bluetooth_device_disconnect(ABSENT_ADDRESS_INT)
    assert (await pending).states == [(False, 0, EspCode.CONN_CONN_CANCEL)]
    assert (await connect(client)).states == [(True, PERIPHERAL_MTU, 0)]


async def test_link_loss_and_local_disconnect_reasons(
    client: APIClient, peripheral: Generic
) -> None:
    """The peripheral leaves: 0x13; the proxy disconnects on request: 0x16."""
    states = await connect(client)
    await peripheral.disconnect()
    assert await states.wait_for(2) == (False, 0, EspCode.CONN_TERMINATE_PEER_USER)
    states = await connect(client)
    await client.bluetooth_device_disconnect(ADDRESS_INT)
    assert await states.wait_for(2) == (False, 0, EspCode.CONN_TERMINATE_LOCAL_HOST)


async def test_api_client_gone_drops_its_links(
    server: EsphomeProxyServer, make_client: ClientFactory, peripheral: Generic
) -> None:
    client = await make_client(server)
    await connect(client)
    assert peripheral.is_connected
    await client.disconnect()
    await wait_until(lambda: not peripheral.is_connected and not server.proxy.links)


# ---------------------------------------------------------------- remote caching
async def test_services_are_sent_once_then_wiped(
    server: EsphomeProxyServer, client: APIClient, peripheral: Generic
) -> None:
    await connect(client)
    chars = await _characteristics(client)
    assert {Generic.WRITE_CHAR, Generic.NOTIFY_CHAR, Generic.READ_CHAR} <= set(chars)
    again = await client.bluetooth_gatt_get_services(ADDRESS_INT)
    assert again.services == []
    assert message_id(server.connections[0].sent[-1]) == SERVICES_DONE


async def test_uuid_encoding_follows_the_client_api_version(
    server: EsphomeProxyServer, client: APIClient, peripheral: Generic
) -> None:
    """16-bit UUIDs go as short_uuid to API >= 1.12 clients (schema permitting), else 2 words."""
    await connect(client)
    await client.bluetooth_gatt_get_services(ADDRESS_INT)
    conn = server.connections[0]
    listed = [m.services[0] for m in conn.sent if type(m) is PB.BluetoothGATTGetServicesResponse]
    ours = listed[-1]  # the bench service comes last
    if uses_short_uuids(conn.client_api_version):
        assert ours.short_uuid == 0xABF0
        assert list(ours.uuid) == []
    else:
        assert list(ours.uuid) == [0x0000ABF000001000, 0x800000805F9B34FB]


async def test_cached_connect_skips_discovery(
    server: EsphomeProxyServer, client: APIClient, peripheral: Generic
) -> None:
    """CONNECT_V3_WITH_CACHE: 69 at link open with the pre-exchange MTU, no service list."""
    await connect(client)
    read_handle = (await _characteristics(client))[Generic.READ_CHAR].handle
    await client.bluetooth_device_disconnect(ADDRESS_INT)
    states = await connect(client, has_cache=True)
    assert states.states == [(True, 23, 0)]
    assert (await client.bluetooth_gatt_get_services(ADDRESS_INT)).services == []
    assert await client.bluetooth_gatt_read(ADDRESS_INT, read_handle) == b"bench"
    assert server.proxy.links[ADDRESS_INT].att_mtu == PERIPHERAL_MTU  # exchanged meanwhile
    assert [request for _address, request in server.proxy.connect_requests] == [5, 4]


# ---------------------------------------------------------------- GATT
async def test_read_write_notify(
    server: EsphomeProxyServer, client: APIClient, peripheral: Generic
) -> None:
    await connect(client)
    chars = await _characteristics(client)
    notify = chars[Generic.NOTIFY_CHAR]
    write = chars[Generic.WRITE_CHAR]
    cccd = next(d for d in notify.descriptors if d.uuid.startswith("00002902"))
    assert await client.bluetooth_gatt_read(ADDRESS_INT, chars[Generic.READ_CHAR].handle) == (
        b"bench"
    )
    received: asyncio.Queue[bytes] = asyncio.Queue()
    await client.bluetooth_gatt_start_notify(
        ADDRESS_INT, notify.handle, lambda _h, data: received.put_nowait(bytes(data))
    )
    # v3: the proxy registered the handle but wrote no CCCD: the client does (77).
    assert not peripheral.subscriptions.get(Generic.NOTIFY_CHAR)
    assert await client.bluetooth_gatt_read_descriptor(ADDRESS_INT, cccd.handle) == b"\x00\x00"
    await client.bluetooth_gatt_write_descriptor(ADDRESS_INT, cccd.handle, b"\x01\x00")
    assert peripheral.subscriptions[Generic.NOTIFY_CHAR]
    assert await client.bluetooth_gatt_read_descriptor(ADDRESS_INT, cccd.handle) == b"\x01\x00"
    await client.bluetooth_gatt_write(ADDRESS_INT, write.handle, b"with", True)
    assert await _next(received) == b"with"
    await client.bluetooth_gatt_write(ADDRESS_INT, write.handle, b"without", False)
    assert await _next(received) == b"without"
    assert peripheral.writes == [b"with", b"without"]
    # 83 follows the write without response too, as on the ESP32.
    write_responses = [
        m for m in server.connections[0].sent if type(m) is PB.BluetoothGATTWriteResponse
    ]
    assert [m.handle for m in write_responses] == [cccd.handle, write.handle, write.handle]


async def test_notifications_need_registration(
    server: EsphomeProxyServer, client: APIClient, peripheral: Generic
) -> None:
    """CCCD written but the handle not registered (no 78): the proxy forwards nothing."""
    await connect(client)
    chars = await _characteristics(client)
    cccd = next(d for d in chars[Generic.NOTIFY_CHAR].descriptors if d.uuid.startswith("00002902"))
    await client.bluetooth_gatt_write_descriptor(ADDRESS_INT, cccd.handle, b"\x01\x00")
    await client.bluetooth_gatt_write(ADDRESS_INT, chars[Generic.WRITE_CHAR].handle, b"x", True)
    # The echo was notified before the write response: had it been forwarded, it would be here.
    assert peripheral.writes == [b"x"]
    assert not [
        m for m in server.connections[0].sent if type(m) is PB.BluetoothGATTNotifyDataResponse
    ]


async def test_gatt_errors_carry_att_codes(client: APIClient, peripheral: Generic) -> None:
    await connect(client)
    chars = await _characteristics(client)
    with pytest.raises(BluetoothGATTAPIError) as err:
        await client.bluetooth_gatt_read(ADDRESS_INT, chars[Generic.WRITE_CHAR].handle)
    assert err.value.error.error == 0x02  # read not permitted
    with pytest.raises(BluetoothGATTAPIError) as err:
        await client.bluetooth_gatt_write(ADDRESS_INT, chars[Generic.READ_CHAR].handle, b"x", True)
    assert err.value.error.error == 0x03  # write not permitted
    with pytest.raises(BluetoothGATTAPIError) as err:
        await client.bluetooth_gatt_read(OTHER_ADDRESS_INT, 3)
    assert err.value.error.error == EspCode.NOT_CONNECTED


async def test_pair_unpair_and_clear_cache(client: APIClient, peripheral: Generic) -> None:
    """Pairing is not modelled: answered with ESP_ERR_NOT_SUPPORTED; cache clearing works."""
    await connect(client)
    paired = await client.bluetooth_device_pair(ADDRESS_INT)
    assert (paired.paired, paired.error) == (False, EspCode.ERR_NOT_SUPPORTED)
    unpaired = await client.bluetooth_device_unpair(ADDRESS_INT)
    assert (unpaired.success, unpaired.error) == (False, EspCode.ERR_NOT_SUPPORTED)
    cleared = await client.bluetooth_device_clear_cache(ADDRESS_INT)
    assert (cleared.success, cleared.error) == (True, 0)
