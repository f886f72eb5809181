"""The BluFi stack's send side and link state (``blufi_env``), what the example calls.

:class:`BlufiStack` sends every device message through ``btc_blufi_send_encap`` (one lock, so
fragments of two messages never interleave), applies the notification fault hooks, and
implements the ``esp_blufi_*`` calls of the example application (:class:`.example.BlufiApi`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import logging
from typing import Any

from custom_components.ble_provisioning.protocol.blufi.const import DataSubtype, FrameType

from . import wire
from .config import BlufiDeviceConfig
from .faults import notification_fault
from .reports import ExtraInfo, encode_conn_report, encode_wifi_list
from .security import DeviceSecurity

_LOGGER = logging.getLogger(__name__)

Send = Callable[[bytes], Coroutine[Any, Any, None]]
Drop = Callable[[], Coroutine[Any, Any, None]]


class BlufiStack:
    """Send path, link state and records of the emulated BluFi stack."""

    def __init__(self, config: BlufiDeviceConfig, *, send: Send, drop: Drop) -> None:
        """``send`` notifies one value on FF02; ``drop`` disconnects the central."""
        self.config = config
        self._send_value = send
        self._drop = drop
        self.env = wire.BlufiEnv()
        self.security: DeviceSecurity | None = None
        self.ble_connected = False
        self._send_lock = asyncio.Lock()
        self._notifications_this_connection = 0
        self.notifications: list[bytes] = []
        self.errors_sent: list[int] = []
        self.fields: dict[str, list[bytes | int]] = {}

    def record(self, name: str, value: bytes | int) -> None:
        """Keep a received field."""
        self.fields.setdefault(name, []).append(value)

    async def send_message(self, type_byte: int, payload: bytes) -> None:
        """``btc_blufi_send_encap``: one message, fragmented, checksummed/encrypted."""
        async with self._send_lock:
            cipher = self.security.cipher if self.security is not None else None
            frames, error = wire.encap(self.env, type_byte, payload, cipher)
            for raw in frames:
                await self._notify(raw)
        if error is not None:
            await self.report_error(error)

    async def _notify(self, raw: bytes) -> None:
        index = self._notifications_this_connection
        self._notifications_this_connection += 1
        raw, dropped = notification_fault(self.config.faults, index, raw)
        self.notifications.append(raw)
        if dropped or not self.ble_connected:
            return
        await self._send_value(raw)

    async def report_error(self, code: int) -> None:
        """``btc_blufi_report_error`` → the example → ``esp_blufi_send_error_info``."""
        await self.send_error_info(code)

    async def send_error_info(self, code: int) -> None:
        """One plaintext ERROR_INFO byte."""
        _LOGGER.debug("-> error report %d", code)
        self.errors_sent.append(code)
        await self.send_message(wire.TYPE_ERROR_INFO, bytes((code,)))

    async def send_report(self, opmode: int, state: int, info: ExtraInfo) -> None:
        """``esp_blufi_send_wifi_conn_report`` (SoftAP station count: always 0)."""
        payload = encode_conn_report(opmode, state, 0, info)
        if payload is not None:
            await self.send_message(wire.build_type(FrameType.DATA, DataSubtype.WIFI_REP), payload)

    async def send_wifi_list(self, records: list[tuple[bytes, int]]) -> None:
        """``esp_blufi_send_wifi_list``."""
        list_type = wire.build_type(FrameType.DATA, DataSubtype.WIFI_LIST)
        await self.send_message(list_type, encode_wifi_list(records))

    async def send_custom_data(self, data: bytes) -> None:
        """``esp_blufi_send_custom_data`` (device-initiated custom data)."""
        await self.send_message(wire.build_type(FrameType.DATA, DataSubtype.CUSTOM_DATA), data)

    async def drop_link(self) -> None:
        """Disconnect the central (device-initiated)."""
        if self.ble_connected:
            await self._drop()
