"""Fixtures for the ESPHome proxy emulator tests driven by aioesphomeapi itself (no HA)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aioesphomeapi.client import APIClient
import pytest

from bench.device import GenericTestPeripheral as Generic
from bench.esphome import EsphomeProxyServer, ProxyConfig
from bench.esphome.framing import FrameDecoder, encode_frame
from bench.esphome.messages import message_id
from bench.radio import Radio

ADDRESS = "AA:BB:CC:DD:EE:01"
ADDRESS_INT = 0xAABBCCDDEE01
PERIPHERAL_MTU = 247
"""The test peripheral's largest MTU (the radio's central asks for 517)."""
ADDRESS_TYPE_RANDOM = 1
LIVENESS = 20.0
"""Upper bound of every wait: a hang fails, a busy machine does not (no duration asserted)."""


@pytest.fixture
async def peripheral(radio: Radio) -> Generic:
    """A generic peripheral (echoes writes as notifications) with a 247-byte MTU."""
    device = Generic(address=ADDRESS, name="BENCH", max_mtu=PERIPHERAL_MTU)
    await radio.add_peripheral(device)
    return device


ServerFactory = Callable[..., Awaitable[EsphomeProxyServer]]


@pytest.fixture
async def make_server(radio: Radio, socket_enabled: None) -> AsyncIterator[ServerFactory]:
    """Return ``await make_server(**ProxyConfig kwargs)``; every server is stopped at teardown."""
    servers: list[EsphomeProxyServer] = []

    async def make(**kwargs: Any) -> EsphomeProxyServer:
        server = EsphomeProxyServer(radio, ProxyConfig(**kwargs))
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


@pytest.fixture
async def server(make_server: ServerFactory) -> EsphomeProxyServer:
    """A proxy with the default configuration (3 slots)."""
    return await make_server()


ClientFactory = Callable[[EsphomeProxyServer], Awaitable[APIClient]]


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """Return ``await make_client(server)``: a logged-in aioesphomeapi client."""
    clients: list[APIClient] = []

    async def make(server: EsphomeProxyServer) -> APIClient:
        client = APIClient(server.host, server.port, None, client_info="bench test")
        await client.connect(login=True)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.disconnect()


@pytest.fixture
async def client(server: EsphomeProxyServer, make_client: ClientFactory) -> APIClient:
    """A logged-in client of ``server``."""
    return await make_client(server)


@dataclass
class LinkStates:
    """Records the (connected, mtu, error) callbacks of ``bluetooth_device_connect``."""

    states: list[tuple[bool, int, int]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, connected: bool, mtu: int, error: int) -> None:
        """Record one state."""
        self.states.append((connected, mtu, error))
        self._changed.set()

    async def wait_for(self, count: int) -> tuple[bool, int, int]:
        """Wait until ``count`` states arrived; return the last one."""
        async with asyncio.timeout(LIVENESS):
            while len(self.states) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.states[count - 1]


async def wait_until(predicate: Callable[[], bool], timeout: float = LIVENESS) -> None:
    """Wait until ``predicate()`` holds (polled: the bench state has no events for it)."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling emulator state
            await asyncio.sleep(0.01)


async def connect(
    client: APIClient, address: int = ADDRESS_INT, *, has_cache: bool = False
) -> LinkStates:
    """Connect ``client``'s proxy to ``address`` (v3); return the state recorder."""
    info = await client.device_info()
    states = LinkStates()
    await client.bluetooth_device_connect(
        address,
        states,
        timeout=LIVENESS,
        feature_flags=info.bluetooth_proxy_feature_flags,
        has_cache=has_cache,
        address_type=ADDRESS_TYPE_RANDOM,
    )
    return states


class RawClient:
    """A bare TCP client speaking plaintext frames (what aioesphomeapi would not send)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Wrap an open stream."""
        self.reader = reader
        self.writer = writer
        self.decoder = FrameDecoder()
        self.frames: list[tuple[int, bytes]] = []

    @classmethod
    async def open(cls, server: EsphomeProxyServer) -> RawClient:
        """Connect to ``server``."""
        reader, writer = await asyncio.open_connection(server.host, server.port)
        return cls(reader, writer)

    def send(self, message: Any) -> None:
        """Send a protobuf message."""
        self.writer.write(encode_frame(message_id(message), message.SerializeToString()))

    def send_bytes(self, data: bytes) -> None:
        """Send raw bytes."""
        self.writer.write(data)

    async def receive(self) -> tuple[int, bytes]:
        """Return the next frame (type id, payload)."""
        async with asyncio.timeout(LIVENESS):
            while not self.frames:
                data = await self.reader.read(4096)
                if not data:
                    raise EOFError
                self.frames += [(f.msg_type, f.payload) for f in self.decoder.feed(data)]
        return self.frames.pop(0)

    async def closed_by_server(self) -> bool:
        """Return True once the server has closed the stream (EOF)."""
        async with asyncio.timeout(LIVENESS):
            while await self.reader.read(4096):
                pass
        return True

    async def close(self) -> None:
        """Close the stream."""
        self.writer.close()
        await self.writer.wait_closed()
