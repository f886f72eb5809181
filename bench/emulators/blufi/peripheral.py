"""The emulated ESP32 on the bench radio: BluFi's GATT table and the example's advertising.

GATT (``esp_blufi.c``): service 0xFFFF with FF01 (write with response) and FF02 (read +
notify; a read returns ``00``). Writes go to the device model in order; notifications leave
through the bench peripheral, which cuts them at ATT_MTU - 3 as a real stack does. The
MTU-exchange event sets the device's fragment size; nothing resets it on disconnect.

Advertising (the example's ``esp_blufi_adv_start`` / ``esp_blufi_adv_stop``): the device
advertises its name and the 16-bit service UUID 0xFFFF, stops advertising when a central
connects and starts again on disconnect. A V2 chip without a big-number unit
(``dh_precompute`` > 0) pre-computes its key pair first, at boot and after every disconnect:
it advertises again only when that is done (``blufi_dh_pregen_start_with_cb(esp_blufi_adv_start)``).
The bench's own auto-restart of advertising is turned off for this peripheral.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
import contextlib
import contextvars
import logging
from typing import Any

from bench.device import (
    Connection,
    EmulatedPeripheral,
    GattCharacteristic,
    GattService,
    Prop,
)
from custom_components.ble_provisioning.protocol.blufi.const import (
    NOTIFY_CHAR_UUID,
    SERVICE_UUID,
    WRITE_CHAR_UUID,
)

from .config import PROFILES, BlufiDeviceConfig, BlufiProfile, advertised_name
from .model import BlufiDeviceModel

_LOGGER = logging.getLogger(__name__)

MTU_UPDATE_EVENT = "connection_att_mtu_update"
_IN_PROCEDURE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "blufi_advertising_procedure", default=False
)


class Esp32BlufiEmulator(EmulatedPeripheral):
    """An ESP32 running the BluFi example, on the bench radio.

    ``profile`` is ``"v5.5"`` (BluFi 1.3, V1), ``"v5.5.2+"`` (the same, advertised as
    ``ESP32-XXXX``) or ``"v6.0"`` (BluFi 1.4, V2), or a :class:`BlufiProfile`; everything else
    is in ``config``. ``model`` holds the device state and the records (``model.writes``,
    ``model.notifications``, ``model.fields`` ...).
    """

    services = (
        GattService(
            SERVICE_UUID,
            (
                GattCharacteristic(WRITE_CHAR_UUID, Prop.WRITE),
                GattCharacteristic(NOTIFY_CHAR_UUID, Prop.READ | Prop.NOTIFY, b"\x00"),
            ),
        ),
    )

    def __init__(
        self,
        config: BlufiDeviceConfig | None = None,
        *,
        profile: str | BlufiProfile | None = None,
        address: str = "24:0A:C4:00:00:01",
        max_mtu: int = 517,
    ) -> None:
        """Create the emulator (advertising its name and 0xFFFF once on a radio)."""
        config = config or BlufiDeviceConfig()
        if profile is not None:
            config.profile = PROFILES[profile] if isinstance(profile, str) else profile
        name = config.name if config.name is not None else advertised_name(config.profile, address)
        super().__init__(
            address=address,
            name=name,
            service_uuids=[SERVICE_UUID],
            max_mtu=max_mtu,
        )
        self.config = config
        self.model = BlufiDeviceModel(
            config,
            send=self._send_notification,
            drop=self.disconnect,
            on_reboot=self._after_reboot,
        )
        self.advertising_starts = 0
        """How often the firmware started advertising (records)."""
        self._start_advertising: Callable[..., Awaitable[None]] | None = None
        self._advertising_kwargs: dict[str, Any] = {}
        self._advertising_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._hci: asyncio.Future[None] | None = None
        self._device_stop: Callable[[], Awaitable[None]] | None = None
        self._halted = False
        self._closed = False

    # ------------------------------------------------------------------ radio plumbing

    def _attach(self, device: Any) -> None:
        """Install the GATT table; take over when advertising starts and restarts.

        The radio starting advertising powers the firmware on; the radio stopping it (when it
        removes the device) powers it off: the firmware then restarts nothing.
        """
        super()._attach(device)
        original_start: Callable[..., Awaitable[None]] = device.start_advertising
        original_stop: Callable[[], Awaitable[None]] = device.stop_advertising
        self._device_stop = original_stop

        async def start_advertising(*args: Any, **kwargs: Any) -> None:
            kwargs["auto_restart"] = False  # the firmware restarts advertising itself
            self._start_advertising = lambda: original_start(*args, **kwargs)
            self._halted = False
            self.model.boot()
            if self.model.pregen is None:
                await self._advertise_when_ready()
            else:
                self._spawn(self._advertise_when_ready())

        async def stop_advertising() -> None:
            if _IN_PROCEDURE.get():
                await original_stop()
                return
            self._halted = True
            pending = self._hci
            if pending is not None and not pending.done():
                with contextlib.suppress(Exception):
                    await asyncio.shield(pending)  # a start under way completes first
            await original_stop()

        device.start_advertising = start_advertising
        device.stop_advertising = stop_advertising

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def advertising(self) -> bool:
        """True while the device advertises."""
        return self.device is not None and bool(self.device.is_advertising)

    async def _hci_call(self, call: Callable[[], Awaitable[None]]) -> bool:
        """Run one advertising procedure to its end, even if the caller is cancelled.

        Cancelling Bumble half-way through creating an advertising set would leave the
        controller advertising for a set the host no longer tracks.
        """

        async def procedure() -> None:
            _IN_PROCEDURE.set(True)  # Bumble's start_advertising calls stop_advertising
            await call()

        self._hci = asyncio.ensure_future(procedure())
        try:
            await asyncio.shield(self._hci)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the radio may be going down
            _LOGGER.debug("advertising procedure failed", exc_info=True)
            return False
        return True

    async def _advertise_when_ready(self) -> None:
        """``esp_blufi_adv_start``, once a key pre-computation (if any) is done."""
        await self.model.wait_advertising_ready()
        async with self._advertising_lock:
            start = self._start_advertising
            halted = self._halted or self._closed
            if start is None or self.device is None or self.is_connected or halted:
                return
            if await self._hci_call(start):
                self.advertising_starts += 1

    async def _stop_advertising(self) -> None:
        """``esp_blufi_adv_stop``."""
        async with self._advertising_lock:
            stop = self._device_stop
            if self.device is None or stop is None or self._halted or self._closed:
                return
            await self._hci_call(stop)

    async def _restart_advertising(self) -> None:
        await self._stop_advertising()
        await self._advertise_when_ready()

    def _after_reboot(self) -> None:
        self._spawn(self._restart_advertising())

    async def _send_notification(self, value: bytes) -> None:
        await self.notify(NOTIFY_CHAR_UUID, value)

    # ------------------------------------------------------------------ GATT hooks

    def on_connect(self, connection: Connection) -> None:
        """BLE_CONNECT: the BluFi link state restarts, advertising stops."""
        self.model.on_connect()
        connection.on(MTU_UPDATE_EVENT, lambda: self.model.on_mtu(int(connection.att_mtu)))
        self._spawn(self._stop_advertising())

    def on_disconnect(self, connection: Connection, reason: int) -> None:
        """BLE_DISCONNECT: link state reset, advertising again (after a pre-computation)."""
        self.model.on_disconnect()
        self._spawn(self._advertise_when_ready())

    def on_write(self, char_uuid: str, value: bytes, connection: Connection) -> None:
        """Hand FF01 writes to the device model (the write response is sent first)."""
        self.model.write(char_uuid, value)

    def on_read(self, char_uuid: str, connection: Connection) -> bytes:
        """Any read returns one byte ``00``."""
        return b"\x00"

    # ------------------------------------------------------------------ device actions

    async def reboot(self) -> None:
        """Restart the firmware (the link drops; Wi-Fi credentials stay in flash)."""
        await self.model.reboot()

    async def close(self) -> None:
        """Stop the emulator's tasks (an advertising procedure under way completes)."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._hci is not None:
            with contextlib.suppress(Exception):
                await self._hci
        await self.model.close()
