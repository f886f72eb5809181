"""The ``bluez-local`` profile: a bleak client with the semantics of bleak's BlueZ backend.

What bleak (0.22.3 and 3.0.2, ``backends/bluezdbus``) and BlueZ (5.5x to 5.8x,
``src/gatt-client.c``, ``src/shared/gatt-client.c``) do on a local adapter, as a client sees it:

* **MTU.** BlueZ exchanges the MTU by itself on every connection, requesting 517. bleak's
  ``mtu_size`` still returns 23 (and warns "Using default MTU value...") unless
  ``_acquire_mtu()`` was called on that client object, which then keeps the value.
* **``_acquire_mtu()``** calls ``AcquireWrite`` on the first write-without-response
  characteristic, else ``AcquireNotify`` on the first notify one (which subscribes: a CCCD write
  of 1, and closing the returned descriptor a CCCD write of 0), and stores the MTU of the reply
  (the ATT_MTU). With no such characteristic it ends with the ``RuntimeError`` a
  ``StopIteration`` inside a coroutine becomes (bleak#925); on 3.0.2 it asserts that services
  were resolved first.
* **``max_write_without_response_size``** of every characteristic is a callable read at access
  time (0.22.3 and 3.0.2 alike) returning BlueZ's ``GattCharacteristic1.MTU`` property minus 3:
  the ATT_MTU of the device's last MTU exchange (BlueZ >= 5.62), 23 before any; the property is
  not reset when the link goes down.
* **Services** are cached per device and adapter: the first connection discovers them; a
  reconnection with ``dangerous_use_bleak_cache=True`` (what ``establish_connection`` passes)
  reuses them and discovers nothing (the collection object is the cached one, as bleak's BlueZ
  manager returns it). ``clear_cache()`` forgets them. Not modelled: real BlueZ also reads the
  device's Database Hash and, when the device has none (the emulated devices have none), runs a
  discovery in the background while bleak already uses the cache.
* **Reads** run BlueZ's long read: Read Request, then Read Blob requests while the part filled
  the PDU (>= MTU-1 bytes) and fewer than 512 bytes were read; any ATT error fails the read
  (Bumble's own client stops quietly on ATTRIBUTE_NOT_LONG). At MTU 517 a read therefore returns
  at most 516 bytes (MTU-1).
* **Writes** with response up to MTU-3 bytes are one Write Request, longer ones a long write
  (Prepare Write requests of MTU-5 bytes, then Execute Write; an error cancels with Execute
  Write 0), as Bumble's client (the ``ideal`` one) does too. Writes without response over MTU-3
  bytes fail before anything is sent (``BleakDBusError`` "org.bluez.Error.Failed: Failed to
  initiate write"); the ``ideal`` client sends them as they are.
* **Descriptors**: BlueZ refuses writes to a CCCD (``BleakDBusError``
  "org.bluez.Error.NotPermitted"); notifications go through ``start_notify`` (StartNotify).

Everything else (connect, disconnect callback, notifications, slots) is the ``ideal`` client's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar
import warnings

from bleak.exc import BleakDBusError
from bumble import att

from ..bleak_backend import BumbleBleakClient
from ..bleak_gatt import make_services, rebind_services

if TYPE_CHECKING:
    from bleak.backends.characteristic import BleakGATTCharacteristic
    from bleak.backends.service import BleakGATTServiceCollection
    from bumble.device import Connection
    from bumble.gatt_client import ServiceProxy

    from ..radio import Radio

BLUEZ_MTU = 517
"""What BlueZ requests in its MTU exchange (``BT_ATT_MAX_LE_MTU``)."""
DEFAULT_MTU = 23
MAX_VALUE_LEN = 512
"""BlueZ stops a long read once this many bytes were read (``BT_ATT_MAX_VALUE_LEN``)."""
CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
_MTU_WARNING = (
    "Using default MTU value. Call _acquire_mtu() or set _mtu_size first to avoid this warning."
)


@dataclass(slots=True)
class _CachedServices:
    proxies: list[ServiceProxy]
    collection: BleakGATTServiceCollection


@dataclass(slots=True)
class BluezAdapter:
    """What BlueZ and bleak's BlueZ manager keep per adapter, by device address."""

    services: dict[str, _CachedServices] = field(default_factory=dict)
    mtu_property: dict[str, int] = field(default_factory=dict)
    """``GattCharacteristic1.MTU``: the ATT_MTU of the device's last exchange."""

    def max_write_without_response_size(self, address: str) -> int:
        """Return what bleak's callable gives for every characteristic of ``address`` now."""
        return self.mtu_property.get(address, DEFAULT_MTU) - 3


class BluezBleakClient(BumbleBleakClient):
    """The ``ideal`` client with BlueZ's MTU, cache, read and write semantics (module doc)."""

    adapter: ClassVar[BluezAdapter]

    def __init__(self, address_or_ble_device: Any, **kwargs: Any) -> None:
        """Start with no acquired MTU (``mtu_size`` is 23)."""
        super().__init__(address_or_ble_device, **kwargs)
        self._mtu_size: int | None = None

    # ------------------------------------------------------------ MTU
    @property
    def mtu_size(self) -> int:
        """23 with bleak's warning, unless ``_acquire_mtu()`` stored the real ATT_MTU."""
        if self._mtu_size is None:
            warnings.warn(_MTU_WARNING, stacklevel=2)
            return DEFAULT_MTU
        return self._mtu_size

    def _requested_mtu(self) -> int:
        return BLUEZ_MTU

    async def _acquire_mtu(self) -> None:
        """AcquireWrite / AcquireNotify as bleak does, and keep the ATT_MTU of the reply."""
        assert self.services is not None, "Services must be acquired before acquiring MTU"
        characteristics = list(self.services.characteristics.values())
        writable = [c for c in characteristics if "write-without-response" in c.properties]
        notifying = [c for c in characteristics if "notify" in c.properties]
        if not writable and not notifying:
            # bleak's next() over an empty generator inside a coroutine (PEP 479).
            msg = "coroutine raised StopIteration"
            raise RuntimeError(msg)
        connection = self._require_dbus_connection()
        if not writable:
            await self._run(self._acquire_notify(connection, notifying[0]))
        self._mtu_size = int(connection.att_mtu)

    async def _acquire_notify(
        self, connection: Connection, characteristic: BleakGATTCharacteristic
    ) -> None:
        """Subscribe and unsubscribe at once: AcquireNotify, then bleak closes the fd."""
        if characteristic.handle in self._subscribers:
            raise BleakDBusError("org.bluez.Error.InProgress", ["In Progress"])
        proxy = self._char_proxies[characteristic.handle]
        await connection.gatt_client.subscribe(proxy)
        await connection.gatt_client.unsubscribe(proxy, force=True)

    def _require_dbus_connection(self) -> Connection:
        if self._connection is None:
            raise BleakDBusError("org.bluez.Error.Failed", ["Not connected"])
        return self._connection

    # ------------------------------------------------------------ services
    async def _resolve_services(
        self, connection: Connection, options: dict[str, Any]
    ) -> BleakGATTServiceCollection:
        adapter = self.adapter
        adapter.mtu_property[self.address] = int(connection.att_mtu)
        cached = adapter.services.get(self.address)
        if cached is not None and options.get("dangerous_use_bleak_cache"):
            proxies = rebind_services(cached.proxies, connection.gatt_client)
            self._char_proxies = {
                char.handle: char for service in proxies for char in service.characteristics
            }
            return cached.collection
        proxies = await self._discover(connection)
        collection = make_services(
            proxies, partial(adapter.max_write_without_response_size, self.address)
        )
        adapter.services[self.address] = _CachedServices(proxies, collection)
        return collection

    async def clear_cache(self) -> bool:
        """Forget the device's cached services (the next connection discovers them)."""
        self.adapter.services.pop(self.address, None)
        return True

    # ------------------------------------------------------------ reads and writes
    async def _read_value(self, connection: Connection, handle: int) -> bytes:
        client = connection.gatt_client
        mtu = int(connection.att_mtu)
        value = bytearray()
        request: att.ATT_PDU = att.ATT_Read_Request(attribute_handle=handle)
        while True:
            response = await client.send_request(request)
            if response.op_code == att.Opcode.ATT_ERROR_RESPONSE:
                raise att.ATT_Error(response.error_code, handle, str(response))
            part = bytes(
                response.attribute_value
                if response.op_code == att.Opcode.ATT_READ_RESPONSE
                else response.part_attribute_value
            )
            value += part
            if not part or len(value) >= MAX_VALUE_LEN or len(part) < mtu - 1:
                return bytes(value)
            request = att.ATT_Read_Blob_Request(attribute_handle=handle, value_offset=len(value))

    async def _write_value(
        self, connection: Connection, handle: int, data: bytes, response: bool
    ) -> None:
        if not response and len(data) > int(connection.att_mtu) - 3:
            raise BleakDBusError("org.bluez.Error.Failed", ["Failed to initiate write"])
        # With response, Bumble's client does what BlueZ does: one Write Request up to MTU-3
        # bytes, else Prepare Write parts of MTU-5 bytes and Execute Write (0 on an error).
        await connection.gatt_client.write_value(handle, data, with_response=response)

    async def _write_descriptor_value(
        self, connection: Connection, handle: int, uuid: str | None, data: bytes
    ) -> None:
        if uuid == CCCD_UUID:
            raise BleakDBusError("org.bluez.Error.NotPermitted", ["Write not permitted"])
        await self._write_value(connection, handle, data, True)


def make_bluez_client_backend(
    radio: Radio, adapter: BluezAdapter | None = None
) -> type[BluezBleakClient]:
    """Return a :class:`BluezBleakClient` subclass bound to ``radio`` and one adapter's state."""
    attributes = {"radio": radio, "adapter": adapter or BluezAdapter()}
    return type("BluezBleakClientForRadio", (BluezBleakClient,), attributes)
