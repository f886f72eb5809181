"""Dev-only bench glue for the demo (scripts/develop): never shipped, never in custom_components/.

On setup it starts the bench's in-process Bumble radio, puts the emulated devices on it
(:mod:`.devices`) and puts them behind an emulated ESPHome Bluetooth proxy
(``bench.esphome``): a native-API server on 127.0.0.1:6053 that Home Assistant's own
``esphome`` integration connects to, so Settings > Bluetooth lists a live ESPHome proxy with
its connection slots, as with a real one. The first start adds the proxy through the
esphome config flow (host and port, as a user does); later starts reuse that entry.

The integration (``custom_components/ble_provisioning``) is not touched: it discovers the
devices through HA's bluetooth manager and connects through the proxy (aioesphomeapi +
bleak-esphome), as it would through a real ESPHome proxy.

The devices keep their Wi-Fi settings across restarts (:mod:`.flash`), as an ESP32 keeps
them in NVS flash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from datetime import datetime
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
import homeassistant.helpers.config_validation as cv
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from bench.esphome import ProxyConfig, start_esphome_proxy
from bench.radio import Radio

from .devices import BLUENET_ADDRESS, WORKING_PASSWORD, WORKING_SSID, build_emulators
from .flash import (
    SAVE_INTERVAL,
    DemoFlash,
    bluenet_profile,
    restore_after_boot,
    restore_before_boot,
)

if TYPE_CHECKING:
    from bench.device import EmulatedPeripheral
    from bench.esphome.ha import EsphomeProxyHandle

_LOGGER = logging.getLogger(__name__)

DOMAIN = "ble_provisioning_bench"
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)

PROXY_PORT = 6053
"""ESPHome's API port. Fixed, so the esphome entry HA keeps stays valid across restarts."""
PROXY_SLOTS = 3


class DemoBench:
    """The running bench: radio, emulated devices, ESPHome proxy, the devices' flash."""

    def __init__(
        self,
        hass: HomeAssistant,
        radio: Radio,
        emulators: list[EmulatedPeripheral],
        flash: DemoFlash,
    ) -> None:
        """Hold the parts; :meth:`async_stop` ends them."""
        self.hass = hass
        self.radio = radio
        self.emulators = emulators
        self.flash = flash
        self.proxy: EsphomeProxyHandle | None = None
        self._cancel_save: Callable[[], None] | None = None
        self._wiring: asyncio.Task[None] | None = None

    def start_saving(self) -> None:
        """Snapshot the devices' flash every few seconds."""

        @callback
        def _capture(_now: datetime) -> None:
            if self.flash.capture(self.emulators):
                self.flash.schedule_save()

        self._cancel_save = async_track_time_interval(self.hass, _capture, SAVE_INTERVAL)

    def start_proxy(self) -> None:
        """Start the ESPHome proxy and connect HA to it, without delaying HA's start-up."""

        async def _wire() -> None:
            try:
                self.proxy = await start_esphome_proxy(
                    self.hass,
                    self.radio,
                    wiring="integration",
                    config=ProxyConfig(port=PROXY_PORT, slots=PROXY_SLOTS),
                )
            except Exception:
                _LOGGER.exception("The emulated ESPHome proxy could not be connected")
                return
            _LOGGER.info(
                "Bench up: %d emulated devices behind ESPHome proxy %s (%s, %d slots) on "
                "127.0.0.1:%d; Wi-Fi %r / %r works",
                len(self.emulators),
                self.proxy.name,
                self.proxy.source,
                self.proxy.slots,
                PROXY_PORT,
                WORKING_SSID,
                "*" * len(WORKING_PASSWORD),
            )

        self._wiring = self.hass.async_create_background_task(_wire(), "bench esphome proxy")

    async def async_stop(self) -> None:
        """Save the flash, stop the proxy server, the emulators' tasks, every stack."""
        if self._cancel_save is not None:
            self._cancel_save()
        self.flash.capture(self.emulators)
        await self.flash.async_save()
        if self._wiring is not None and not self._wiring.done():
            self._wiring.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._wiring
        if self.proxy is not None:
            # HA is stopping: keep the esphome entry (the demo's configuration), stop the device.
            await self.proxy.server.stop()
        for emulator in self.emulators:
            close: Any = getattr(emulator, "close", None)
            if close is not None:
                await close()
        await self.radio.stop()


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start the radio and the emulators (with what they kept); start the ESPHome proxy."""
    flash = DemoFlash(hass)
    await flash.async_load()
    emulators = build_emulators(bluenet_profile(flash.record(BLUENET_ADDRESS)))
    radio = Radio()
    await radio.start()
    for emulator in emulators:
        restore_before_boot(emulator, flash.record(emulator.address))
        await radio.add_peripheral(emulator)
        restore_after_boot(emulator, flash.record(emulator.address))
    flash.capture(emulators)
    bench = DemoBench(hass, radio, emulators, flash)
    bench.start_saving()
    bench.start_proxy()

    async def _stop(_event: Event) -> None:
        await bench.async_stop()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop)
    return True
