"""Wire the emulated ESPHome proxy into Home Assistant the way users have a proxy.

Two wirings, chosen per leg (:func:`default_wiring`):

* ``integration`` — HA's own ``esphome`` integration: the device is added through its config
  flow (host 127.0.0.1, the server's port, no password, no encryption key), exactly as a user
  adds a device by address. HA then connects with aioesphomeapi, registers the proxy's
  scanner with bleak-esphome and creates the Bluetooth config entry that Settings > Bluetooth
  lists. Needs the integration's dependencies (assist_pipeline, conversation, ffmpeg, ...).
  HA 2025.4.4 lists their requirements (hassil, pymicro-vad, ha-ffmpeg, ...) among its own,
  so this is the floor leg's wiring.
* ``scanner`` — ``bleak_esphome.connect_scanner`` registered with the bluetooth manager as
  ``homeassistant/components/esphome/bluetooth.py`` does it (source domain ``esphome``, the
  device's model, scanner set-up, AUTO scanning mode when the proxy has
  FEATURE_STATE_AND_MODE), over an aioesphomeapi connection made as HA's manager makes it.
  HA 2026.10.4 no longer requires the packages the esphome integration's dependencies import
  (and pymicro-vad 1.0.1, which assist_pipeline pins, has no wheel for Python 3.14), so its
  test environment cannot load the integration: this is the current leg's wiring there. No
  config entry exists in this wiring, so no Bluetooth config entry either.

Imports Home Assistant (lazily, inside the functions that need it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import importlib
import logging
import os
from typing import TYPE_CHECKING, Any, Literal
from unittest.mock import Mock

from .config import FEATURE_STATE_AND_MODE, ProxyConfig
from .server import EsphomeProxyServer

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from bench.radio import Radio

_LOGGER = logging.getLogger(__name__)

Wiring = Literal["integration", "scanner"]
READY_TIMEOUT = 30.0
"""Seconds to wait for HA to register the proxy's scanner and its first slot report."""


def integration_loads() -> bool:
    """Return True when HA's ``esphome`` integration and its dependencies import here."""
    modules = (
        "homeassistant.components.esphome",
        "homeassistant.components.assist_pipeline",
        "homeassistant.components.conversation",
        "homeassistant.components.ffmpeg",
    )
    try:
        for module in modules:
            importlib.import_module(module)
    except ImportError:
        return False
    return True


def default_wiring() -> Wiring:
    """``integration`` where HA's esphome integration loads, else ``scanner``."""
    return "integration" if integration_loads() else "scanner"


@dataclass(slots=True)
class EsphomeProxyHandle:
    """A running emulated proxy, registered with Home Assistant."""

    server: EsphomeProxyServer
    wiring: Wiring
    config_entry_id: str | None = None
    """The ``esphome`` config entry (integration wiring only)."""
    _cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def source(self) -> str:
        """The scanner's source in HA: the proxy's Bluetooth MAC."""
        return self.server.config.identity.bluetooth_mac_address

    @property
    def name(self) -> str:
        """The proxy's device name."""
        return self.server.config.identity.name

    @property
    def slots(self) -> int:
        """Connection slots of the proxy."""
        return self.server.config.slots

    @property
    def allocated(self) -> list[str]:
        """Addresses holding one of the proxy's slots (as the proxy itself counts them)."""
        return self.server.proxy.allocated

    def add_cleanup(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        """Run ``cleanup`` at :meth:`async_stop` (last added, first run)."""
        self._cleanups.append(cleanup)

    async def async_stop(self) -> None:
        """Disconnect HA from the proxy (unload its entry / unregister), stop the server."""
        while self._cleanups:
            await self._cleanups.pop()()
        await self.server.stop()


async def start_esphome_proxy(
    hass: HomeAssistant,
    radio: Radio,
    *,
    slots: int = 3,
    wiring: Wiring | None = None,
    config: ProxyConfig | None = None,
    timeout: float = READY_TIMEOUT,
) -> EsphomeProxyHandle:
    """Start an emulated proxy on ``radio`` and connect Home Assistant to it.

    ``config`` (default: a ``ProxyConfig`` with ``slots``) describes the device. Returns once
    HA's bluetooth manager has the proxy's scanner and its slot report. The ``bluetooth``
    integration must be set up.
    """
    server = EsphomeProxyServer(radio, config or ProxyConfig(slots=slots))
    try:
        await server.start()
    except Exception as err:
        if type(err).__name__ == "SocketBlockedError":  # pytest-socket, in HA tests
            msg = "the ESPHome proxy listens on 127.0.0.1: request the socket_enabled fixture"
            raise RuntimeError(msg) from err
        raise
    handle = EsphomeProxyHandle(server, wiring or default_wiring())
    try:
        if handle.wiring == "integration":
            await _wire_integration(hass, handle)
        else:
            await _wire_scanner(hass, handle)
        await _wait_ready(handle.source, timeout)
    except BaseException:
        await handle.async_stop()
        raise
    return handle


async def _wait_ready(source: str, timeout: float) -> None:
    """Wait until the manager has the scanner and the proxy's first slot report."""
    from habluetooth import get_manager  # noqa: PLC0415

    manager = get_manager()

    def ready() -> bool:
        if manager.async_scanner_by_source(source) is None:
            return False
        # The manager may list the scanner with 0 slots until the proxy's report arrives.
        allocations = manager.async_current_allocations(source) or []
        return any(allocation.slots > 0 for allocation in allocations)

    async with asyncio.timeout(timeout):
        while not ready():  # noqa: ASYNC110 - no event announces a registered scanner
            await asyncio.sleep(0.01)


# ---------------------------------------------------------------- integration wiring
async def _wire_integration(hass: HomeAssistant, handle: EsphomeProxyHandle) -> None:
    """Add the device through the esphome config flow (user step: host and port)."""
    from homeassistant.config_entries import SOURCE_USER  # noqa: PLC0415
    from homeassistant.data_entry_flow import FlowResultType  # noqa: PLC0415
    from homeassistant.setup import async_setup_component  # noqa: PLC0415

    _refuse_real_zeroconf_in_tests()
    # Always loaded in a running HA; conversation (an esphome dependency) needs it.
    if "homeassistant" not in hass.config.components:
        await async_setup_component(hass, "homeassistant", {})
    entry_id = _existing_entry_id(hass, handle)
    if entry_id is None:
        result = await hass.config_entries.flow.async_init(
            "esphome",
            context={"source": SOURCE_USER},
            data={"host": handle.server.host, "port": handle.server.port},
        )
        if result["type"] is not FlowResultType.CREATE_ENTRY:
            msg = f"esphome config flow did not create an entry: {result}"
            raise RuntimeError(msg)
        entry_id = result["result"].entry_id
    handle.config_entry_id = entry_id

    async def unload() -> None:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is not None and entry.state.recoverable:
            await hass.config_entries.async_unload(entry_id)

    handle.add_cleanup(unload)


def _refuse_real_zeroconf_in_tests() -> None:
    """In a test, HA's esphome would open real mDNS sockets unless zeroconf is mocked."""
    if "PYTEST_CURRENT_TEST" not in os.environ:
        return
    from homeassistant.components import zeroconf  # noqa: PLC0415

    if not isinstance(getattr(zeroconf, "HaAsyncZeroconf", None), Mock):
        msg = "the esphome integration needs zeroconf mocked: request mock_async_zeroconf"
        raise RuntimeError(msg)


def _existing_entry_id(hass: HomeAssistant, handle: EsphomeProxyHandle) -> str | None:
    """Return the esphome entry of this device if HA has one (the demo keeps it)."""
    from homeassistant.helpers.device_registry import format_mac  # noqa: PLC0415

    unique_id = format_mac(handle.server.config.identity.mac_address)
    for entry in hass.config_entries.async_entries("esphome"):
        if entry.unique_id == unique_id:
            return entry.entry_id
    return None


# ---------------------------------------------------------------- scanner wiring
async def _wire_scanner(hass: HomeAssistant, handle: EsphomeProxyHandle) -> None:
    """Connect with aioesphomeapi and register ``connect_scanner``'s scanner, as HA does."""
    from aioesphomeapi.client import APIClient  # noqa: PLC0415
    from bleak_esphome import connect_scanner  # noqa: PLC0415
    from homeassistant.components.bluetooth import async_register_scanner  # noqa: PLC0415
    from homeassistant.const import __version__ as ha_version  # noqa: PLC0415

    cli = APIClient(
        handle.server.host,
        handle.server.port,
        "",
        client_info=f"Home Assistant {ha_version}",
    )
    client_data: Any = None

    async def on_stop(expected_disconnect: bool) -> None:
        """Mark the proxy gone, as RuntimeEntryData.async_on_disconnect does."""
        if client_data is None:
            return
        set_unavailable = getattr(client_data.bluetooth_device, "async_set_unavailable", None)
        if set_unavailable is not None:  # bleak-esphome >= 4
            set_unavailable()
        else:
            client_data.bluetooth_device.available = False
        for callback in list(client_data.disconnect_callbacks):
            callback()
        client_data.disconnect_callbacks.clear()

    await cli.connect(on_stop=on_stop, login=True)
    device_info = await cli.device_info()
    client_data = connect_scanner(cli, device_info, True)
    scanner = client_data.scanner
    api_version = cli.api_version
    assert api_version is not None  # set by the handshake
    flags = device_info.bluetooth_proxy_feature_flags_compat(api_version)
    if flags & FEATURE_STATE_AND_MODE:
        # HA pins the scanning mode (option default AUTO) before registering the scanner.
        from homeassistant.components.bluetooth import BluetoothScanningMode  # noqa: PLC0415

        scanner.async_set_scanning_mode(BluetoothScanningMode("auto"))
    unregister = async_register_scanner(
        hass, scanner, source_domain="esphome", source_model=device_info.model
    )
    unsetup = scanner.async_setup()

    async def disconnect() -> None:
        unsetup()
        unregister()
        await cli.disconnect()

    handle.add_cleanup(disconnect)
