"""A bleak backend over Bumble, for bleak 0.22.3 and bleak >= 1.0 (3.0.2).

``make_client_backend(radio)`` / ``make_scanner_backend(radio)`` return classes bound to one
:class:`bench.radio.Radio` (no module globals); use them through ``radio.client_backend`` and
``radio.scanner_backend``. Version differences are feature-detected:

* bleak 0.22: abstract GATT classes ``(obj[, mwwr])``; ``connect(**kw) -> bool``;
  ``read_gatt_char(specifier)``; descriptors by handle; 4-argument ``create_or_update_device``;
  ``BLEDevice(address, name, details, rssi)``.
* bleak >= 1.0: concrete GATT classes; ``connect(pair, **kw) -> None``;
  ``read_gatt_char(characteristic)``; descriptor objects; 5-argument ``create_or_update_device``.

ATT errors become ``BleakGATTProtocolError`` where bleak has it (3.x), else ``BleakError``;
the message always reads ``ATT error 0xNN NAME``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
import inspect
import logging
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast
import uuid as uuid_module

from bleak import exc as bleak_exc
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble import att, core as bumble_core, hci
from bumble.hci import Address

if TYPE_CHECKING:
    from bumble.device import Connection
    from bumble.gatt_client import CharacteristicProxy

    from .radio import Radio, RadioAdvertisement

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

# ---------------------------------------------------------------- feature detection
LEGACY_GATT = inspect.isabstract(BleakGATTService)
"""bleak < 1.0: the GATT classes are abstract and we provide concrete subclasses."""
SCANNER_KEYED = "key" in inspect.signature(BaseBleakScanner.create_or_update_device).parameters
"""bleak >= 1.0: ``create_or_update_device(key, address, name, details, adv)``."""
BLEDEVICE_HAS_RSSI = "rssi" in inspect.signature(BLEDevice.__init__).parameters
"""bleak < 1.0: ``BLEDevice(address, name, details, rssi)``."""
_GattProtocolError: type[BleakError] | None = getattr(bleak_exc, "BleakGATTProtocolError", None)

_PROPERTY_NAMES = {
    0x01: "broadcast",
    0x02: "read",
    0x04: "write-without-response",
    0x08: "write",
    0x10: "notify",
    0x20: "indicate",
    0x40: "authenticated-signed-writes",
    0x80: "extended-properties",
}


def bumble_uuid_str(value: bumble_core.UUID) -> str:
    """Return bleak's lower-case 128-bit string form of a Bumble UUID."""
    return str(uuid_module.UUID(bytes=value.to_bytes(force_128=True)[::-1]))


def att_error(code: int) -> BleakError:
    """Build the bleak exception for ATT error ``code`` (message ``ATT error 0xNN NAME``)."""
    try:
        name = att.ErrorCode(code).name
    except ValueError:
        name = "UNKNOWN"
    text = f"ATT error 0x{code:02X} {name}"
    if _GattProtocolError is not None:
        err = _GattProtocolError(code)
        # Keep ``.code`` working (args[0]) and put our readable text in the message.
        err.args = (code, text)
        return err
    return BleakError(text)


def make_ble_device(
    address: str, name: str | None = None, details: Any = None, rssi: int = -50
) -> BLEDevice:
    """Build a ``BLEDevice`` on any bleak version (``rssi`` only where it is accepted)."""
    factory = cast("Callable[..., BLEDevice]", BLEDevice)
    if BLEDEVICE_HAS_RSSI:
        return factory(address, name, details, rssi)
    return factory(address, name, details)


# ---------------------------------------------------------------- GATT objects
class _LegacyService(BleakGATTService):
    """Concrete service for bleak < 1.0 (abstract base there)."""

    def __init__(self, obj: Any, handle: int, uuid: str) -> None:
        cast("Any", super()).__init__(obj)
        self._bench_handle = handle
        self._bench_uuid = uuid
        self._bench_chars: list[BleakGATTCharacteristic] = []

    @property
    def handle(self) -> int:
        return self._bench_handle

    @property
    def uuid(self) -> str:
        return self._bench_uuid

    @property
    def characteristics(self) -> list[BleakGATTCharacteristic]:
        return self._bench_chars

    def add_characteristic(self, characteristic: BleakGATTCharacteristic) -> None:
        self._bench_chars.append(characteristic)


class _LegacyCharacteristic(BleakGATTCharacteristic):
    """Concrete characteristic for bleak < 1.0."""

    def __init__(
        self,
        obj: Any,
        handle: int,
        uuid: str,
        properties: list[Any],
        max_write_without_response_size: Callable[[], int],
        service: BleakGATTService,
    ) -> None:
        cast("Any", super()).__init__(obj, max_write_without_response_size)
        self._bench_handle = handle
        self._bench_uuid = uuid
        self._bench_properties = properties
        self._bench_service = service
        self._bench_descriptors: list[BleakGATTDescriptor] = []

    @property
    def service_uuid(self) -> str:
        return self._bench_service.uuid

    @property
    def service_handle(self) -> int:
        return self._bench_service.handle

    @property
    def handle(self) -> int:
        return self._bench_handle

    @property
    def uuid(self) -> str:
        return self._bench_uuid

    @property
    def properties(self) -> list[Any]:
        return self._bench_properties

    @property
    def descriptors(self) -> list[BleakGATTDescriptor]:
        return self._bench_descriptors

    def get_descriptor(self, specifier: int | str | uuid_module.UUID) -> Any:
        for descriptor in self._bench_descriptors:
            if specifier in (descriptor.handle, descriptor.uuid, str(specifier)):
                return descriptor
        return None

    def add_descriptor(self, descriptor: BleakGATTDescriptor) -> None:
        self._bench_descriptors.append(descriptor)


class _LegacyDescriptor(BleakGATTDescriptor):
    """Concrete descriptor for bleak < 1.0."""

    def __init__(
        self, obj: Any, handle: int, uuid: str, characteristic: BleakGATTCharacteristic
    ) -> None:
        cast("Any", super()).__init__(obj)
        self._bench_handle = handle
        self._bench_uuid = uuid
        self._bench_char = characteristic

    @property
    def characteristic_uuid(self) -> str:
        return self._bench_char.uuid

    @property
    def characteristic_handle(self) -> int:
        return self._bench_char.handle

    @property
    def uuid(self) -> str:
        return self._bench_uuid

    @property
    def handle(self) -> int:
        return self._bench_handle


# Constructors with the bleak >= 1.0 signatures, whatever the installed version.
_ServiceFactory = cast(
    "Callable[[Any, int, str], BleakGATTService]",
    _LegacyService if LEGACY_GATT else BleakGATTService,
)
_CharacteristicFactory = cast(
    "Callable[[Any, int, str, list[Any], Callable[[], int], BleakGATTService], "
    "BleakGATTCharacteristic]",
    _LegacyCharacteristic if LEGACY_GATT else BleakGATTCharacteristic,
)
_DescriptorFactory = cast(
    "Callable[[Any, int, str, BleakGATTCharacteristic], BleakGATTDescriptor]",
    _LegacyDescriptor if LEGACY_GATT else BleakGATTDescriptor,
)


def _map_exception(err: BaseException) -> BaseException:
    """Translate a Bumble exception into what bleak users expect."""
    if isinstance(err, att.ATT_Error):
        return att_error(int(err.error_code))
    if isinstance(err, bumble_core.TimeoutError):
        return TimeoutError(str(err) or "Bumble timeout")
    if isinstance(err, bumble_core.BaseBumbleError):
        return BleakError(f"{type(err).__name__}: {err}")
    return err


# ---------------------------------------------------------------- client
class BumbleBleakClient(BaseBleakClient):
    """bleak client backend driving the radio's Bumble central.

    Subclasses made by :func:`make_client_backend` set ``radio``. A proxy may override
    ``_acquire_slot`` / ``_release_slot`` to model connection slots.
    """

    radio: ClassVar[Radio]

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        """Accept every keyword bleak / habluetooth pass (timeout, services, bluez, ...)."""
        kwargs.setdefault("timeout", 10.0)  # bleak >= 1.0's base reads kwargs["timeout"]
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
        """Connect, exchange MTU (``radio.mtu``), discover services.

        Returns True (bleak 0.22 expects a bool; bleak >= 1.0 ignores the value).
        """
        if self._connection is not None:
            return True
        timeout = float(kwargs.get("timeout", self._timeout))
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
                if radio.mtu != att.ATT_DEFAULT_MTU:
                    await self._att(connection.gatt_client.request_mtu(radio.mtu))
                self.services = await self._att(self._discover(connection))
        except BaseException as err:
            self._connection = None
            self._give_back_slot()
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.remove_listener("disconnection", self._on_disconnection)
                    await connection.disconnect()
                for task in list(self._att_tasks):  # the link is down: nothing is in flight
                    task.cancel()
            mapped = _map_exception(err)
            if mapped is err:
                raise
            raise mapped from err
        return True

    async def _central_connect(self, address: Address, timeout: float) -> Connection:
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

    async def _discover(self, connection: Connection) -> BleakGATTServiceCollection:
        client = connection.gatt_client
        collection = BleakGATTServiceCollection()
        self._char_proxies.clear()

        def mwwr() -> int:
            return self.mtu_size - 3

        for service_proxy in await client.discover_services():
            service = _ServiceFactory(
                service_proxy, service_proxy.handle, bumble_uuid_str(service_proxy.uuid)
            )
            collection.add_service(service)
            for char_proxy in await client.discover_characteristics((), service_proxy):
                props = [
                    name for bit, name in _PROPERTY_NAMES.items() if char_proxy.properties & bit
                ]
                characteristic = _CharacteristicFactory(
                    char_proxy,
                    char_proxy.handle,
                    bumble_uuid_str(char_proxy.uuid),
                    props,
                    mwwr,
                    service,
                )
                collection.add_characteristic(characteristic)
                self._char_proxies[char_proxy.handle] = char_proxy
                for desc_proxy in await client.discover_descriptors(char_proxy):
                    descriptor = _DescriptorFactory(
                        desc_proxy,
                        desc_proxy.handle,
                        bumble_uuid_str(desc_proxy.type),
                        characteristic,
                    )
                    collection.add_descriptor(descriptor)
        return collection

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
            mapped = _map_exception(err)
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
            mapped = _map_exception(err)
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
        value = await self._run(connection.gatt_client.read_value(handle))
        return bytearray(value)

    async def read_gatt_descriptor(self, *args: Any, **kwargs: Any) -> bytearray:
        """Read a descriptor (object on bleak >= 1.0, handle on 0.22)."""
        connection = self._require_connection()
        descriptor: Any = args[0] if args else kwargs.get("descriptor", kwargs.get("handle"))
        handle = descriptor if isinstance(descriptor, int) else descriptor.handle
        value = await self._run(connection.gatt_client.read_value(handle))
        return bytearray(value)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        """Write with (ATT Write Request) or without (Write Command) response."""
        connection = self._require_connection()
        await self._run(
            connection.gatt_client.write_value(
                characteristic.handle, bytes(data), with_response=response
            )
        )

    async def write_gatt_descriptor(self, descriptor: Any, data: Any) -> None:
        """Write a descriptor (object on bleak >= 1.0, handle on 0.22)."""
        connection = self._require_connection()
        handle = descriptor if isinstance(descriptor, int) else descriptor.handle
        await self._run(connection.gatt_client.write_value(handle, bytes(data), with_response=True))

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


# ---------------------------------------------------------------- scanner
class BumbleBleakScanner(BaseBleakScanner):
    """bleak scanner backend fed by the radio central's (always-on) scanning."""

    radio: ClassVar[Radio]

    def __init__(
        self,
        detection_callback: Any,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        """Accept bleak's scanner arguments (``bluez``/``cb`` are ignored)."""
        super().__init__(detection_callback, service_uuids)
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        """Start delivering advertisements."""
        self.seen_devices = {}
        if self._unsubscribe is None:
            self._unsubscribe = self.radio.add_advertisement_listener(self._on_advertisement)

    async def stop(self) -> None:
        """Stop delivering advertisements."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def set_scanning_filter(self, **kwargs: Any) -> None:
        """Ignore filters: only ``service_uuids`` filtering is supported."""

    def _on_advertisement(self, adv: RadioAdvertisement) -> None:
        data = adv.data
        if not self.is_allowed_uuid(data.service_uuids):
            return
        advertisement_data = AdvertisementData(
            local_name=data.local_name,
            manufacturer_data=dict(data.manufacturer_data),
            service_data=dict(data.service_data),
            service_uuids=list(data.service_uuids),
            tx_power=data.tx_power,
            rssi=adv.rssi,
            platform_data=(adv.address, adv.raw),
        )
        create = cast("Callable[..., BLEDevice]", self.create_or_update_device)
        if SCANNER_KEYED:
            device = create(
                adv.address, adv.address, data.local_name, adv.details, advertisement_data
            )
        else:
            device = create(adv.address, data.local_name, adv.details, advertisement_data)
        self.call_detection_callbacks(device, advertisement_data)


def make_client_backend(
    radio: Radio, base: type[BumbleBleakClient] = BumbleBleakClient
) -> type[BumbleBleakClient]:
    """Return a subclass of ``base`` bound to ``radio``."""
    return type(f"{base.__name__}ForRadio", (base,), {"radio": radio})


def make_scanner_backend(radio: Radio) -> type[BumbleBleakScanner]:
    """Return a ``BumbleBleakScanner`` subclass bound to ``radio``."""
    return type("BumbleBleakScannerForRadio", (BumbleBleakScanner,), {"radio": radio})
