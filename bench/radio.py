"""`Radio`: an in-process BLE radio (Bumble controllers, a timed link), one central, N peripherals.

Usage::

    async with Radio(profile="bluez-local") as radio:
        await radio.add_peripheral(emulator)
        async with BleakScanner(backend=radio.scanner_backend) as scanner: ...
        client = BleakClient(ble_device, backend=radio.client_backend)

The radio's link profile (:mod:`bench.link.profiles`) chooses the bleak client backend
(``client_backend``; another profile's with ``client_backend_for(name)``) and the link's
connection interval and drops (:class:`bench.link.air.TimedLink`, ``radio.link``), which apply to
every connection on the radio, whatever drives the central.

The radio imports no bleak backend: it finds them through the profile registry. No Home
Assistant import here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Self

from bumble import hci
from bumble.controller import Controller
from bumble.device import Advertisement, Device
from bumble.hci import Address, OwnAddressType
from bumble.host import Host
from bumble.transport.common import AsyncPipeSink

from .advertising import ParsedAdvertisement, parse_advertising_data
from .link.air import TimedLink
from .link.profiles import SCANNER_BACKEND, LinkProfile, get_profile, resolve

if TYPE_CHECKING:
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import BaseBleakScanner

    from .device import EmulatedPeripheral

_LOGGER = logging.getLogger(__name__)

CENTRAL_ADDRESS = "C0:00:00:00:00:01"
DEFAULT_ADVERTISING_INTERVAL_MS = 20.0
"""Bumble advertises every 2 s by default; 20 ms (the legacy minimum) keeps discovery fast."""


@dataclass(frozen=True, slots=True)
class RadioAdvertisement:
    """One advertisement received by the central, with JSON-friendly fields."""

    address: str
    address_type: str
    """"public" or "random"."""
    rssi: int
    connectable: bool
    data: ParsedAdvertisement
    raw: bytes

    @property
    def details(self) -> dict[str, str]:
        """JSON-serialisable device details (handed to bleak/Home Assistant)."""
        return {"address": self.address, "address_type": self.address_type}


AdvertisementListener = Callable[[RadioAdvertisement], None]


def _fix_create_connection_cancel(controller: Controller) -> None:
    """Make ``LE Create Connection Cancel`` end the pending connection, as the spec says.

    Bumble's controller answers the command with success but keeps the pending connection
    request and sends no event. Bumble's host then waits for the connection outcome without a
    timeout (``Device.connect`` after its own timeout), and a caller that gave up leaves the
    request armed: the next advertisement of that device completes it as a link no host-side
    ``Connection`` owns (``Device.on_connection`` fails its ``connect_own_address_type``
    assertion). The device, connected to that ghost, stops advertising, so the next connect
    to it hangs until its timeout.

    Here the command clears the request and, when one was pending, reports it as an
    ``LE Connection Complete`` event with status UNKNOWN_CONNECTION_IDENTIFIER (Core spec
    Vol 4, Part E, 7.8.13), so Bumble's host raises a connection failure at once.
    """

    def cancel(_command: hci.HCI_Command) -> hci.HCI_StatusReturnParameters:
        pending = controller.pending_le_connection
        controller.pending_le_connection = None
        if pending is not None:
            peer: Address = pending.peer_address
            event = hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                connection_handle=0,
                role=hci.Role.CENTRAL,
                peer_address_type=peer.address_type,
                peer_address=peer,
                connection_interval=0,
                peripheral_latency=0,
                supervision_timeout=0,
                central_clock_accuracy=0,
            )
            # After the Command Complete event that returning from here produces.
            asyncio.get_running_loop().call_soon(controller.send_hci_packet, event)
        return hci.HCI_StatusReturnParameters(status=hci.HCI_ErrorCode.SUCCESS)

    # The controller dispatches commands with getattr(self, "on_<command name>").
    controller.on_hci_le_create_connection_cancel_command = cancel  # type: ignore[method-assign]


@dataclass(slots=True)
class _PeripheralSlot:
    emulator: EmulatedPeripheral
    controller: Controller
    device: Device


class Radio:
    """Owns the link (:class:`TimedLink`), the central Bumble device and the peripherals.

    ``profile`` is a :class:`LinkProfile` or a profile name ("ideal", "bluez-local", ...): it
    chooses ``client_backend`` and the link's conditions. ``mtu`` is the ATT_MTU the ``ideal``
    client requests after connecting (517 by default; set 23 to test fragmentation; the
    ``bluez-local`` client always requests 517, as BlueZ does). ``central`` is the Bumble
    central device.
    """

    def __init__(
        self,
        *,
        profile: LinkProfile | str = "ideal",
        mtu: int = 517,
        advertising_interval_ms: float = DEFAULT_ADVERTISING_INTERVAL_MS,
        central_address: str = CENTRAL_ADDRESS,
    ) -> None:
        """Configure the radio; the stacks start in ``__aenter__`` / ``start()``."""
        self.profile = get_profile(profile)
        self.mtu = mtu
        self.advertising_interval_ms = advertising_interval_ms
        self.link = TimedLink(self.profile.conditions)
        self.central_controller = Controller(
            "central", link=self.link, public_address=central_address
        )
        _fix_create_connection_cancel(self.central_controller)
        self.central = Device(
            name="bench-central",
            address=Address(central_address),
            host=Host(self.central_controller, AsyncPipeSink(self.central_controller)),
        )
        self.connect_lock = asyncio.Lock()
        """Bumble allows one pending LE connection at a time; clients serialise on this."""
        self._peripherals: dict[str, _PeripheralSlot] = {}
        self._listeners: list[AdvertisementListener] = []
        self._started = False
        self._client_backends: dict[str, type[BaseBleakClient]] = {}
        self._scanner_backend: type[BaseBleakScanner] | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Power the central on and start scanning."""
        if self._started:
            return
        await self.central.power_on()
        self.central.on("advertisement", self._on_advertisement)
        await self.central.start_scanning(filter_duplicates=False)
        self._started = True

    async def stop(self) -> None:
        """Disconnect everything, stop advertising/scanning, power every stack off."""
        if not self._started:
            return
        self._started = False
        for emulator in [slot.emulator for slot in self._peripherals.values()]:
            await self.remove_peripheral(emulator)
        for connection in list(self.central.connections.values()):
            try:
                await connection.disconnect()
            except Exception:  # noqa: BLE001 - best effort at teardown
                _LOGGER.debug("disconnect at teardown failed", exc_info=True)
        if self.central.scanning:
            await self.central.stop_scanning()
        self.central.remove_listener("advertisement", self._on_advertisement)
        await self.central.power_off()
        self.link.close()
        self._listeners.clear()

    async def __aenter__(self) -> Self:
        """Start the radio."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the radio."""
        await self.stop()

    # ------------------------------------------------------------------ peripherals
    async def add_peripheral(self, emulator: EmulatedPeripheral) -> None:
        """Power ``emulator`` on, on its own controller, and start advertising."""
        if emulator.address in self._peripherals:
            msg = f"{emulator.address} is already on the radio"
            raise ValueError(msg)
        controller = Controller(
            f"periph-{emulator.address}", link=self.link, public_address=emulator.address
        )
        device = Device(
            name=emulator.name or "",
            # Random (static) device address: what Bumble's advertising sets use end to end.
            address=Address(emulator.address, Address.RANDOM_DEVICE_ADDRESS),
            host=Host(controller, AsyncPipeSink(controller)),
        )
        emulator._attach(device)
        await device.power_on()
        await device.start_advertising(
            own_address_type=OwnAddressType.RANDOM,
            auto_restart=True,
            advertising_data=emulator.advertising_data,
            advertising_interval_min=self.advertising_interval_ms,
            advertising_interval_max=self.advertising_interval_ms,
        )
        self._peripherals[emulator.address] = _PeripheralSlot(emulator, controller, device)

    async def remove_peripheral(self, emulator: EmulatedPeripheral) -> None:
        """Stop advertising, drop the connections and power the emulator's stack off."""
        slot = self._peripherals.pop(emulator.address, None)
        if slot is None:
            return
        device = slot.device
        await device.stop_advertising()
        for connection in list(device.connections.values()):
            try:
                await connection.disconnect()
            except Exception:  # noqa: BLE001 - best effort
                _LOGGER.debug("peripheral disconnect failed", exc_info=True)
        await device.stop_advertising()
        await device.power_off()
        self.link.remove_controller(slot.controller)
        emulator.device = None

    def is_idle(self) -> bool:
        """Return True when nothing on the radio waits on a timer a clock jump could fire.

        That is: no HCI command outstanding on any stack, no GATT request of the central
        awaiting its response, no PDU waiting for a connection event, and every peripheral
        without a link advertising again (its auto-restart after a disconnect is over).
        """
        if not self.link.idle:
            return False
        devices = [self.central, *(slot.device for slot in self._peripherals.values())]
        if any(device.host.pending_command is not None for device in devices):
            return False
        if any(
            connection.gatt_client.pending_request is not None
            for connection in self.central.connections.values()
        ):
            return False
        for slot in self._peripherals.values():
            device = slot.device
            if device.connections:
                continue
            advertising_set = device.legacy_advertising_set
            if advertising_set is not None and not advertising_set.enabled:
                return False
        return True

    async def settle(self, timeout: float = 2.0) -> None:
        """Wait until :meth:`is_idle` (TimeoutError after ``timeout`` seconds).

        Home Assistant's ``async_fire_time_changed`` runs every timer handle that falls due
        before the new time, including the timeout of an HCI command or a GATT request in
        flight; call this first so that such a jump cannot fail an unrelated Bumble procedure
        (``CommandTimeoutError`` from an advertising restart, for example).
        """
        async with asyncio.timeout(timeout):
            while not self.is_idle():  # noqa: ASYNC110 - polling Bumble state
                await asyncio.sleep(0.005)

    @property
    def peripherals(self) -> list[EmulatedPeripheral]:
        """The emulators currently on the radio."""
        return [slot.emulator for slot in self._peripherals.values()]

    # ------------------------------------------------------------------ advertisements
    def add_advertisement_listener(self, listener: AdvertisementListener) -> Callable[[], None]:
        """Call ``listener`` for every advertisement the central receives; return unsubscribe."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        address: Address = advertisement.address
        raw = bytes(advertisement.data_bytes)
        adv = RadioAdvertisement(
            address=address.to_string(with_type_qualifier=False),
            address_type="public" if address.is_public else "random",
            rssi=int(advertisement.rssi),
            connectable=bool(advertisement.is_connectable),
            data=parse_advertising_data(raw),
            raw=raw,
        )
        for listener in list(self._listeners):
            try:
                listener(adv)
            except Exception:
                _LOGGER.exception("advertisement listener failed")

    # ------------------------------------------------------------------ bleak backends
    @property
    def client_backend(self) -> type[BaseBleakClient]:
        """The profile's ``BaseBleakClient`` subclass bound to this radio (``backend=``)."""
        return self.client_backend_for(self.profile)

    def client_backend_for(self, profile: LinkProfile | str) -> type[BaseBleakClient]:
        """Return the client backend of ``profile`` on this radio (with the radio's link).

        One class per profile and radio: a ``bluez-local`` class holds the service cache of
        one adapter, shared by every client made from it.
        """
        found = get_profile(profile)
        backend = self._client_backends.get(found.name)
        if backend is None:
            backend = found.client_factory()(self)
            self._client_backends[found.name] = backend
        return backend

    @property
    def scanner_backend(self) -> type[BaseBleakScanner]:
        """A ``BaseBleakScanner`` subclass bound to this radio (``BleakScanner(backend=...)``)."""
        if self._scanner_backend is None:
            self._scanner_backend = resolve(SCANNER_BACKEND)(self)
        return self._scanner_backend
