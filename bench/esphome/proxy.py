"""The ``bluetooth_proxy`` component of the emulated ESP32: advertisements, slots, requests.

* **Advertisements**: everything the radio's central hears is streamed to the one API
  connection that subscribed (66; a second subscriber is ignored, as the firmware allows only
  one): raw advertisements (93, batched per event-loop turn, address type 0 public / 1
  random, at most 62 bytes of AD data) when subscribed with the RAW flag, else the parsed
  legacy form (67).
* **Slots**: ``slots`` links at most. Connections-free (81: free, limit, allocated) goes to
  every API connection that subscribed (80) at once and after every change.
* **Device requests** (68): connect (the three connect types), disconnect, clear cache
  (answered 88 success), pair/unpair (answered 85/86 with ``ESP_ERR_NOT_SUPPORTED``: the
  bench does not model pairing). A connect with every slot taken is refused at once with
  69 ``connected=false, error=0``, as the firmware does ("No free connections available").
* **Scanner state and mode** (126/127, when the schema has them): the scanner reports
  RUNNING with its current and configured mode on subscription and after each mode change.

The BLE links themselves are :class:`~.link.BleLink`; they die with the API connection that
made them (the ESP32 drops every link when its API client goes away).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import TYPE_CHECKING, Any

from aioesphomeapi.model import BluetoothDeviceRequestType

from bench.advertising import parse_advertising_data, short_uuid

from .config import EspCode, ProxyConfig
from .link import ADDRESS_TYPE_PUBLIC, ADDRESS_TYPE_RANDOM, BleLink, mac_from_int, mac_to_int
from .messages import PB, SCHEMA

if TYPE_CHECKING:
    from bench.radio import Radio, RadioAdvertisement

    from .api import ApiConnection

_LOGGER = logging.getLogger(__name__)

MAX_RAW_DATA = 62
"""Advertising data + scan response of a legacy advertisement, as the firmware sends it."""
RAW_FLAG = 1
"""``BluetoothProxySubscriptionFlag.RAW_ADVERTISEMENTS``."""
SCANNER_RUNNING = 2
SCANNER_MODE_PASSIVE = 0
SCANNER_MODE_ACTIVE = 1

SUBSCRIBE_ADVERTISEMENTS = 66
DEVICE_REQUEST = 68
GATT_GET_SERVICES = 70
GATT_READ = 73
GATT_WRITE = 75
GATT_READ_DESCRIPTOR = 76
GATT_WRITE_DESCRIPTOR = 77
GATT_NOTIFY = 78
SUBSCRIBE_CONNECTIONS_FREE = 80
UNSUBSCRIBE_ADVERTISEMENTS = 87
SCANNER_SET_MODE = 127
SET_CONNECTION_PARAMS = 145


class BluetoothProxy:
    """The Bluetooth side of the emulated device, fed by (and connecting through) ``radio``."""

    def __init__(self, radio: Radio, config: ProxyConfig) -> None:
        """Prepare the proxy; :meth:`start` starts listening to the radio."""
        self.radio = radio
        self.config = config
        self.links: dict[int, BleLink] = {}
        self.advertisement_subscriber: ApiConnection | None = None
        self.raw_advertisements = False
        self.slot_subscribers: set[ApiConnection] = set()
        self.scanner_mode = SCANNER_MODE_ACTIVE
        self.configured_scanner_mode = SCANNER_MODE_ACTIVE
        self.connect_requests: list[tuple[str, int]] = []
        """Every connect request (address, request type), for tests."""
        self.slot_reports: list[tuple[int, int, list[int]]] = []
        """Every connections-free report sent (free, limit, allocated), for tests."""
        self._pending_raw: list[Any] = []
        self._flush_handle: asyncio.Handle | None = None
        self._stop_listening: Callable[[], None] | None = None
        self._handlers: dict[int, Callable[[ApiConnection, Any], None]] = {
            SUBSCRIBE_ADVERTISEMENTS: self._on_subscribe_advertisements,
            UNSUBSCRIBE_ADVERTISEMENTS: self._on_unsubscribe_advertisements,
            SUBSCRIBE_CONNECTIONS_FREE: self._on_subscribe_connections_free,
            DEVICE_REQUEST: self._on_device_request,
            GATT_GET_SERVICES: self._on_get_services,
            GATT_READ: self._on_read,
            GATT_READ_DESCRIPTOR: self._on_read,
            GATT_WRITE: self._on_write,
            GATT_WRITE_DESCRIPTOR: self._on_write_descriptor,
            GATT_NOTIFY: self._on_notify,
            SCANNER_SET_MODE: self._on_set_scanner_mode,
            SET_CONNECTION_PARAMS: self._on_set_connection_params,
        }
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start hearing the radio (the ESP32 scans all the time)."""
        if self._stop_listening is None:
            self._stop_listening = self.radio.add_advertisement_listener(self._on_advertisement)

    async def stop(self) -> None:
        """Stop listening and drop every link."""
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        for link in list(self.links.values()):
            await link.close()
        for task in list(self._tasks):
            await task

    @property
    def allocated(self) -> list[str]:
        """Addresses holding a slot (connecting, connected or disconnecting)."""
        return [link.address_str for link in self.links.values()]

    @property
    def free(self) -> int:
        """Free connection slots."""
        return self.config.slots - len(self.links)

    # ------------------------------------------------------------ API plumbing
    def handle_message(self, conn: ApiConnection, msg_type: int, message: Any) -> bool:
        """Handle a Bluetooth message; False when it is not one the proxy knows."""
        handler = self._handlers.get(msg_type)
        if handler is None:
            return False
        handler(conn, message)
        return True

    def on_api_closed(self, conn: ApiConnection) -> None:
        """Forget an API client: its subscriptions end and its links are dropped."""
        if self.advertisement_subscriber is conn:
            self.advertisement_subscriber = None
        self.slot_subscribers.discard(conn)
        for link in list(self.links.values()):
            if link.owner is conn:
                self._spawn(link.disconnect())

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ advertisements
    def _on_subscribe_advertisements(self, conn: ApiConnection, message: Any) -> None:
        if self.advertisement_subscriber not in (None, conn):
            _LOGGER.warning("only one advertisement subscriber is allowed: ignoring a second one")
            return
        self.advertisement_subscriber = conn
        self.raw_advertisements = bool(int(message.flags) & RAW_FLAG)
        self._send_scanner_state()

    def _on_unsubscribe_advertisements(self, conn: ApiConnection, _message: Any) -> None:
        if self.advertisement_subscriber is conn:
            self.advertisement_subscriber = None

    def _on_advertisement(self, adv: RadioAdvertisement) -> None:
        conn = self.advertisement_subscriber
        if conn is None or not conn.is_open:
            return
        address = mac_to_int(adv.address)
        address_type = ADDRESS_TYPE_PUBLIC if adv.address_type == "public" else ADDRESS_TYPE_RANDOM
        if not self.raw_advertisements:
            conn.send(self._legacy_advertisement(address, address_type, adv.rssi, adv.raw))
            return
        self._pending_raw.append(
            PB.BluetoothLERawAdvertisement(
                address=address,
                rssi=adv.rssi,
                address_type=address_type,
                data=bytes(adv.raw[:MAX_RAW_DATA]),
            )
        )
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_soon(self._flush_raw)

    def _flush_raw(self) -> None:
        self._flush_handle = None
        batch, self._pending_raw = self._pending_raw, []
        conn = self.advertisement_subscriber
        if conn is not None and batch:
            conn.send(PB.BluetoothLERawAdvertisementsResponse(advertisements=batch))

    @staticmethod
    def _legacy_advertisement(address: int, address_type: int, rssi: int, raw: bytes) -> Any:
        """BluetoothLEAdvertisementResponse (67): UUIDs as ESPHome prints them ("0xFFFF")."""

        def uuid_text(value: str) -> str:
            alias = short_uuid(value)
            return f"0x{alias:04X}" if alias is not None else value

        parsed = parse_advertising_data(raw)
        return PB.BluetoothLEAdvertisementResponse(
            address=address,
            name=(parsed.local_name or "").encode(),
            rssi=rssi,
            address_type=address_type,
            service_uuids=[uuid_text(u) for u in parsed.service_uuids],
            service_data=[
                PB.BluetoothServiceData(uuid=uuid_text(u), data=d)
                for u, d in parsed.service_data.items()
            ],
            manufacturer_data=[
                PB.BluetoothServiceData(uuid=f"0x{company:04X}", data=d)
                for company, d in parsed.manufacturer_data.items()
            ],
        )

    def _send_scanner_state(self) -> None:
        conn = self.advertisement_subscriber
        if conn is None or not SCHEMA.scanner_state:
            return
        conn.send(
            PB.BluetoothScannerStateResponse(
                state=SCANNER_RUNNING,
                mode=self.scanner_mode,
                configured_mode=self.configured_scanner_mode,
            )
        )

    def _on_set_scanner_mode(self, _conn: ApiConnection, message: Any) -> None:
        self.scanner_mode = int(message.mode)
        self._send_scanner_state()

    # ------------------------------------------------------------ slots
    def _on_subscribe_connections_free(self, conn: ApiConnection, _message: Any) -> None:
        self.slot_subscribers.add(conn)
        conn.send(self._connections_free())

    def _connections_free(self) -> Any:
        allocated = list(self.links)
        self.slot_reports.append((self.free, self.config.slots, allocated))
        response = PB.BluetoothConnectionsFreeResponse(free=self.free, limit=self.config.slots)
        if SCHEMA.allocated_slots:
            response.allocated.extend(allocated)
        return response

    def report_slots(self) -> None:
        """Send connections-free (81) to every subscriber."""
        if not self.slot_subscribers:
            return
        response = self._connections_free()
        for conn in list(self.slot_subscribers):
            conn.send(response)

    def _on_link_closed(self, link: BleLink) -> None:
        if self.links.get(link.address) is link:
            del self.links[link.address]
            self.report_slots()

    # ------------------------------------------------------------ device requests
    def _on_device_request(self, conn: ApiConnection, message: Any) -> None:
        address = int(message.address)
        request = int(message.request_type)
        if request in (
            BluetoothDeviceRequestType.CONNECT,
            BluetoothDeviceRequestType.CONNECT_V3_WITH_CACHE,
            BluetoothDeviceRequestType.CONNECT_V3_WITHOUT_CACHE,
        ):
            self._connect(conn, address, request, message)
        elif request == BluetoothDeviceRequestType.DISCONNECT:
            self._disconnect(conn, address)
        elif request == BluetoothDeviceRequestType.CLEAR_CACHE:
            conn.send(PB.BluetoothDeviceClearCacheResponse(address=address, success=True))
        elif request == BluetoothDeviceRequestType.PAIR:
            conn.send(
                PB.BluetoothDevicePairingResponse(
                    address=address, paired=False, error=EspCode.ERR_NOT_SUPPORTED
                )
            )
        elif request == BluetoothDeviceRequestType.UNPAIR:
            conn.send(
                PB.BluetoothDeviceUnpairingResponse(
                    address=address, success=False, error=EspCode.ERR_NOT_SUPPORTED
                )
            )

    def _connect(self, conn: ApiConnection, address: int, request: int, message: Any) -> None:
        self.connect_requests.append((mac_from_int(address), request))
        existing = self.links.get(address)
        if existing is not None:
            if existing.is_up:  # "Connection already established"
                conn.send(
                    PB.BluetoothDeviceConnectionResponse(
                        address=address, connected=True, mtu=existing.att_mtu
                    )
                )
                self.report_slots()
            return  # otherwise the request is ignored: a connect is already in progress
        if self.free <= 0:
            _LOGGER.warning("no free connection slot for %s", address)
            conn.send(PB.BluetoothDeviceConnectionResponse(address=address, connected=False))
            return
        address_type = (
            int(message.address_type) if message.has_address_type else ADDRESS_TYPE_RANDOM
        )
        link = BleLink(
            radio=self.radio,
            owner=conn,
            address=address,
            address_type=address_type,
            request_type=request,
            mtu=self.config.mtu or self.radio.mtu,
            connect_timeout=self.config.connect_timeout,
            on_closed=self._on_link_closed,
        )
        self.links[address] = link
        link.start()
        self.report_slots()

    def _disconnect(self, conn: ApiConnection, address: int) -> None:
        link = self.links.get(address)
        if link is None:
            conn.send(PB.BluetoothDeviceConnectionResponse(address=address, connected=False))
            self.report_slots()
            return
        self._spawn(link.disconnect())

    # ------------------------------------------------------------ GATT
    def _on_gatt(
        self, conn: ApiConnection, message: Any, action: Callable[[BleLink], None]
    ) -> None:
        """Run ``action`` on the message's link, or answer 82 with -1 (not connected)."""
        link = self.links.get(int(message.address))
        if link is None:
            conn.send(
                PB.BluetoothGATTErrorResponse(
                    address=message.address,
                    handle=getattr(message, "handle", 0),
                    error=EspCode.NOT_CONNECTED,
                )
            )
            return
        action(link)

    def _on_get_services(self, conn: ApiConnection, message: Any) -> None:
        self._on_gatt(conn, message, lambda link: link.send_services())

    def _on_read(self, conn: ApiConnection, message: Any) -> None:
        self._on_gatt(conn, message, lambda link: link.read(message.handle))

    def _on_write(self, conn: ApiConnection, message: Any) -> None:
        self._on_gatt(
            conn, message, lambda link: link.write(message.handle, message.data, message.response)
        )

    def _on_write_descriptor(self, conn: ApiConnection, message: Any) -> None:
        self._on_gatt(conn, message, lambda link: link.write(message.handle, message.data, True))

    def _on_notify(self, conn: ApiConnection, message: Any) -> None:
        self._on_gatt(conn, message, lambda link: link.notify(message.handle, message.enable))

    def _on_set_connection_params(self, conn: ApiConnection, message: Any) -> None:
        error = EspCode.OK if message.address in self.links else EspCode.NOT_CONNECTED
        conn.send(PB.BluetoothSetConnectionParamsResponse(address=message.address, error=error))
