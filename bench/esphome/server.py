"""`EsphomeProxyServer`: the emulated ESP32's native API server on loopback.

Usage (no Home Assistant needed)::

    async with Radio() as radio:
        server = EsphomeProxyServer(radio, ProxyConfig(slots=3))
        await server.start()          # 127.0.0.1, ephemeral port: server.port
        client = aioesphomeapi.APIClient("127.0.0.1", server.port, None)
        ...
        await server.stop()
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .api import ApiConnection
from .config import ProxyConfig
from .proxy import BluetoothProxy

if TYPE_CHECKING:
    from bench.radio import Radio

_LOGGER = logging.getLogger(__name__)


class EsphomeProxyServer:
    """A plaintext ESPHome API server whose Bluetooth proxy is the radio's central."""

    def __init__(self, radio: Radio, config: ProxyConfig | None = None) -> None:
        """Configure the device; :meth:`start` opens the socket."""
        self.radio = radio
        self.config = config or ProxyConfig()
        self.proxy = BluetoothProxy(radio, self.config)
        self.connections: list[ApiConnection] = []
        """API clients currently connected."""
        self.accepted = 0
        """API connections accepted since start."""
        self._server: asyncio.Server | None = None
        self._port = 0

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return self.config.host

    @property
    def port(self) -> int:
        """The TCP port (known after :meth:`start`)."""
        return self._port

    async def start(self) -> None:
        """Start the Bluetooth proxy and listen for API clients."""
        if self._server is not None:
            return
        self.proxy.start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._new_connection, self.config.host, self.config.port
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        _LOGGER.debug(
            "ESPHome proxy %s listening on %s:%d", self.config.identity.name, self.host, self._port
        )

    def _new_connection(self) -> ApiConnection:
        self.accepted += 1
        conn = ApiConnection(self.config, self.proxy, self._on_connection_closed)
        self.connections.append(conn)
        return conn

    def _on_connection_closed(self, conn: ApiConnection) -> None:
        if conn in self.connections:
            self.connections.remove(conn)

    async def stop(self) -> None:
        """Disconnect every client (DisconnectRequest first), drop every link, close."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for conn in list(self.connections):
            await conn.async_disconnect()
        await self.proxy.stop()
        await server.wait_closed()

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()
