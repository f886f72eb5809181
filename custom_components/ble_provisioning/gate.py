"""When an entry's device may be used: closing, paused, and cancellable operations.

* **closing** — from the start of an unload every operation is refused with a translated
  error, running ones are cancelled (the library releases the link on cancellation) and the
  device is closed, so nothing queued reconnects afterwards;
* **paused** — a reconfigure flow pauses the entry (it uses the entry's own device object):
  every operation, refreshes, buttons and actions included, is refused with a translated
  "busy" error until the flow ends, or :data:`~.const.PAUSE_TIMEOUT` seconds after its last
  step, so an abandoned flow cannot pause the entry forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from functools import partial
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later

from . import const
from .const import DOMAIN
from .protocol.device import ProvisioningDevice

_LOGGER = logging.getLogger(__name__)


class DeviceGate:
    """Guard one entry's device object."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], device: ProvisioningDevice
    ) -> None:
        """Open the gate."""
        self._hass = hass
        self._entry = entry
        self._device = device
        self._closing = False
        self._pauses: dict[str, CALLBACK_TYPE] = {}
        self._operations: set[asyncio.Task[Any]] = set()

    @property
    def closing(self) -> bool:
        """Whether the entry is being unloaded (every operation is refused)."""
        return self._closing

    @property
    def paused(self) -> bool:
        """Whether a reconfigure flow holds the device."""
        return bool(self._pauses)

    @property
    def blocked(self) -> bool:
        """Whether operations are refused now (closing or paused)."""
        return self._closing or bool(self._pauses)

    # -------------------------------------------------------------- pause

    @callback
    def async_pause(self, holder: str) -> None:
        """Pause for ``holder`` (a flow id), or renew its pause.

        Until :meth:`async_resume`, or :data:`~.const.PAUSE_TIMEOUT` seconds after the last
        call, every operation is refused. The device keeps its link between the holder's steps
        (``FLOW_IDLE_TIMEOUT``) meanwhile.
        """
        if self._closing:
            return
        if (cancel := self._pauses.pop(holder, None)) is not None:
            cancel()
        elif not self._pauses:
            self._device.idle_timeout = const.FLOW_IDLE_TIMEOUT
        self._pauses[holder] = async_call_later(
            self._hass,
            const.PAUSE_TIMEOUT,
            HassJob(partial(self._async_expired, holder), cancel_on_shutdown=True),
        )

    @callback
    def async_resume(self, holder: str) -> None:
        """End ``holder``'s pause (nothing happens when it has none)."""
        if (cancel := self._pauses.pop(holder, None)) is None:
            return
        cancel()
        if not self._pauses:
            self._async_ended()

    @callback
    def _async_expired(self, holder: str, _now: datetime) -> None:
        if self._pauses.pop(holder, None) is None:
            return
        _LOGGER.debug("%s: the reconfiguration pause expired", self._device.address)
        if not self._pauses:
            self._async_ended()

    @callback
    def _async_ended(self) -> None:
        # Never while closing: closing drops every pause without ending it.
        self._device.idle_timeout = 0.0
        self._entry.async_create_background_task(
            self._hass, self._device.disconnect(), f"{DOMAIN} release {self._device.address}"
        )

    # -------------------------------------------------------------- operations

    def check(self) -> None:
        """Raise the translated error of a closing or paused entry."""
        if self._closing:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="device_closed",
                translation_placeholders={"address": self._device.address},
            )
        if self._pauses:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="device_busy",
                translation_placeholders={
                    "name": self._entry.title,
                    "minutes": str(round(const.PAUSE_TIMEOUT / 60)),
                },
            )

    async def async_run[T](self, operation: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run one device operation unless closing or paused; closing cancels it."""
        self.check()
        task = self._hass.async_create_task(
            operation(), f"{DOMAIN} operation {self._device.address}", eager_start=True
        )
        self._operations.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._closing and task.cancelled() and not (current and current.cancelling()):
                self.check()  # the unload cancelled it: say so
            raise
        finally:
            self._operations.discard(task)

    async def async_close(self) -> None:
        """Refuse every operation from now on, cancel running ones, close the device.

        Idempotent. The device refuses later operations, waits for the one holding its lock
        (cancelled here, or a flow's) and releases the link.
        """
        self._closing = True
        for cancel in self._pauses.values():
            cancel()
        self._pauses.clear()
        running = list(self._operations)
        for task in running:
            task.cancel()
        await self._device.close()
        await asyncio.gather(*running, return_exceptions=True)
