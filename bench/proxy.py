"""`VirtualProxy`: a Home Assistant Bluetooth proxy whose radio is the bench's Bumble central.

It is a habluetooth remote scanner (``BaseHaRemoteScanner``), like an ESPHome Bluetooth proxy:

* every advertisement the radio's central receives is fed to Home Assistant's bluetooth manager
  through ``_async_on_advertisement(...)``;
* its ``HaBluetoothConnector`` names a Bumble-backed bleak client class, so
  ``bleak_retry_connector.establish_connection(BleakClientWithServiceCache, ble_device, ...)``
  inside Home Assistant (no ``backend=``) is routed here by ``HaBleakClientWrapper``;
* it has N connection slots. ``can_connect()`` is False when all are taken, so the wrapper finds
  no backend and raises "No backend with an available connection slot ...", which
  bleak-retry-connector turns into ``BleakOutOfConnectionSlotsError``. A slot is taken when a
  connection starts and given back on disconnect (either side) or failure, and each change is
  reported to the manager as ``Allocations`` (as bleak-esphome does).

Its client semantics are those of the client class it is given (default: the ``ideal``
profile's); :mod:`bench.link.ha` also uses it, with the ``bluez-local`` client, a local
adapter's name and slot count, for the ``bluez-local`` profile.

Imports Home Assistant: keep it out of HA-free code paths.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import TYPE_CHECKING, ClassVar

from bleak.exc import BleakError

# Defined in bleak_retry_connector.bluez on 3.9 and 4.x (re-exported without __all__ on 3.9).
from bleak_retry_connector.bluez import Allocations
from habluetooth import BaseHaRemoteScanner, HaBluetoothConnector, get_manager
from homeassistant.components import bluetooth

from .bleak_backend import BumbleBleakClient, make_client_backend

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .radio import Radio, RadioAdvertisement

_LOGGER = logging.getLogger(__name__)

DEFAULT_PROXY_SOURCE = "B0:B0:B0:B0:B0:01"
DEFAULT_PROXY_NAME = "bench-proxy"


class _SlotClient(BumbleBleakClient):
    """Mixin of a bench client that takes and gives back one of its proxy's connection slots."""

    proxy: ClassVar[VirtualProxy]

    def _acquire_slot(self) -> None:
        self.proxy.acquire_slot(self.address)

    def _release_slot(self) -> None:
        self.proxy.release_slot(self.address)


class VirtualProxy(BaseHaRemoteScanner):
    """A connectable remote scanner with ``slots`` connection slots, fed by a :class:`Radio`.

    Create it with :meth:`async_start` (after the ``bluetooth`` integration is set up) and end
    it with :meth:`async_stop`.
    """

    def __init__(
        self,
        radio: Radio,
        *,
        source: str = DEFAULT_PROXY_SOURCE,
        name: str = DEFAULT_PROXY_NAME,
        slots: int = 3,
        client: type[BumbleBleakClient] | None = None,
    ) -> None:
        """Build the scanner (Home Assistant's bluetooth manager must exist).

        ``client`` is a bench client class bound to ``radio`` (default: the ``ideal`` one);
        ``name`` is the adapter name HA shows (``"<name> (<source>)"``).
        """
        self.radio = radio
        self.slots = slots
        self.allocated: list[str] = []
        """Addresses holding a slot (connected or connecting)."""
        base = client if client is not None else make_client_backend(radio)
        self.client_class: type[BumbleBleakClient] = type(
            f"{base.__name__}ViaScanner", (_SlotClient, base), {"proxy": self}
        )
        connector = HaBluetoothConnector(
            client=self.client_class, source=source, can_connect=self.can_connect
        )
        # Positional: the only form valid for habluetooth 3.37 (scanner_id, name, ...) and
        # >= 4 (source, adapter, ...).
        super().__init__(source, name, connector, True)
        self._cleanups: list[Callable[[], None]] = []

    # ------------------------------------------------------------ lifecycle
    @classmethod
    async def async_start(
        cls,
        hass: HomeAssistant,
        radio: Radio,
        *,
        source: str = DEFAULT_PROXY_SOURCE,
        name: str = DEFAULT_PROXY_NAME,
        slots: int = 3,
        client: type[BumbleBleakClient] | None = None,
    ) -> VirtualProxy:
        """Create, set up and register a proxy; start feeding it the radio's advertisements."""
        proxy = cls(radio, source=source, name=name, slots=slots, client=client)
        proxy._cleanups.append(proxy.async_setup())
        proxy._cleanups.append(
            bluetooth.async_register_scanner(hass, proxy, connection_slots=slots)
        )
        proxy._report_allocations()
        proxy._cleanups.append(radio.add_advertisement_listener(proxy._on_radio_advertisement))
        return proxy

    async def async_stop(self) -> None:
        """Stop feeding advertisements, unregister and unset-up (no lingering timers)."""
        while self._cleanups:
            self._cleanups.pop()()

    # ------------------------------------------------------------ slots
    def can_connect(self) -> bool:
        """Return True when a connection slot is free (HaBluetoothConnector.can_connect)."""
        return len(self.allocated) < self.slots

    def acquire_slot(self, address: str) -> None:
        """Take a slot for ``address``; BleakError when none is free."""
        if not self.can_connect():
            msg = f"{self.name}: no free connection slot ({self.slots} in use) for {address}"
            raise BleakError(msg)
        self.allocated.append(address)
        self._report_allocations()

    def release_slot(self, address: str) -> None:
        """Give back the slot held for ``address``."""
        if address in self.allocated:
            self.allocated.remove(address)
            self._report_allocations()

    def _report_allocations(self) -> None:
        get_manager().async_on_allocation_changed(
            Allocations(
                adapter=self.source,
                slots=self.slots,
                free=self.slots - len(self.allocated),
                allocated=list(self.allocated),
            )
        )

    # ------------------------------------------------------------ advertisements
    def _on_radio_advertisement(self, adv: RadioAdvertisement) -> None:
        data = adv.data
        self._async_on_advertisement(
            adv.address,
            adv.rssi,
            data.local_name,
            list(data.service_uuids),
            dict(data.service_data),
            dict(data.manufacturer_data),
            data.tx_power,
            adv.details,
            bluetooth.MONOTONIC_TIME(),
        )
