"""The Bluenet daemon on the bench radio, behind BlueZ's GATT server.

What BlueZ (``src/gatt-database.c``, ``src/shared/gatt-server.c``) does between the daemon and
the air, and this peripheral therefore does:

* the service ``FBE51523-…`` with 1524 notify, 1525 read+notify, 1526 read+notify, 1527 read,
  1528 / 1529 write (with response); the advertisement carries only the 128-bit service UUID
  (no name, no TX power, no manufacturer data);
* a Read Request is answered with the first ``ATT_MTU - 1`` bytes of the daemon's value (BlueZ
  truncates an application's value to 512 bytes, then to what one response carries);
* a Read Blob Request reaches the daemon's ``ReadValue`` with its offset, which the daemon
  ignores: the answer is again the first ``ATT_MTU - 1`` bytes. A central's long read therefore
  collects the prefix over and over; a BlueZ central stops at 512 bytes, so offsets from
  ``BluenetConfig.long_read_limit`` (512) on get "Invalid Offset" (the bench's Bumble central
  would never stop);
* notifications are cut at ``ATT_MTU - 3`` (by the base class), and go only to subscribers;
* a write the daemon's ``WriteValue`` raises on (invalid UTF-8) gets ATT "Unlikely Error";
* a CCCD write becomes ``StartNotify`` / ``StopNotify``; a disconnect becomes the daemon's
  ``remote_disconnected`` (StopNotify on every characteristic).

Records: ``reads`` (characteristic UUID and offset of every read request, in order), and the
daemon's records on ``model`` (see :class:`~.daemon.BluenetDaemonModel`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bumble import att

from bench.device import (
    AttError,
    Connection,
    EmulatedPeripheral,
    GattCharacteristic,
    GattService,
    Prop,
)

from .config import BluenetConfig
from .const import (
    ATT_INVALID_OFFSET,
    ATT_READ_NOT_PERMITTED,
    AVAILABLE_NETWORKS_UUID,
    BT_ATT_MAX_VALUE_LEN,
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    HOSTNAME_UUID,
    SERVICE_UUID,
    SSID_UUID,
    VERSION_UUID,
)
from .daemon import BluenetDaemonModel
from .service import AttWriteError

_LOGGER = logging.getLogger(__name__)

BLUENET_SERVICES = (
    GattService(
        SERVICE_UUID,
        (
            GattCharacteristic(AVAILABLE_NETWORKS_UUID, Prop.NOTIFY),
            GattCharacteristic(CONNECTION_STATE_UUID, Prop.READ | Prop.NOTIFY),
            GattCharacteristic(HOSTNAME_UUID, Prop.READ | Prop.NOTIFY),
            GattCharacteristic(VERSION_UUID, Prop.READ),
            GattCharacteristic(SSID_UUID, Prop.WRITE),
            GattCharacteristic(CREDENTIALS_UUID, Prop.WRITE),
        ),
    ),
)


class BluenetDaemonEmulator(EmulatedPeripheral):
    """The Bluenet daemon on the bench radio (see the module docstring).

    ``config`` describes the Wi-Fi environment, the timers, the read race and the faults;
    ``model`` is the running daemon (records: ``model.writes``, ``model.notifications``,
    ``model.joins``, ...). The daemon starts when the peripheral is put on a radio (or on
    :meth:`start`) and stops on :meth:`close`.
    """

    services = BLUENET_SERVICES

    def __init__(
        self,
        config: BluenetConfig | None = None,
        *,
        address: str = "B0:0B:1E:00:00:01",
        max_mtu: int = 517,
    ) -> None:
        """Advertise only the 128-bit service UUID: flags (3) + UUID list (18) = 21 bytes."""
        super().__init__(address=address, name=None, service_uuids=[SERVICE_UUID], max_mtu=max_mtu)
        self.config = config if config is not None else BluenetConfig()
        self.model = BluenetDaemonModel(self.config, send=self._send, drop=self.disconnect)
        self.reads: list[tuple[str, int]] = []
        self._started = False
        self._released = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the daemon (idempotent); needs a running event loop."""
        if not self._started:
            self._started = True
            self.model.start()

    async def close(self) -> None:
        """Stop every timer and task of the daemon and release hung requests."""
        self._released.set()
        await self.model.close()

    def _attach(self, device: Any) -> None:
        super()._attach(device)
        server = device.gatt_server
        # Bumble dispatches ATT PDUs with getattr(server, "on_<pdu name>"): an instance
        # attribute replaces its Read Blob handler, which would honour the offset.
        original = server.on_att_read_blob_request

        def read_blob(bearer: Any, request: Any) -> None:
            key = self._key_of(server.get_attribute(request.attribute_handle))
            if key is None:
                original(bearer, request)
                return
            self.model.loop.spawn(self._answer_read_blob(server, bearer, request, key))

        server.on_att_read_blob_request = read_blob
        with contextlib.suppress(RuntimeError):  # no running loop: start() later
            asyncio.get_running_loop()
            self.start()

    def _key_of(self, attribute: Any) -> str | None:
        for key, characteristic in self._characteristics.items():
            if characteristic is attribute:
                return key
        return None

    # ------------------------------------------------------------------ GATT hooks

    async def _send(self, uuid: str, value: bytes) -> None:
        with contextlib.suppress(Exception):
            await self.notify(uuid, value)

    async def on_write(self, char_uuid: str, value: bytes, connection: Connection) -> None:
        """SSID / credentials writes; invalid UTF-8 → ATT error, as BlueZ answers."""
        if self.config.faults.hang_writes:
            await self._released.wait()
            return
        try:
            self.model.write(char_uuid, value)
        except AttWriteError as err:
            raise AttError(err.code, str(err)) from None

    async def on_read(self, char_uuid: str, connection: Connection) -> bytes:
        """Return the daemon's value (at most 512 bytes); Bumble sends its first ``mtu - 1``."""
        self.reads.append((char_uuid, 0))
        return await self._daemon_value(char_uuid)

    async def _daemon_value(self, char_uuid: str) -> bytes:
        if self.config.faults.hang_reads:
            await self._released.wait()
        try:
            value = await self.model.read_value(char_uuid)
        except AttWriteError as err:
            raise AttError(err.code, str(err)) from None
        return value[:BT_ATT_MAX_VALUE_LEN]

    async def _answer_read_blob(self, server: Any, bearer: Any, request: Any, key: str) -> None:
        """Answer a Read Blob Request as BlueZ does for the daemon (offset ignored)."""
        offset = int(request.value_offset)
        self.reads.append((key, offset))
        limit = self.config.long_read_limit
        response: Any
        try:
            if limit is not None and offset >= limit:
                raise AttError(ATT_INVALID_OFFSET, "invalid offset")
            if not self._props[key] & Prop.READ:
                raise AttError(ATT_READ_NOT_PERMITTED, "read not permitted")
            value = await self._daemon_value(key)
        except AttError as err:
            response = att.ATT_Error_Response(
                request_opcode_in_error=request.op_code,
                attribute_handle_in_error=request.attribute_handle,
                error_code=err.code,
            )
        else:
            response = att.ATT_Read_Blob_Response(
                part_attribute_value=value[: max(int(bearer.att_mtu) - 1, 0)]
            )
        try:
            server.send_response(bearer, response)
        except Exception:  # noqa: BLE001 - the central may be gone meanwhile
            _LOGGER.debug("read blob response not sent", exc_info=True)

    def on_connect(self, connection: Connection) -> None:
        """Forward to the daemon."""
        self.model.on_connect()

    def on_disconnect(self, connection: Connection, reason: int) -> None:
        """``remote_disconnected``: StopNotify on every characteristic."""
        self.model.on_disconnect()

    def on_subscribe(self, char_uuid: str, enabled: bool) -> None:
        """BlueZ calls StartNotify / StopNotify on CCCD changes."""
        if enabled:
            self.model.start_notify(char_uuid)
        else:
            self.model.stop_notify(char_uuid)
