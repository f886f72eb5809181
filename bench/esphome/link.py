"""One connection slot of the emulated proxy: a BLE link to a peripheral, driven on the radio.

The lifecycle follows ESPHome's ``bluetooth_proxy`` on an ESP32 (field.md §1, §3):

* **connect** (68, CONNECT_V3_WITHOUT_CACHE / CONNECT): connect, exchange the MTU, discover
  every service/characteristic/descriptor, then report 69 ``connected=true`` with the
  negotiated MTU. **CONNECT_V3_WITH_CACHE**: report 69 as soon as the link is open, with the
  MTU known at that moment (23: the exchange is still in flight, as on the ESP32), and skip
  discovery (the client has the services).
* a peripheral that does not answer within the establishment timeout, or a connect aborted by
  DISCONNECT, ends with 69 ``connected=false, error=0x100`` (``ESP_GATT_CONN_CONN_CANCEL``);
* a link that goes down reports 69 ``connected=false`` with the HCI reason (0x13 the
  peripheral left, 0x16 the proxy disconnected, 0x08 supervision timeout);
* GATT requests are executed in arrival order, one at a time; ATT errors come back as 82 with
  the ATT error code; a request for a link that is not up gets 82 with -1;
* **remote caching**: the service list is sent once (71 per service, then 72) and then wiped;
  asking again gets a bare 72;
* notifications are forwarded (79) only for handles registered with 78; the proxy never
  writes the CCCD itself on v3 connections (the client does, with 77).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import enum
import logging
from typing import TYPE_CHECKING, Any

from aioesphomeapi.model import BluetoothDeviceRequestType
from bumble import att, hci
from bumble.hci import Address

from .config import EspCode
from .gatt import GattService, discover, service_response, uses_short_uuids
from .messages import PB

if TYPE_CHECKING:
    from bumble.device import Connection

    from bench.radio import Radio

    from .api import ApiConnection

_LOGGER = logging.getLogger(__name__)

ATT_DEFAULT_MTU = 23
ADDRESS_TYPE_PUBLIC = 0
ADDRESS_TYPE_RANDOM = 1

Operation = Callable[["Connection"], Awaitable[None]]


def mac_from_int(address: int) -> str:
    """Return ``AA:BB:CC:DD:EE:FF`` for a 48-bit address held in an integer."""
    text = f"{address:012X}"
    return ":".join(text[i : i + 2] for i in range(0, 12, 2))


def mac_to_int(address: str) -> int:
    """Return the integer form of ``AA:BB:CC:DD:EE:FF``."""
    return int(address.replace(":", ""), 16)


class LinkState(enum.Enum):
    """Where a slot's link is in its life."""

    QUEUED = "queued"
    """Waiting for the radio (one pending LE connection at a time)."""
    CONNECTING = "connecting"
    SETTING_UP = "setting_up"
    """Link open; MTU exchange and discovery running (not yet reported)."""
    ESTABLISHED = "established"
    DISCONNECTING = "disconnecting"
    CLOSED = "closed"


class BleLink:
    """A slot holding a link to ``address`` for the API connection ``owner``."""

    def __init__(
        self,
        *,
        radio: Radio,
        owner: ApiConnection,
        address: int,
        address_type: int,
        request_type: int,
        mtu: int,
        connect_timeout: float,
        on_closed: Callable[[BleLink], None],
    ) -> None:
        """Describe the link; :meth:`start` connects."""
        self.radio = radio
        self.owner = owner
        self.address = address
        self.address_str = mac_from_int(address)
        self.address_type = address_type
        self.request_type = request_type
        self.mtu = mtu
        self.connect_timeout = connect_timeout
        self._on_closed = on_closed
        self.state = LinkState.QUEUED
        self.connection: Connection | None = None
        self.services: list[GattService] = []
        self.notify_handles: dict[int, Callable[[bytes], None]] = {}
        self.close_reason: int | None = None
        """The ``error`` reported with 69 ``connected=false`` (None while open)."""
        self._ops: asyncio.Queue[tuple[Operation, int]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._connect_task: asyncio.Future[Connection] | None = None
        self._disconnect_requested = False
        self.done = asyncio.Event()

    @property
    def with_cache(self) -> bool:
        """True for CONNECT_V3_WITH_CACHE (no discovery: the client has the services)."""
        return self.request_type == BluetoothDeviceRequestType.CONNECT_V3_WITH_CACHE

    @property
    def att_mtu(self) -> int:
        """The link's current ATT_MTU (23 before the exchange or without a link)."""
        return int(self.connection.att_mtu) if self.connection is not None else ATT_DEFAULT_MTU

    @property
    def is_up(self) -> bool:
        """True once reported connected and until the link goes down."""
        return self.state is LinkState.ESTABLISHED

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start connecting (in a task owned by the link)."""
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"esphome-proxy-link-{self.address_str}"
        )

    async def _run(self) -> None:
        try:
            connection = await self._connect()
        except asyncio.CancelledError:
            self._finish(EspCode.CONN_CONN_CANCEL)
            raise
        except Exception as err:  # noqa: BLE001 - any failure to connect is reported alike
            _LOGGER.debug("%s: connect failed: %r", self.address_str, err)
            self._finish(EspCode.CONN_CONN_CANCEL)
            return
        self.connection = connection
        connection.on("disconnection", self._on_disconnection)
        if self._disconnect_requested:
            await self._disconnect(connection)
            return
        self.state = LinkState.SETTING_UP
        try:
            if self.with_cache:
                self._report_connected(int(connection.att_mtu))
                await self._exchange_mtu(connection)
            else:
                await self._exchange_mtu(connection)
                self.services = await discover(connection.gatt_client)
                self._report_connected(int(connection.att_mtu))
        except Exception as err:  # noqa: BLE001 - the link is dropped and reported
            _LOGGER.debug("%s: link set-up failed: %r", self.address_str, err)
            await self._disconnect(connection)
            return
        await self._serve(connection)

    async def _connect(self) -> Connection:
        """Connect on the radio; an abort (:meth:`disconnect`) cancels at the controller."""
        kind = (
            Address.PUBLIC_DEVICE_ADDRESS
            if self.address_type == ADDRESS_TYPE_PUBLIC
            else Address.RANDOM_DEVICE_ADDRESS
        )
        async with self.radio.connect_lock:
            self.state = LinkState.CONNECTING
            self._connect_task = asyncio.ensure_future(
                self.radio.central.connect(
                    Address(self.address_str, kind), timeout=self.connect_timeout
                )
            )
            try:
                # Shielded: cancelling Bumble's connect would leave the controller initiating.
                return await asyncio.shield(self._connect_task)
            finally:
                self._connect_task = None

    async def _exchange_mtu(self, connection: Connection) -> None:
        if self.mtu != ATT_DEFAULT_MTU:
            await connection.gatt_client.request_mtu(self.mtu)

    def _report_connected(self, mtu: int) -> None:
        self.state = LinkState.ESTABLISHED
        self.owner.send(
            PB.BluetoothDeviceConnectionResponse(address=self.address, connected=True, mtu=mtu)
        )

    async def _serve(self, connection: Connection) -> None:
        """Run the queued GATT operations one at a time, in arrival order."""
        while True:
            operation, handle = await self._ops.get()
            try:
                await operation(connection)
            except att.ATT_Error as err:
                self.send_error(handle, int(err.error_code))
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - an ESP32 reports a generic GATT error
                if self.connection is None:
                    return  # the link went down: 69 already told the client
                _LOGGER.debug("%s: GATT operation failed: %r", self.address_str, err)
                self.send_error(handle, EspCode.GATT_ERROR)

    def _on_disconnection(self, reason: int) -> None:
        if self.connection is None:
            return
        self.connection = None
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        code = EspCode.CONN_TERMINATE_LOCAL_HOST if self._disconnect_requested else int(reason)
        self._finish(code)

    def _finish(self, error: int) -> None:
        """Report the link closed (once) and give the slot back."""
        if self.state is LinkState.CLOSED:
            return
        self.state = LinkState.CLOSED
        self.close_reason = error
        self.notify_handles.clear()
        self.owner.send(
            PB.BluetoothDeviceConnectionResponse(
                address=self.address, connected=False, mtu=0, error=error
            )
        )
        self._on_closed(self)
        self.done.set()

    # ------------------------------------------------------------ disconnect
    async def disconnect(self) -> None:
        """Disconnect (68 DISCONNECT): abort a pending connect or drop the link."""
        if self.state is LinkState.CLOSED:
            return
        self._disconnect_requested = True
        if self.state is LinkState.QUEUED and self._task is not None:
            self._task.cancel()
            return
        if self._connect_task is not None and not self._connect_task.done():
            with contextlib.suppress(Exception):
                await self.radio.central.send_command(hci.HCI_LE_Create_Connection_Cancel_Command())
            return
        if self.connection is not None:
            self.state = LinkState.DISCONNECTING
            await self._disconnect(self.connection)

    async def _disconnect(self, connection: Connection) -> None:
        self._disconnect_requested = True
        try:
            await connection.disconnect()
        except Exception as err:  # noqa: BLE001 - the link is gone either way
            _LOGGER.debug("%s: disconnect failed: %r", self.address_str, err)
        if self.connection is connection:  # no disconnection event came
            self._on_disconnection(EspCode.CONN_TERMINATE_LOCAL_HOST)

    async def close(self) -> None:
        """Disconnect and wait until the slot is free (proxy shutdown)."""
        await self.disconnect()
        await self.done.wait()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # ------------------------------------------------------------ GATT requests
    def send_error(self, handle: int, error: int) -> None:
        """Send BluetoothGATTErrorResponse (82)."""
        self.owner.send(
            PB.BluetoothGATTErrorResponse(address=self.address, handle=handle, error=error)
        )

    def enqueue(self, operation: Operation, handle: int) -> None:
        """Queue a GATT operation (82 with -1 when the link is not up)."""
        if not self.is_up:
            self.send_error(handle, EspCode.NOT_CONNECTED)
            return
        self._ops.put_nowait((operation, handle))

    def send_services(self) -> None:
        """Answer GetServices (70): the list once per connection (remote caching), then 72."""
        if not self.is_up:
            self.send_error(0, EspCode.NOT_CONNECTED)
            return
        short = uses_short_uuids(self.owner.client_api_version)
        for service in self.services:
            self.owner.send(service_response(self.address, service, short))
        self.owner.send(PB.BluetoothGATTGetServicesDoneResponse(address=self.address))
        self.services = []  # the ESP32 frees its service list once it has been sent

    def read(self, handle: int) -> None:
        """Queue a read of a characteristic or descriptor (73 / 76 -> 74)."""

        async def run(connection: Connection) -> None:
            value = await connection.gatt_client.read_value(handle)
            self.owner.send(
                PB.BluetoothGATTReadResponse(address=self.address, handle=handle, data=value)
            )

        self.enqueue(run, handle)

    def write(self, handle: int, data: bytes, response: bool) -> None:
        """Queue a write (75 with or without response, 77 descriptor) -> 83.

        As on the ESP32, 83 follows a write without response too, once it has been sent
        (aioesphomeapi does not wait for it then).
        """

        async def run(connection: Connection) -> None:
            await connection.gatt_client.write_value(handle, data, with_response=response)
            self.owner.send(PB.BluetoothGATTWriteResponse(address=self.address, handle=handle))

        self.enqueue(run, handle)

    def notify(self, handle: int, enable: bool) -> None:
        """Queue (un)registration for notifications of ``handle`` (78 -> 84)."""

        async def run(connection: Connection) -> None:
            gatt_client: Any = connection.gatt_client
            registries = (gatt_client.notification_subscribers, gatt_client.indication_subscribers)
            current = self.notify_handles.pop(handle, None)
            if current is not None:
                for registry in registries:
                    registry.get(handle, set()).discard(current)
            if enable:
                forward = self._forwarder(handle)
                self.notify_handles[handle] = forward
                for registry in registries:
                    registry.setdefault(handle, set()).add(forward)
            self.owner.send(PB.BluetoothGATTNotifyResponse(address=self.address, handle=handle))

        self.enqueue(run, handle)

    def _forwarder(self, handle: int) -> Callable[[bytes], None]:
        def forward(value: bytes) -> None:
            self.owner.send(
                PB.BluetoothGATTNotifyDataResponse(
                    address=self.address, handle=handle, data=bytes(value)
                )
            )

        return forward
