"""Attach a link profile to Home Assistant's bluetooth manager (imports Home Assistant).

* ``ideal``: :class:`bench.proxy.VirtualProxy`, a habluetooth remote scanner with the ``ideal``
  client and 3 slots (today's bench).
* ``bluez-local``: the same kind of scanner dressed as a local adapter: source
  ``LOCAL_ADAPTER_SOURCE``, adapter ``hci1`` (HA names it "hci1 (<source>)"; not ``hci0``, the
  adapter pytest-homeassistant-custom-component's ``enable_bluetooth`` already mocks, whose
  slot bookkeeping habluetooth 7 keys by adapter name), the slots Home
  Assistant gives a local adapter that reports none (5), and the ``bluez-local`` client. Home
  Assistant's own local adapters (``HaScanner``) need BlueZ over D-Bus, absent here, so this is
  a remote scanner to habluetooth: on habluetooth 7 its details say ``scanner_type`` "remote",
  and no ``bluetooth`` config entry exists for it (Settings > Bluetooth lists no adapter card
  for it; its advertisements and connection slots show in the advertisement monitor and the
  connection allocations).
* ``esphome-proxy``: ``bench.esphome.start_esphome_proxy`` (issue 9 item 1), resolved by name
  through :mod:`bench.link.profiles`.

:func:`start_profile` starts the attachment of any profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ..bleak_backend import BumbleBleakClient
from ..proxy import VirtualProxy
from .profiles import BLUEZ_LOCAL, IDEAL, LinkProfile, ScannerHandle

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..radio import Radio

LOCAL_ADAPTER_SOURCE = "B8:27:EB:00:00:01"
"""The local adapter's address (a Raspberry Pi OUI, as on a Pi or an HA Yellow)."""
LOCAL_ADAPTER_NAME = "hci1"


async def start_virtual_proxy(hass: HomeAssistant, radio: Radio, *, slots: int = 3) -> VirtualProxy:
    """Register a virtual proxy with the ``ideal`` client (the ``ideal`` profile)."""
    return await VirtualProxy.async_start(
        hass, radio, slots=slots, client=_bench_client(radio, IDEAL)
    )


async def start_local_adapter(hass: HomeAssistant, radio: Radio, *, slots: int = 5) -> VirtualProxy:
    """Register a scanner like a local BlueZ adapter (the ``bluez-local`` profile)."""
    return await VirtualProxy.async_start(
        hass,
        radio,
        source=LOCAL_ADAPTER_SOURCE,
        name=LOCAL_ADAPTER_NAME,
        slots=slots,
        client=_bench_client(radio, BLUEZ_LOCAL),
    )


async def start_profile(
    hass: HomeAssistant, radio: Radio, profile: LinkProfile, *, slots: int | None = None
) -> ScannerHandle:
    """Attach ``profile`` to ``hass`` on ``radio`` (``slots``: the profile's default).

    The radio's link conditions (interval, drops) apply to every path; set them with
    ``Radio(profile=profile)``.
    """
    factory: Any = profile.scanner_factory()
    handle: ScannerHandle = await factory(
        hass, radio, slots=profile.spec.slots if slots is None else slots
    )
    return handle


async def stop_scanner(hass: HomeAssistant, radio: Radio, handle: ScannerHandle) -> None:
    """Drop the radio's links (so habluetooth sees the disconnects), then unregister."""
    for connection in list(radio.central.connections.values()):
        await connection.disconnect()
    await handle.async_stop()
    await hass.async_block_till_done()


def _bench_client(radio: Radio, profile: str) -> type[BumbleBleakClient]:
    return cast("type[BumbleBleakClient]", radio.client_backend_for(profile))
