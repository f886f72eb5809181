"""The bench's bleak client backend over Bumble (the ``ideal`` link profile), bleak 0.22.3 and 3.x.

``make_client_backend(radio)`` returns a class bound to one :class:`bench.radio.Radio` (no module
globals); use it through ``radio.client_backend`` or ``radio.client_backend_for(profile)``.
It reports what a perfect stack would: the negotiated ATT_MTU in ``mtu_size``, a service
discovery on every connection, reads and writes of any length. :mod:`bench.link.bluez` derives
the ``bluez-local`` semantics from it through the hooks ``_requested_mtu``,
``_resolve_services``, ``_read_value`` and ``_write_value``.

Version differences (``connect(**kw) -> bool`` on 0.22, ``connect(pair, **kw) -> None`` on
>= 1.0; ``read_gatt_char(specifier)`` vs ``read_gatt_char(characteristic)``; descriptors by
handle vs by object) are absorbed here; GATT objects and errors come from
:mod:`bench.bleak_gatt`, the scanner from :mod:`bench.bleak_scanner`.

``connect(timeout=None)`` waits without a deadline, as bleak's BlueZ backend does on 0.22.3 and
3.0.2 (both run ``asyncio.timeout(kwargs.get("timeout", self._timeout))``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
import logging
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from bleak import exc as bleak_exc
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble import att, hci
from bumble.hci import Address

from .bleak_gatt import (
    att_error,
    bumble_uuid_str,
    make_ble_device,
    make_services,
    map_exception,
)
from .bleak_scanner import BumbleBleakScanner, make_scanner_backend

if TYPE_CHECKING:
    from bumble.device import Connection
    from bumble.gatt_client import CharacteristicProxy, ServiceProxy

    from .radio import Radio

__all__ = [
    "BumbleBleakClient",
    "BumbleBleakScanner",
    "att_error",
    "bumble_uuid_str",
    "make_ble_device",
    "make_client_backend",
    "make_scanner_backend",
]

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_TIMEOUT = 10.0
"""bleak's default connect timeout (``BleakClient(timeout=10.0)``)."""


# ---------------------------------------------------------------- client
class BumbleBleakClient(BaseBleakClient):
    """bleak client backend driving the radio's Bumble central (the ``ideal`` semantics).

    Subclasses made by :func:`make_client_backend` set ``radio``. A proxy may override
    ``_acquire_slot`` / ``_release_slot`` to model connection slots; a link profile overrides
    ``_requested_mtu``, ``_resolve_services``, ``_read_value``, ``_write_value`` and
    ``_write_descriptor_value``.
    """

    radio: ClassVar[Radio]

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        """Accept every keyword bleak / habluetooth pass (timeout, services, bluez, ...)."""
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)  # bleak >= 1.0's base reads it
        super().__init__(address_or_ble_device, **kwargs)
        # Bench peripherals use random static addresses; details may say otherwise.
        self._address_type = "random"
        if isinstance(address_or_ble_device, BLEDevice):
            details = address_or_ble_device.details
            if isinstance(details, dict) and details.get("address_type") == "public":
                self._address_type = "public"
        self._connection: Connection | None = None
        self._user_disconnect = False
        self._slot_held = False
        self._char_proxies: dict[int, CharacteristicProxy[bytes]] = {}
        self._subscribers: dict[int, Callable[[bytes], None]] = {}
        self._att_tasks: set[asyncio.Task[Any]] = set()
        """Bumble GATT procedures still running (one may outlive a cancelled caller)."""

    # ------------------------------------------------------------ slot hooks
    def _acquire_slot(self) -> None:
        """Reserve a connection slot (raise ``BleakError`` when none is free)."""

    def _release_slot(self) -> None:
        """Release the slot taken by ``_acquire_slot``."""

    def _give_back_slot(self) -> None:
        if self._slot_held:
            self._slot_held = False
            self._release_slot()

    # ------------------------------------------------------------ profile hooks
    def _requested_mtu(self) -> int:
        """ATT_MTU requested right after connecting (``radio.mtu``; 23: no exchange)."""
        return self.radio.mtu

    async def _resolve_services(
        self, connection: Connection, options: dict[str, Any]
    ) -> BleakGATTServiceCollection:
        """Discover the services on every connection (``options``: connect's keywords)."""
        return make_services(await self._discover(connection), lambda: self.mtu_size - 3)

    async def _read_value(self, connection: Connection, handle: int) -> bytes:
        """Read a value (Bumble: Read, then Read Blob while the part fills the PDU)."""
        return bytes(await connection.gatt_client.read_value(handle))

    async def _write_value(
        self, connection: Connection, handle: int, data: bytes, response: bool
    ) -> None:
        """Write Request (a long write beyond MTU-3 bytes) or Write Command of any length."""
        await connection.gatt_client.write_value(handle, data, with_response=response)

    async def _write_descriptor_value(
        self, connection: Connection, handle: int, uuid: str | None, data: bytes
    ) -> None:
        """Write a descriptor (any descriptor, the CCCD included) with a Write Request."""
        await connection.gatt_client.write_value(handle, data, with_response=True)

    async def clear_cache(self) -> bool:
        """Nothing is cached: services are discovered on every connection."""
        return True

    # ------------------------------------------------------------ connection
    @property
    def mtu_size(self) -> int:
        """The negotiated ATT_MTU."""
        return int(self._connection.att_mtu) if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        """True while the link is up."""
        return self._connection is not None

    async def connect(self, pair: bool = False, **kwargs: Any) -> Any:
        """Connect, exchange the MTU (``_requested_mtu``), resolve the services.

        ``timeout`` (keyword, else the constructor's) bounds the whole connect; None waits
        without a deadline, as bleak does. Returns True (bleak 0.22 expects a bool; bleak
        >= 1.0 ignores the value).
        """
        if self._connection is not None:
            return True
        raw_timeout = kwargs.get("timeout", self._timeout)
        timeout = None if raw_timeout is None else float(raw_timeout)
        radio = self.radio
        self._acquire_slot()
        self._slot_held = True
        self._user_disconnect = False
        connection: Connection | None = None
        try:
            async with asyncio.timeout(timeout):
                async with radio.connect_lock:
                    kind = (
                        Address.RANDOM_DEVICE_ADDRESS
                        if self._address_type == "random"
                        else Address.PUBLIC_DEVICE_ADDRESS
                    )
                    connection = await self._central_connect(Address(self.address, kind), timeout)
                self._connection = connection
                connection.on("disconnection", self._on_disconnection)
                mtu = self._requested_mtu()
                if mtu != att.ATT_DEFAULT_MTU:
                    await self._att(connection.gatt_client.request_mtu(mtu))
                self.services = await self._att(self._resolve_services(connection, kwargs))
        except BaseException as err:
            self._connection = None
            self._give_back_slot()
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.remove_listener("disconnection", self._on_disconnection)
                    # A link that dropped meanwhile is gone already: Bumble would wait forever
                    # for the Disconnection Complete of an unknown handle.
                    if connection.handle in radio.central.connections:
                        await connection.disconnect()
                for task in list(self._att_tasks):  # the link is down: nothing is in flight
                    task.cancel()
            mapped = map_exception(err)
            if mapped is err:
                raise
            raise mapped from err
        return True

    async def _central_connect(self, address: Address, timeout: float | None) -> Connection:
        """Run Bumble's ``Device.connect`` so that giving up never leaves it armed.

        Called with ``radio.connect_lock`` held. Cancelling ``Device.connect`` while it waits
        (our ``asyncio.timeout`` or the caller's cancellation) would skip its
        ``LE Create Connection Cancel``: the controller would keep initiating and later
        complete a link nobody owns. So the connect runs in its own task; when the caller
        gives up first, the pending connection is cancelled at the controller, its outcome is
        awaited (still under the lock, so the next connect starts clean) and a link that
        completed anyway is dropped.
        """
        central = self.radio.central
        task = asyncio.ensure_future(central.connect(address, timeout=timeout))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.shield(self._abandon_connect(task))
            raise

    async def _abandon_connect(self, task: asyncio.Future[Connection]) -> None:
        central = self.radio.central
        if not task.done():
            try:
                await central.send_command(hci.HCI_LE_Create_Connection_Cancel_Command())
            except Exception:  # noqa: BLE001 - best effort: the wait below still bounds it
                _LOGGER.debug("%s: connection cancel failed", self.address, exc_info=True)
            await asyncio.wait({task}, timeout=2.0)
            task.cancel()
        try:
            connection = await task
        except BaseException:  # noqa: BLE001 - the expected outcome of a cancelled connect
            return
        _LOGGER.debug("%s: dropping a link that completed after the connect gave up", self.address)
        with contextlib.suppress(Exception):
            await connection.disconnect()

    async def _discover(self, connection: Connection) -> list[ServiceProxy]:
        """Discover services, characteristics and descriptors (ATT traffic on the link)."""
        client = connection.gatt_client
        self._char_proxies.clear()
        services = list(await client.discover_services())
        for service_proxy in services:
            for char_proxy in await client.discover_characteristics((), service_proxy):
                await client.discover_descriptors(char_proxy)
                char_proxy.descriptors_discovered = True  # Bumble never sets it: no rediscovery
                self._char_proxies[char_proxy.handle] = char_proxy
        return services

    def _on_disconnection(self, reason: int) -> None:
        unsolicited = not self._user_disconnect
        _LOGGER.debug(
            "%s: disconnected (reason %s, unsolicited=%s)", self.address, reason, unsolicited
        )
        self._connection = None
        self._subscribers.clear()
        self._give_back_slot()
        # The link is gone: no response can arrive any more, so a procedure still queued on
        # Bumble's request semaphore may be cancelled safely (one awaiting its response has
        # already been ended by Bumble's own disconnection handler).
        for task in list(self._att_tasks):
            task.cancel()
        if unsolicited and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> Any:
        """Disconnect (no ``disconnected_callback``: it is only for unsolicited drops)."""
        connection = self._connection
        if connection is None:
            return True
        self._user_disconnect = True
        try:
            await connection.disconnect()
        except Exception as err:
            mapped = map_exception(err)
            if mapped is err:
                raise
            raise mapped from err
        finally:
            if self._connection is connection:  # the event did not arrive
                self._on_disconnection(0)
        return True

    async def pair(self, *args: Any, **kwargs: Any) -> Any:
        """Pairing is not modelled by the bench."""
        msg = "pairing is not supported by the Bumble bench backend"
        raise NotImplementedError(msg)

    async def unpair(self) -> Any:
        """Pairing is not modelled by the bench."""
        msg = "pairing is not supported by the Bumble bench backend"
        raise NotImplementedError(msg)

    async def get_services(self, **kwargs: Any) -> BleakGATTServiceCollection:
        """Return the services discovered at connect (bleak 0.22 API)."""
        if self.services is None:
            msg = "Not connected"
            raise BleakError(msg)
        return self.services

    # ------------------------------------------------------------ GATT I/O
    def _require_connection(self) -> Connection:
        if self._connection is None:
            msg = "Not connected"
            raise BleakError(msg)
        return self._connection

    def _char_handle(self, specifier: Any) -> int:
        if isinstance(specifier, BleakGATTCharacteristic):
            return specifier.handle
        if isinstance(specifier, int):
            return specifier
        if self.services is not None:
            found = self.services.get_characteristic(str(specifier))
            if found is not None:
                return found.handle
        raise bleak_exc.BleakCharacteristicNotFoundError(specifier)

    async def _att(self, operation: Coroutine[Any, Any, _T]) -> _T:
        """Run one Bumble GATT procedure so that cancelling the caller never cancels it.

        ATT has no way to cancel a request: once a request PDU is on the air the client must
        wait for its response before it may send the next one. Bumble's ``send_request``
        awaits a bare future; cancelling the awaiting task cancels that future, and
        *  a response already queued on the link then hits ``set_result`` on a cancelled
           future (``InvalidStateError`` raised in the link's callback), and
        *  Bumble releases its request semaphore at once, so the next request of the link
           could be answered with the previous request's late response.

        So the procedure runs in its own task and the caller awaits it through
        :func:`asyncio.shield`: a cancelled caller returns at once (``CancelledError``) while
        the procedure completes in the background, still holding Bumble's request semaphore,
        and its outcome is consumed by :meth:`_att_done` (never "exception was never
        retrieved"). A procedure that Bumble ends because the link dropped (its response future
        is cancelled by ``GattClient.on_disconnection``) raises ``BleakError`` in the caller,
        as the real bleak backends do, instead of a ``CancelledError`` the caller never asked
        for.
        """
        task = asyncio.ensure_future(operation)
        self._att_tasks.add(task)
        task.add_done_callback(self._att_done)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise  # the caller was cancelled; the procedure goes on in the background
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # both: the caller's own cancellation wins
            msg = f"{self.address}: disconnected during a GATT procedure"
            raise BleakError(msg) from None

    def _att_done(self, task: asyncio.Task[Any]) -> None:
        self._att_tasks.discard(task)
        if task.cancelled():
            return
        err = task.exception()  # retrieved: also when its caller had been cancelled
        if err is not None:
            _LOGGER.debug("%s: GATT procedure ended with %r", self.address, err)

    async def _run(self, operation: Coroutine[Any, Any, _T]) -> _T:
        try:
            return await self._att(operation)
        except Exception as err:
            mapped = map_exception(err)
            if mapped is err:
                raise
            raise mapped from err

    # The parameter names differ between bleak 0.22 (char_specifier, handle) and >= 1.0
    # (characteristic, descriptor): *args keeps one override valid for both.
    async def read_gatt_char(self, *args: Any, **kwargs: Any) -> bytearray:
        """Read a characteristic (object, handle or UUID)."""
        connection = self._require_connection()
        specifier = args[0] if args else kwargs.get("characteristic", kwargs.get("char_specifier"))
        handle = self._char_handle(specifier)
        return bytearray(await self._run(self._read_value(connection, handle)))

    async def read_gatt_descriptor(self, *args: Any, **kwargs: Any) -> bytearray:
        """Read a descriptor (object on bleak >= 1.0, handle on 0.22)."""
        connection = self._require_connection()
        descriptor: Any = args[0] if args else kwargs.get("descriptor", kwargs.get("handle"))
        handle = descriptor if isinstance(descriptor, int) else descriptor.handle
        return bytearray(await self._run(self._read_value(connection, handle)))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        """Write with (ATT Write Request) or without (Write Command) response."""
        connection = self._require_connection()
        await self._run(self._write_value(connection, characteristic.handle, bytes(data), response))

    async def write_gatt_descriptor(self, descriptor: Any, data: Any) -> None:
        """Write a descriptor (object on bleak >= 1.0, handle on 0.22)."""
        connection = self._require_connection()
        handle = descriptor if isinstance(descriptor, int) else descriptor.handle
        found = self.services.get_descriptor(handle) if self.services is not None else None
        uuid = found.uuid if found is not None else None
        await self._run(self._write_descriptor_value(connection, handle, uuid, bytes(data)))

    async def start_notify(
        self,
        characteristic: BleakGATTCharacteristic,
        callback: Callable[[bytearray], None],
        **kwargs: Any,
    ) -> None:
        """Subscribe (writes the CCCD) and deliver notifications to ``callback``."""
        connection = self._require_connection()
        proxy = self._char_proxies.get(characteristic.handle)
        if proxy is None:
            raise bleak_exc.BleakCharacteristicNotFoundError(characteristic.handle)

        def subscriber(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = subscriber
        await self._run(connection.gatt_client.subscribe(proxy, subscriber))

    async def stop_notify(self, characteristic: Any) -> None:
        """Unsubscribe (writes 0 to the CCCD)."""
        connection = self._require_connection()
        handle = self._char_handle(characteristic)
        proxy = self._char_proxies.get(handle)
        subscriber = self._subscribers.pop(handle, None)
        if proxy is None:
            raise bleak_exc.BleakCharacteristicNotFoundError(handle)
        await self._run(connection.gatt_client.unsubscribe(proxy, subscriber))


def make_client_backend(
    radio: Radio, base: type[BumbleBleakClient] = BumbleBleakClient
) -> type[BumbleBleakClient]:
    """Return a subclass of ``base`` bound to ``radio``."""
    return type(f"{base.__name__}ForRadio", (base,), {"radio": radio})
