"""bleak's GATT objects, errors and devices built from Bumble's, for bleak 0.22.3 and >= 1.0.

Shared by the bench's bleak backends (:mod:`bench.bleak_backend`, :mod:`bench.bleak_scanner`,
:mod:`bench.link.bluez`). Version differences are feature-detected:

* bleak 0.22: abstract GATT classes ``(obj[, mwwr])`` (concrete subclasses here);
  ``BLEDevice(address, name, details, rssi)``;
* bleak >= 1.0: concrete GATT classes ``(obj, handle, uuid, ...)``; ``BLEDevice(address, name,
  details)``.

ATT errors become ``BleakGATTProtocolError`` where bleak has it (3.x), else ``BleakError``; the
message always reads ``ATT error 0xNN NAME``.
"""

from __future__ import annotations

from collections.abc import Callable
import inspect
from typing import TYPE_CHECKING, Any, cast
import uuid as uuid_module

from bleak import exc as bleak_exc
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble import att, core as bumble_core, gatt_client

if TYPE_CHECKING:
    from bumble.gatt_client import CharacteristicProxy, Client as GattClient, ServiceProxy

# ---------------------------------------------------------------- feature detection
LEGACY_GATT = inspect.isabstract(BleakGATTService)
"""bleak < 1.0: the GATT classes are abstract and we provide concrete subclasses."""
SCANNER_KEYED = "key" in inspect.signature(BaseBleakScanner.create_or_update_device).parameters
"""bleak >= 1.0: ``create_or_update_device(key, address, name, details, adv)``."""
BLEDEVICE_HAS_RSSI = "rssi" in inspect.signature(BLEDevice.__init__).parameters
"""bleak < 1.0: ``BLEDevice(address, name, details, rssi)``."""
_GattProtocolError: type[BleakError] | None = getattr(bleak_exc, "BleakGATTProtocolError", None)

PROPERTY_NAMES = {
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


def map_exception(err: BaseException) -> BaseException:
    """Translate a Bumble exception into what bleak users expect."""
    if isinstance(err, att.ATT_Error):
        return att_error(int(err.error_code))
    if isinstance(err, bumble_core.TimeoutError):
        return TimeoutError(str(err) or "Bumble timeout")
    if isinstance(err, bumble_core.BaseBumbleError):
        return BleakError(f"{type(err).__name__}: {err}")
    return err


def make_services(
    services: list[ServiceProxy], max_write_without_response_size: Callable[[], int]
) -> BleakGATTServiceCollection:
    """Build bleak's service collection from Bumble proxies whose tree was discovered.

    Every characteristic gets ``max_write_without_response_size`` (a callable read at access
    time, as bleak does on every version).
    """
    collection = BleakGATTServiceCollection()
    for service_proxy in services:
        service = _ServiceFactory(
            service_proxy, service_proxy.handle, bumble_uuid_str(service_proxy.uuid)
        )
        collection.add_service(service)
        for char_proxy in service_proxy.characteristics:
            props = [name for bit, name in PROPERTY_NAMES.items() if char_proxy.properties & bit]
            characteristic = _CharacteristicFactory(
                char_proxy,
                char_proxy.handle,
                bumble_uuid_str(char_proxy.uuid),
                props,
                max_write_without_response_size,
                service,
            )
            collection.add_characteristic(characteristic)
            for desc_proxy in char_proxy.descriptors:
                descriptor = _DescriptorFactory(
                    desc_proxy, desc_proxy.handle, bumble_uuid_str(desc_proxy.type), characteristic
                )
                collection.add_descriptor(descriptor)
    return collection


def rebind_services(services: list[ServiceProxy], client: GattClient) -> list[ServiceProxy]:
    """Copy a discovered proxy tree onto another connection's GATT client (no ATT traffic).

    What a host with a GATT cache does on a reconnection: the handles it learnt before are
    used as they are.
    """
    copies: list[ServiceProxy] = []
    for service_proxy in services:
        service = gatt_client.ServiceProxy(  # type: ignore[no-untyped-call]
            client, service_proxy.handle, service_proxy.end_group_handle, service_proxy.uuid
        )
        for char_proxy in service_proxy.characteristics:
            characteristic: CharacteristicProxy[bytes] = gatt_client.CharacteristicProxy(
                client,
                char_proxy.handle,
                char_proxy.end_group_handle,
                char_proxy.uuid,
                int(char_proxy.properties),
            )
            characteristic.descriptors = [
                gatt_client.DescriptorProxy(client, descriptor.handle, descriptor.type)
                for descriptor in char_proxy.descriptors
            ]
            characteristic.descriptors_discovered = True
            service.characteristics.append(characteristic)
        copies.append(service)
    return copies
