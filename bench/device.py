"""`EmulatedPeripheral`: the base class of every device emulator on the bench.

An emulator declares its advertisement and GATT table, and reacts to writes, reads and
subscriptions. The base class enforces what a real BLE stack enforces and Bumble does not:

* advertising data must fit the 31-byte legacy limit (``ValueError`` at construction);
* a write request to a characteristic without WRITE (or write-without-response to one without
  WRITE_WITHOUT_RESPONSE) is rejected with ATT error WRITE_NOT_PERMITTED (0x03); a
  write command (no response) is silently dropped, as the spec requires;
* a read of a characteristic without READ fails with READ_NOT_PERMITTED (0x02);
* notifications are cut at ATT_MTU - 3 and only go to centrals that subscribed.

Example::

    class Echo(EmulatedPeripheral):
        services = (
            GattService(
                "0000ffff-0000-1000-8000-00805f9b34fb",
                (
                    GattCharacteristic("0000ff01-0000-1000-8000-00805f9b34fb", Prop.WRITE),
                    GattCharacteristic("0000ff02-0000-1000-8000-00805f9b34fb", Prop.NOTIFY),
                ),
            ),
        )

        async def on_write(self, char_uuid: str, value: bytes, connection: Connection) -> None:
            await self.notify("0000ff02-0000-1000-8000-00805f9b34fb", value)

    echo = Echo(name="ECHO", address="AA:BB:CC:DD:EE:01",
                service_uuids=["0000ffff-0000-1000-8000-00805f9b34fb"])
    await radio.add_peripheral(echo)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
import enum
import inspect
import logging
from typing import Any, ClassVar

from bumble import att, core as bumble_core, gatt
from bumble.device import Connection as BumbleConnection, Device as BumbleDevice

from .advertising import build_advertising_data, normalize_uuid, short_uuid

_LOGGER = logging.getLogger(__name__)

ATT_READ_NOT_PERMITTED = 0x02
ATT_WRITE_NOT_PERMITTED = 0x03
ATT_INVALID_ATTRIBUTE_LENGTH = 0x0D
ATT_UNLIKELY_ERROR = 0x0E
ATT_VALUE_NOT_ALLOWED = 0x13


class AttError(Exception):
    """Raise from a handler to answer the central with an ATT error code."""

    def __init__(self, code: int, message: str = "") -> None:
        """Keep the ATT error code (e.g. 0x13 VALUE_NOT_ALLOWED)."""
        super().__init__(code, message or f"ATT error 0x{code:02X}")
        self.code = code


class Prop(enum.IntFlag):
    """Characteristic properties (the values are the Bluetooth property bits)."""

    READ = 0x02
    WRITE_WITHOUT_RESPONSE = 0x04
    WRITE = 0x08
    NOTIFY = 0x10
    INDICATE = 0x20


@dataclass(frozen=True, slots=True)
class GattCharacteristic:
    """A characteristic: UUID (16- or 128-bit form), properties and initial value."""

    uuid: str
    properties: Prop
    value: bytes = b""


@dataclass(frozen=True, slots=True)
class GattService:
    """A primary service and its characteristics."""

    uuid: str
    characteristics: tuple[GattCharacteristic, ...]


Connection = BumbleConnection
"""Handlers receive Bumble's ``bumble.device.Connection`` (``.att_mtu``, ``.peer_address``)."""


def _bumble_uuid(value: str) -> bumble_core.UUID:
    alias = short_uuid(value)
    return (
        bumble_core.UUID(f"{alias:04X}")
        if alias is not None
        else bumble_core.UUID(normalize_uuid(value))
    )


class EmulatedPeripheral:
    """Base class of a BLE peripheral emulator (one Bumble device on its own controller).

    Subclasses set ``services`` (or pass ``services=``) and override the hooks they need:
    ``on_write``, ``on_read``, ``on_connect``, ``on_disconnect``, ``on_subscribe``. Handlers
    may be plain or async functions and may raise :class:`AttError`.
    """

    services: ClassVar[Sequence[GattService]] = ()
    """The GATT table (class-level default; the constructor's ``services`` overrides it)."""

    def __init__(
        self,
        *,
        address: str,
        name: str | None = None,
        service_uuids: Iterable[str] = (),
        manufacturer_data: Mapping[int, bytes] | None = None,
        service_data: Mapping[str, bytes] | None = None,
        services: Sequence[GattService] | None = None,
        max_mtu: int = 517,
    ) -> None:
        """Build the advertisement (ValueError if it exceeds 31 bytes) and the GATT table.

        ``address`` is the public device address ("AA:BB:CC:DD:EE:01"); ``name`` is the
        complete local name (None: no name in the advertisement); ``max_mtu`` is the largest
        ATT_MTU the device accepts in an MTU exchange.
        """
        self.address = address.upper()
        self.name = name
        self.service_uuids = [normalize_uuid(u) for u in service_uuids]
        self.manufacturer_data = dict(manufacturer_data or {})
        self.advertising_data = build_advertising_data(
            name=name,
            service_uuids=self.service_uuids,
            manufacturer_data=self.manufacturer_data,
            service_data=service_data,
        )
        self.max_mtu = max_mtu
        self.gatt_services: tuple[GattService, ...] = tuple(
            type(self).services if services is None else services
        )
        self.values: dict[str, bytes] = {}
        """Current characteristic values by normalised UUID (what ``on_read`` returns)."""
        self.connections: list[BumbleConnection] = []
        """Centrals currently connected."""
        self.connections_made = 0
        """Connections accepted since the start (a proxy slot each)."""
        self.subscriptions: dict[str, bool] = {}
        """Notification state per characteristic UUID (last CCCD write of any central)."""
        self.device: BumbleDevice | None = None
        self._props: dict[str, Prop] = {}
        self._characteristics: dict[str, gatt.Characteristic[Any]] = {}
        for service in self.gatt_services:
            for char in service.characteristics:
                key = normalize_uuid(char.uuid)
                self._props[key] = char.properties
                self.values[key] = char.value

    # ------------------------------------------------------------------ hooks to override
    def on_write(
        self, char_uuid: str, value: bytes, connection: BumbleConnection
    ) -> Awaitable[None] | None:
        """Handle a write (request or command) to ``char_uuid``; default: store the value.

        May be ``async``. Raise :class:`AttError` to reject a write request.
        """
        self.values[char_uuid] = value
        return None

    def on_read(self, char_uuid: str, connection: BumbleConnection) -> Awaitable[bytes] | bytes:
        """Return the value of a readable characteristic; default: ``self.values``."""
        return self.values.get(char_uuid, b"")

    def on_connect(self, connection: BumbleConnection) -> None:
        """Call when a central has connected."""

    def on_disconnect(self, connection: BumbleConnection, reason: int) -> None:
        """Call when a central has disconnected (either side)."""

    def on_subscribe(self, char_uuid: str, enabled: bool) -> None:
        """Call when a central enables or disables notifications/indications."""

    # ------------------------------------------------------------------ actions
    @property
    def connection(self) -> BumbleConnection | None:
        """The most recent live connection, or None."""
        return self.connections[-1] if self.connections else None

    @property
    def mtu(self) -> int:
        """ATT_MTU of the current connection (23 when not connected)."""
        conn = self.connection
        return int(conn.att_mtu) if conn is not None else 23

    @property
    def is_connected(self) -> bool:
        """True while a central is connected."""
        return bool(self.connections)

    async def notify(self, char_uuid: str, value: bytes) -> int:
        """Notify subscribed centrals; cut at ATT_MTU - 3. Return how many were notified."""
        key = normalize_uuid(char_uuid)
        characteristic = self._characteristics[key]
        if not self._props[key] & (Prop.NOTIFY | Prop.INDICATE):
            msg = f"{key} has neither NOTIFY nor INDICATE"
            raise ValueError(msg)
        device = self._require_device()
        sent = 0
        for connection in list(self.connections):
            if not self._is_subscribed(connection, characteristic):
                continue
            chunk = bytes(value[: connection.att_mtu - 3])
            await device.notify_subscriber(connection, characteristic, chunk)
            sent += 1
        return sent

    async def disconnect(self) -> None:
        """Drop every connection from the device side (e.g. a reboot after provisioning)."""
        for connection in list(self.connections):
            await connection.disconnect()

    # ------------------------------------------------------------------ radio plumbing
    def _require_device(self) -> BumbleDevice:
        if self.device is None:
            msg = "peripheral is not on a radio (await radio.add_peripheral(...))"
            raise RuntimeError(msg)
        return self.device

    def _is_subscribed(
        self, connection: BumbleConnection, characteristic: gatt.Characteristic[Any]
    ) -> bool:
        server = self._require_device().gatt_server
        cccd = server.subscribers.get(connection, {}).get(characteristic.handle)
        if not cccd or len(cccd) != 2:
            return False
        return bool(cccd[0] & 0x03)

    def _attach(self, device: BumbleDevice) -> None:
        """Install the GATT table and the permission guards on a Bumble device (radio use)."""
        self.device = device
        bumble_services = []
        for service in self.gatt_services:
            chars = []
            for spec in service.characteristics:
                key = normalize_uuid(spec.uuid)
                permissions = gatt.Characteristic.Permissions(0)
                if spec.properties & Prop.READ:
                    permissions |= gatt.Characteristic.READABLE
                if spec.properties & (Prop.WRITE | Prop.WRITE_WITHOUT_RESPONSE):
                    permissions |= gatt.Characteristic.WRITEABLE
                char: gatt.Characteristic[Any] = gatt.Characteristic(
                    _bumble_uuid(spec.uuid),
                    gatt.Characteristic.Properties(int(spec.properties)),
                    permissions,
                    gatt.CharacteristicValue(
                        read=self._make_reader(key), write=self._make_writer(key)
                    ),
                )
                self._characteristics[key] = char
                chars.append(char)
            bumble_services.append(gatt.Service(_bumble_uuid(service.uuid), chars))
        device.add_services(bumble_services)
        server = device.gatt_server
        server.max_mtu = self.max_mtu
        self._install_guards(server)
        server.on("characteristic_subscription", self._on_subscription)
        device.on("connection", self._on_connection)

    def _install_guards(self, server: Any) -> None:
        """Wrap Bumble's ATT write handlers: reject writes lacking the property."""
        original_request = server.on_att_write_request
        original_command = server.on_att_write_command
        original_prepare = server.on_att_prepare_write_request

        def props_of(handle: int) -> Prop | None:
            attribute = server.get_attribute(handle)
            if isinstance(attribute, gatt.Characteristic):
                return Prop(int(attribute.properties) & 0x3E)
            return None

        def reject(bearer: Any, request: Any) -> None:
            server.send_response(
                bearer,
                att.ATT_Error_Response(
                    request_opcode_in_error=request.op_code,
                    attribute_handle_in_error=request.attribute_handle,
                    error_code=ATT_WRITE_NOT_PERMITTED,
                ),
            )

        def guarded(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
            """Wrap a write-request handler: answer 0x03 when the characteristic lacks WRITE."""

            def handler(bearer: Any, request: Any) -> None:
                props = props_of(request.attribute_handle)
                if props is not None and not props & Prop.WRITE:
                    reject(bearer, request)
                    return
                original(bearer, request)

            return handler

        def write_command(bearer: Any, request: Any) -> None:
            props = props_of(request.attribute_handle)
            if props is not None and not props & Prop.WRITE_WITHOUT_RESPONSE:
                _LOGGER.debug("dropping write command to handle %s", request.attribute_handle)
                return
            original_command(bearer, request)

        # Bumble dispatches ATT PDUs with getattr(server, "on_<pdu name>"), so instance
        # attributes take precedence over the class's methods.
        server.on_att_write_request = guarded(original_request)
        server.on_att_write_command = write_command
        server.on_att_prepare_write_request = guarded(original_prepare)

    def _make_reader(self, key: str) -> Callable[[BumbleConnection], Awaitable[bytes]]:
        async def read(connection: BumbleConnection) -> bytes:
            if not self._props[key] & Prop.READ:
                raise att.ATT_Error(ATT_READ_NOT_PERMITTED)
            try:
                result = self.on_read(key, connection)
                if inspect.isawaitable(result):
                    result = await result
            except AttError as err:
                raise att.ATT_Error(err.code) from err
            return bytes(result)

        return read

    def _make_writer(self, key: str) -> Callable[[BumbleConnection, bytes], Awaitable[None]]:
        async def write(connection: BumbleConnection, value: bytes) -> None:
            try:
                result = self.on_write(key, bytes(value), connection)
                if inspect.isawaitable(result):
                    await result
            except AttError as err:
                raise att.ATT_Error(err.code) from err

        return write

    def _on_connection(self, connection: BumbleConnection) -> None:
        self.connections.append(connection)
        self.connections_made += 1

        def on_disconnection(reason: int) -> None:
            if connection in self.connections:
                self.connections.remove(connection)
            self.on_disconnect(connection, reason)

        connection.on("disconnection", on_disconnection)
        self.on_connect(connection)

    def _on_subscription(
        self, _bearer: Any, characteristic: Any, notify: bool, indicate: bool
    ) -> None:
        for key, char in self._characteristics.items():
            if char is characteristic:
                self.subscriptions[key] = notify or indicate
                self.on_subscribe(key, notify or indicate)
                return


class GenericTestPeripheral(EmulatedPeripheral):
    """A small peripheral for bench tests.

    Service ``SERVICE`` with ``WRITE_CHAR`` (write + write-without-response; every write is
    recorded in ``writes`` and echoed as a notification on ``NOTIFY_CHAR``), ``NOTIFY_CHAR``
    (notify only) and ``READ_CHAR`` (read only).
    """

    SERVICE = "0000abf0-0000-1000-8000-00805f9b34fb"
    WRITE_CHAR = "0000abf1-0000-1000-8000-00805f9b34fb"
    NOTIFY_CHAR = "0000abf2-0000-1000-8000-00805f9b34fb"
    READ_CHAR = "0000abf3-0000-1000-8000-00805f9b34fb"

    services = (
        GattService(
            SERVICE,
            (
                GattCharacteristic(WRITE_CHAR, Prop.WRITE | Prop.WRITE_WITHOUT_RESPONSE),
                GattCharacteristic(NOTIFY_CHAR, Prop.NOTIFY),
                GattCharacteristic(READ_CHAR, Prop.READ, b"bench"),
            ),
        ),
    )

    def __init__(
        self,
        *,
        address: str,
        name: str | None = "BENCH",
        service_uuids: Iterable[str] | None = None,
        echo: bool = True,
        **kwargs: Any,
    ) -> None:
        """Advertise ``SERVICE`` unless ``service_uuids`` is given."""
        super().__init__(
            address=address,
            name=name,
            service_uuids=[self.SERVICE] if service_uuids is None else service_uuids,
            **kwargs,
        )
        self.echo = echo
        self.writes: list[bytes] = []

    async def on_write(self, char_uuid: str, value: bytes, connection: BumbleConnection) -> None:
        """Record the write and echo it on the notify characteristic."""
        self.writes.append(value)
        if self.echo:
            await self.notify(self.NOTIFY_CHAR, value)
