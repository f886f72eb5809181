"""One native-API client connection of the emulated ESP32 (plaintext, as over a LAN).

Handles what every ESPHome device handles: the handshake (Hello 1/2; Connect 3 answered
with an empty 4, which both aioesphomeapi 29.9 (waits for it) and >= 41.9 (does not) accept),
DeviceInfo (9/10), ListEntities (11, answered with Done 19: a bare proxy has no entities),
DeviceCapabilities (149/150, API 1.15), Ping (7/8), Disconnect (5/6) from either side, and the
subscriptions HA sends after connecting (states 20, services 34, HA states 38, logs 28), which
are accepted silently. Bluetooth messages go to the :class:`~.proxy.BluetoothProxy`.

Until a HelloRequest arrives nothing else is accepted (the connection is closed), as on a
device. A stream that is not plaintext API (wrong preamble, Noise) is closed too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from .config import ProxyConfig, device_capabilities_response, device_info_response
from .framing import FrameDecoder, FramingError, encode_frame
from .messages import (
    CONNECT_REQUEST_ID,
    CONNECT_RESPONSE_ID,
    MESSAGE_CLASSES,
    PB,
    decode,
    message_id,
)

if TYPE_CHECKING:
    from .proxy import BluetoothProxy

_LOGGER = logging.getLogger(__name__)

HELLO_REQUEST = 1
DISCONNECT_REQUEST = 5
DISCONNECT_RESPONSE = 6
PING_REQUEST = 7
PING_RESPONSE = 8
DEVICE_INFO_REQUEST = 9
LIST_ENTITIES_REQUEST = 11
SUBSCRIBE_STATES = 20
SUBSCRIBE_LOGS = 28
SUBSCRIBE_HA_SERVICES = 34
SUBSCRIBE_HA_STATES = 38
DEVICE_CAPABILITIES_REQUEST = 149
SILENT_SUBSCRIPTIONS = frozenset(
    {SUBSCRIBE_STATES, SUBSCRIBE_LOGS, SUBSCRIBE_HA_SERVICES, SUBSCRIBE_HA_STATES}
)
ADVERTISEMENT_IDS = frozenset({67, 93})
DISCONNECT_TIMEOUT = 1.0
"""Seconds the device waits for DisconnectResponse before closing the socket anyway."""


class ApiConnection(asyncio.Protocol):
    """The server side of one API client (an ``asyncio.Protocol``)."""

    def __init__(
        self,
        config: ProxyConfig,
        proxy: BluetoothProxy,
        on_closed: Callable[[ApiConnection], None],
    ) -> None:
        """Bind the connection to the device's configuration and Bluetooth proxy."""
        self.config = config
        self.proxy = proxy
        self._on_closed = on_closed
        self._decoder = FrameDecoder()
        self._transport: asyncio.Transport | None = None
        self._disconnect_acked = asyncio.Event()
        self.closed = asyncio.Event()
        """Set once the socket is closed."""
        self._forgotten = False
        self.client_info = ""
        self.client_api_version: tuple[int, int] = (0, 0)
        """What the client's HelloRequest advertised ((0, 0) before it)."""
        self._handlers = self._make_handlers()
        self.received: list[int] = []
        """Type id of every message received, in order (for tests)."""
        self.sent: list[Any] = []
        """Every message sent except advertisements (93, 67), in order (for tests)."""

    # ------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        """Decode frames and dispatch them; close the stream on a framing error."""
        try:
            frames = self._decoder.feed(data)
        except FramingError as err:
            _LOGGER.warning("closing API connection: %s", err)
            self.close()
            return
        for frame in frames:
            if self._transport is None or self._transport.is_closing():
                return
            self._dispatch(frame.msg_type, frame.payload)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget this client once its socket is closed (unless :meth:`close` did)."""
        self._transport = None
        self._forget()
        self.closed.set()

    def _forget(self) -> None:
        """Tell the proxy (its BLE links die with their API client) and the server, once."""
        if self._forgotten:
            return
        self._forgotten = True
        self.proxy.on_api_closed(self)
        self._on_closed(self)

    # ------------------------------------------------------------ sending
    @property
    def is_open(self) -> bool:
        """True while the socket is open."""
        return self._transport is not None and not self._transport.is_closing()

    def send(self, message: Any) -> None:
        """Send one message (dropped silently once the socket is closing)."""
        if self._transport is None or self._transport.is_closing():
            return
        msg_type = message_id(message)
        if msg_type not in ADVERTISEMENT_IDS:
            self.sent.append(message)
        self._transport.write(encode_frame(msg_type, message.SerializeToString()))

    def close(self) -> None:
        """Close the socket; the device forgets the client at once (subscriptions, links)."""
        self._forget()
        if self._transport is not None:
            self._transport.close()

    async def async_disconnect(self) -> None:
        """Disconnect as a device does: DisconnectRequest, wait for the response, close."""
        if self.is_open:
            self._disconnect_acked.clear()
            self.send(PB.DisconnectRequest())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DISCONNECT_TIMEOUT):
                    await self._disconnect_acked.wait()
        self.close()
        await self.closed.wait()

    # ------------------------------------------------------------ receiving
    def _dispatch(self, msg_type: int, payload: bytes) -> None:
        message = decode(msg_type, payload)
        self.received.append(msg_type)
        if message is None:
            _LOGGER.debug("ignoring message of unknown type %d", msg_type)
            return
        if msg_type == HELLO_REQUEST:
            self._on_hello(message)
            return
        if self.client_api_version == (0, 0):
            _LOGGER.warning("message %d before HelloRequest: closing", msg_type)
            self.close()
            return
        if msg_type in SILENT_SUBSCRIPTIONS or msg_type == PING_RESPONSE:
            return
        handler = self._handlers.get(msg_type)
        if handler is not None:
            handler()
            return
        if not self.proxy.handle_message(self, msg_type, message):
            _LOGGER.debug("no handler for message %d (%s)", msg_type, type(message).__name__)

    def _make_handlers(self) -> dict[int, Callable[[], None]]:
        return {
            CONNECT_REQUEST_ID: lambda: self.send(MESSAGE_CLASSES[CONNECT_RESPONSE_ID]()),
            DISCONNECT_REQUEST: self._on_disconnect_request,
            DISCONNECT_RESPONSE: self._disconnect_acked.set,
            PING_REQUEST: lambda: self.send(PB.PingResponse()),
            DEVICE_INFO_REQUEST: lambda: self.send(device_info_response(self.config)),
            LIST_ENTITIES_REQUEST: lambda: self.send(PB.ListEntitiesDoneResponse()),
            DEVICE_CAPABILITIES_REQUEST: lambda: self.send(
                device_capabilities_response(self.config)
            ),
        }

    def _on_hello(self, message: Any) -> None:
        self.client_info = str(message.client_info)
        self.client_api_version = (
            int(message.api_version_major),
            int(message.api_version_minor),
        )
        major, minor = self.config.api_version
        identity = self.config.identity
        self.send(
            PB.HelloResponse(
                api_version_major=major,
                api_version_minor=minor,
                server_info=f"{identity.name} (esphome v{identity.esphome_version})",
                name=identity.name,
            )
        )

    def _on_disconnect_request(self) -> None:
        self.send(PB.DisconnectResponse())
        self.close()
