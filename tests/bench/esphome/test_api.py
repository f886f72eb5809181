"""The emulated proxy's native API connection, driven by aioesphomeapi and by raw frames."""

from __future__ import annotations

import asyncio
from typing import Any

from aioesphomeapi import BluetoothProxyFeature
from aioesphomeapi.client import APIClient
import pytest

from bench.esphome import EsphomeProxyServer, ProxyIdentity
from bench.esphome.config import default_feature_flags
from bench.esphome.messages import CONNECT_REQUEST_ID, CONNECT_RESPONSE_ID, PB, SCHEMA, message_id

from .conftest import LIVENESS, RawClient, ServerFactory

HELLO_RESPONSE = 2
DISCONNECT_RESPONSE = 6
PING_RESPONSE = 8


async def test_handshake_and_device_info(server: EsphomeProxyServer, client: APIClient) -> None:
    """Hello, Connect (3 -> empty 4), DeviceInfo with the proxy's flags, no entities."""
    identity = ProxyIdentity()
    assert client.api_version is not None
    assert (client.api_version.major, client.api_version.minor) == SCHEMA.api_version
    info = await client.device_info()
    assert info.name == identity.name
    assert info.friendly_name == identity.friendly_name
    assert info.mac_address == identity.mac_address
    assert info.bluetooth_mac_address == identity.bluetooth_mac_address
    assert info.model == "esp32dev"
    assert info.manufacturer == "Espressif"
    assert info.esphome_version == identity.esphome_version
    flags = info.bluetooth_proxy_feature_flags_compat(client.api_version)
    assert flags == default_feature_flags()
    for feature in (
        BluetoothProxyFeature.PASSIVE_SCAN,
        BluetoothProxyFeature.ACTIVE_CONNECTIONS,
        BluetoothProxyFeature.REMOTE_CACHING,
        BluetoothProxyFeature.RAW_ADVERTISEMENTS,
    ):
        assert flags & feature
    assert await client.list_entities_services() == ([], [])

    conn = server.connections[0]
    assert conn.client_info == "bench test"
    assert conn.client_api_version >= (1, 10)
    # The client logged in with id 3; the device answered with an empty id 4.
    assert CONNECT_REQUEST_ID in conn.received
    answers = [m for m in conn.sent if message_id(m) == CONNECT_RESPONSE_ID]
    assert len(answers) == 1
    assert answers[0].SerializeToString() == b""


@pytest.mark.skipif(not SCHEMA.device_capabilities, reason="schema without API 1.15")
async def test_device_capabilities(client: APIClient) -> None:
    """API 1.15: DeviceCapabilities (149 -> 150) repeats the flags and the Bluetooth MAC."""
    newer_client: Any = client  # device_capabilities(): aioesphomeapi >= 45 only
    capabilities = await newer_client.device_capabilities()
    assert capabilities.bluetooth_proxy.feature_flags == default_feature_flags()
    assert capabilities.bluetooth_proxy.mac_address == ProxyIdentity().bluetooth_mac_address


async def test_ping_subscriptions_and_disconnect(server: EsphomeProxyServer) -> None:
    """Raw frames: hello, silent subscriptions, ping -> pong, disconnect -> response + close."""
    raw = await RawClient.open(server)
    raw.send(PB.HelloRequest(client_info="raw", api_version_major=1, api_version_minor=10))
    msg_type, payload = await raw.receive()
    assert msg_type == HELLO_RESPONSE
    hello = PB.HelloResponse()
    hello.ParseFromString(payload)
    assert hello.name == ProxyIdentity().name
    # Subscriptions HA sends after connecting get no answer...
    raw.send(PB.SubscribeStatesRequest())
    raw.send(PB.SubscribeHomeassistantServicesRequest())
    raw.send(PB.SubscribeHomeAssistantStatesRequest())
    # ...so the next frame is the pong.
    raw.send(PB.PingRequest())
    assert await raw.receive() == (PING_RESPONSE, b"")
    raw.send(PB.DisconnectRequest())
    assert await raw.receive() == (DISCONNECT_RESPONSE, b"")
    assert await raw.closed_by_server()
    await raw.close()


async def test_message_before_hello_closes_the_connection(server: EsphomeProxyServer) -> None:
    raw = await RawClient.open(server)
    raw.send(PB.PingRequest())
    assert await raw.closed_by_server()
    assert raw.frames == []
    await raw.close()


@pytest.mark.parametrize("first_bytes", [b"\x01\x00\x00", b"GET / HTTP/1.1\r\n\r\n"])
async def test_non_plaintext_stream_is_closed(
    server: EsphomeProxyServer, first_bytes: bytes
) -> None:
    """A Noise client (preamble 0x01) or anything else gets the socket closed."""
    raw = await RawClient.open(server)
    raw.send_bytes(first_bytes)
    assert await raw.closed_by_server()
    await raw.close()
    assert server.connections == []


async def test_server_stop_disconnects_clients_cleanly(make_server: ServerFactory) -> None:
    """Stopping the device sends DisconnectRequest; the client answers and sees it expected."""
    server = await make_server()
    client = APIClient(server.host, server.port, None, client_info="bench test")
    stopped: asyncio.Queue[bool] = asyncio.Queue()

    async def on_stop(expected_disconnect: bool) -> None:
        stopped.put_nowait(expected_disconnect)

    await client.connect(on_stop=on_stop, login=True)
    conn = server.connections[0]
    await server.stop()
    assert await asyncio.wait_for(stopped.get(), LIVENESS) is True
    assert DISCONNECT_RESPONSE in conn.received
    assert server.connections == []
