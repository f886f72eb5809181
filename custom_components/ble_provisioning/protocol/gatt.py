"""One BLE GATT connection, shared by the BluFi and Bluenet clients.

:class:`GattLink` connects with ``bleak-retry-connector`` (after taking a lease on a connection
slot when a :class:`~.slots.ConnectionSlots` is given, given back as soon as the link is down),
checks that the device exposes the characteristics a protocol needs, and turns every bleak
failure into a :class:`~.errors.ProvisioningError`. It also offers :meth:`GattLink.wait`, which
waits for a future but gives up at once when the link drops, so a client never sits out a whole
timeout after the device went away.

Value sizes come from what the stack really offers, not from ``mtu_size`` alone: bleak's BlueZ
backend reports ``mtu_size == 23`` unless the MTU was acquired, while each characteristic's
``max_write_without_response_size`` follows the MTU BlueZ negotiated (BlueZ >= 5.62). When both
say 20 bytes the link asks the backend to acquire the MTU where it can (BlueZ ``AcquireWrite``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
import contextlib
import logging
from typing import Any, TypeVar

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
import bleak_retry_connector
from bleak_retry_connector import (
    BleakClientWithServiceCache,
    BleakNotFoundError,
    BleakOutOfConnectionSlotsError,
    establish_connection,
)

from .errors import (
    ConnectionLostError,
    DeviceNotFoundError,
    MissingServiceError,
    NoConnectionSlotError,
    ProvisioningConnectionError,
    ProvisioningError,
    ProvisioningTimeoutError,
)
from .slots import ConnectionSlots, SlotLease

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")

DEFAULT_MTU = 23
"""ATT_MTU before any exchange; what a client must assume when the MTU is unknown."""

ATT_HEADER = 3
"""Bytes of an ATT write or notification PDU that are not value."""

MAX_ATT_VALUE = 512
"""Longest attribute value ATT allows."""

NotifyCallback = Callable[[bytes], None]

_TRANSPORT_ERRORS = (BleakError, EOFError, BrokenPipeError, ConnectionError, OSError)


class GattLink:
    """A BLE connection to one device, with typed errors and disconnect-aware waits."""

    def __init__(
        self,
        ble_device: BLEDevice,
        *,
        service_uuid: str,
        characteristics: Iterable[str],
        ble_device_callback: Callable[[], BLEDevice] | None = None,
        backend: type[BaseBleakClient] | None = None,
        max_attempts: int = 3,
        timeout: float = 10.0,
        on_disconnect: Callable[[], None] | None = None,
        slots: ConnectionSlots | None = None,
        slot_timeout: float = 60.0,
    ) -> None:
        """Describe the connection; nothing happens on the radio until :meth:`connect`."""
        self._ble_device = ble_device
        self._service_uuid = service_uuid.lower()
        self._characteristics = tuple(uuid.lower() for uuid in characteristics)
        self._ble_device_callback = ble_device_callback
        self._backend = backend
        self._max_attempts = max_attempts
        self._timeout = timeout
        self._on_disconnect = on_disconnect
        self._client: BleakClientWithServiceCache | None = None
        self._chars: dict[str, BleakGATTCharacteristic] = {}
        self._lost: asyncio.Future[None] | None = None
        self._closing = False
        self._slots = slots
        self._slot_timeout = slot_timeout
        self._lease: SlotLease | None = None

    @property
    def address(self) -> str:
        """Bluetooth address of the device."""
        return self._ble_device.address

    @property
    def name(self) -> str:
        """Name used in log lines: the advertised name, or the address."""
        return self._ble_device.name or self._ble_device.address

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self._client is not None and self._client.is_connected

    @property
    def mtu(self) -> int:
        """The negotiated ATT_MTU (23 when unknown)."""
        if self._client is None:
            return DEFAULT_MTU
        try:
            mtu = int(self._client.mtu_size)
        except (BleakError, AttributeError, TypeError, ValueError):
            return DEFAULT_MTU
        return max(mtu, DEFAULT_MTU)

    @property
    def att_mtu(self) -> int:
        """The ATT_MTU as the stack offers it.

        From the characteristics' own ``max_write_without_response_size`` + 3 (what BlueZ
        reports from the negotiated MTU while ``mtu_size`` still says 23); ``mtu_size`` only
        when they say 23 or less. Protocols size reads (``ATT_MTU - 1``) and notifications
        (``ATT_MTU - 3``) from it.
        """
        mtu = DEFAULT_MTU
        for char in self._chars.values():
            with contextlib.suppress(BleakError, AttributeError, TypeError, ValueError):
                mtu = max(mtu, int(char.max_write_without_response_size) + ATT_HEADER)
        if mtu <= DEFAULT_MTU:
            # Only then ask mtu_size: bleak's BlueZ backend warns on every read before the MTU
            # was acquired, and its characteristics already know the negotiated MTU.
            mtu = max(mtu, self.mtu)
        return mtu

    @property
    def max_value_length(self) -> int:
        """Largest value that fits in one ATT write or notification, as the stack offers it.

        ``att_mtu - 3``, within ATT's 20-512 bytes.
        """
        return min(self.att_mtu - ATT_HEADER, MAX_ATT_VALUE)

    def _release_lease(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.release()

    async def connect(self) -> None:
        """Connect, discover services and check the characteristics exist."""
        if self.is_connected:
            return
        loop = asyncio.get_running_loop()
        self._lost = loop.create_future()
        self._closing = False
        kwargs: dict[str, Any] = {}
        if self._backend is not None:
            kwargs["backend"] = self._backend
        if self._slots is not None and self._lease is None:
            _LOGGER.debug("%s: waiting for a connection slot", self.name)
            self._lease = await self._slots.acquire(self._ble_device, self._slot_timeout)
        _LOGGER.debug("%s: connecting", self.name)
        try:
            async with asyncio.timeout(self._timeout * self._max_attempts + self._timeout):
                client = await establish_connection(
                    # Looked up at call time: Home Assistant's bluetooth integration replaces
                    # this class with habluetooth's wrapper (which routes the connection through
                    # the adapter or proxy that saw the device) after this module is imported.
                    bleak_retry_connector.BleakClientWithServiceCache,
                    self._ble_device,
                    self.name,
                    disconnected_callback=self._handle_disconnect,
                    max_attempts=self._max_attempts,
                    ble_device_callback=self._ble_device_callback,
                    **kwargs,
                )
        except TimeoutError as err:
            self._release_lease()
            raise ProvisioningTimeoutError(f"{self.name}: timed out while connecting") from err
        except BleakNotFoundError as err:
            self._release_lease()
            raise DeviceNotFoundError(f"{self.name}: the device is not in range: {err}") from err
        except BleakOutOfConnectionSlotsError as err:
            self._release_lease()
            raise NoConnectionSlotError(f"{self.name}: no free connection slot: {err}") from err
        except _TRANSPORT_ERRORS as err:
            self._release_lease()
            raise ProvisioningConnectionError(f"{self.name}: cannot connect: {err}") from err
        except BaseException:
            self._release_lease()
            raise
        if self._lease is not None:
            self._lease.connected()
        self._client = client
        try:
            self._chars = self._resolve_characteristics(client)
        except MissingServiceError:
            with contextlib.suppress(*_TRANSPORT_ERRORS):
                await client.clear_cache()
            await self.disconnect()
            raise
        if self.max_value_length <= DEFAULT_MTU - ATT_HEADER:
            await self._acquire_mtu(client)
        _LOGGER.debug("%s: connected, %s bytes per value", self.name, self.max_value_length)

    async def _acquire_mtu(self, client: BleakClientWithServiceCache) -> None:
        """Ask a backend that hides the negotiated MTU (bleak's BlueZ) to acquire it."""
        backend = getattr(client, "_backend", client)
        acquire = getattr(backend, "_acquire_mtu", None)
        if acquire is None:
            return
        try:
            async with asyncio.timeout(self._timeout):
                await acquire()
        except (*_TRANSPORT_ERRORS, TimeoutError, AssertionError, KeyError) as err:
            _LOGGER.debug("%s: the backend could not acquire the MTU: %s", self.name, err)

    def _resolve_characteristics(
        self, client: BleakClientWithServiceCache
    ) -> dict[str, BleakGATTCharacteristic]:
        service = client.services.get_service(self._service_uuid)
        if service is None:
            raise MissingServiceError(
                f"{self.name}: service {self._service_uuid} not found on the device"
            )
        found: dict[str, BleakGATTCharacteristic] = {}
        for uuid in self._characteristics:
            char = service.get_characteristic(uuid)
            if char is None:
                raise MissingServiceError(f"{self.name}: characteristic {uuid} not found")
            found[uuid] = char
        return found

    def _handle_disconnect(self, _client: Any) -> None:
        self._release_lease()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        if not self._closing:
            _LOGGER.debug("%s: link dropped", self.name)
        if self._on_disconnect is not None:
            self._on_disconnect()

    async def disconnect(self) -> None:
        """Close the link; safe to call at any time, never raises."""
        client, self._client = self._client, None
        self._chars = {}
        if client is None:
            self._release_lease()
            return
        self._closing = True
        try:
            with contextlib.suppress(*_TRANSPORT_ERRORS, TimeoutError):
                async with asyncio.timeout(self._timeout):
                    await client.disconnect()
        finally:
            # Also when the caller is cancelled mid-disconnect (a run being closed): the slot
            # must not stay counted for a link nobody holds any more.
            self._release_lease()
            if self._lost is not None and not self._lost.done():
                self._lost.set_result(None)
        _LOGGER.debug("%s: disconnected", self.name)

    def _char(self, uuid: str) -> BleakGATTCharacteristic:
        client = self._client
        if client is None or not client.is_connected:
            raise ProvisioningConnectionError(f"{self.name}: not connected")
        try:
            return self._chars[uuid.lower()]
        except KeyError:
            raise MissingServiceError(f"{self.name}: characteristic {uuid} not known") from None

    async def write(self, uuid: str, data: bytes, *, response: bool = True) -> None:
        """Write one value (one ATT write) to a characteristic."""
        char = self._char(uuid)
        assert self._client is not None
        await self._guard(
            self._client.write_gatt_char(char, data, response=response), f"write to {uuid}"
        )

    async def read(self, uuid: str) -> bytes:
        """Read a characteristic's value."""
        char = self._char(uuid)
        assert self._client is not None
        value = await self._guard(self._client.read_gatt_char(char), f"read of {uuid}")
        return bytes(value)

    async def start_notify(self, uuid: str, callback: NotifyCallback) -> None:
        """Subscribe to a characteristic; ``callback`` gets each value as bytes."""
        char = self._char(uuid)
        assert self._client is not None

        def _on_value(_sender: Any, data: bytearray) -> None:
            callback(bytes(data))

        await self._guard(self._client.start_notify(char, _on_value), f"subscribe to {uuid}")

    async def stop_notify(self, uuid: str) -> None:
        """Unsubscribe from a characteristic."""
        char = self._char(uuid)
        assert self._client is not None
        await self._guard(self._client.stop_notify(char), f"unsubscribe from {uuid}")

    async def _guard(self, operation: Awaitable[_T], what: str) -> _T:
        """Run one GATT operation with the link's timeout and typed errors."""
        return await self.wait(operation, self._timeout, what)

    async def wait(self, operation: Awaitable[_T], timeout: float, what: str) -> _T:
        """Await ``operation``; fail fast if the link drops, and after ``timeout`` seconds.

        Raises :class:`ProvisioningConnectionError` when the link drops first and
        :class:`ProvisioningTimeoutError` on timeout. A :class:`ProvisioningError` raised by the
        operation itself passes through unchanged.
        """
        task: asyncio.Future[_T] = asyncio.ensure_future(operation)
        lost = self._lost
        waiters: set[asyncio.Future[Any]] = {task}
        if lost is not None:
            waiters.add(lost)
        try:
            done, _ = await asyncio.wait(
                waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task in done:
            try:
                return task.result()
            except ProvisioningError:
                raise
            except TimeoutError as err:
                raise ProvisioningTimeoutError(f"{self.name}: {what} timed out") from err
            except _TRANSPORT_ERRORS as err:
                error = ProvisioningConnectionError if self.is_connected else ConnectionLostError
                raise error(f"{self.name}: {what} failed: {err}") from err
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if lost is not None and lost in done:
            raise ConnectionLostError(f"{self.name}: connection lost during {what}")
        raise ProvisioningTimeoutError(f"{self.name}: no answer to {what} within {timeout:g} s")
