"""The emulated ESP32 without a radio: BluFi stack + security + example application.

:class:`BlufiDeviceModel` takes GATT writes to FF01 (:meth:`~BlufiDeviceModel.write`), handles
them one at a time in order (as the host task does), and sends notifications through the
``send`` callback; ``drop`` disconnects the central. The peripheral
(:mod:`.peripheral`) feeds it the link events (:meth:`~BlufiDeviceModel.on_connect`,
:meth:`~BlufiDeviceModel.on_disconnect`, :meth:`~BlufiDeviceModel.on_mtu`). Tests can drive it
directly.

Records for assertions: ``writes`` (raw GATT writes), ``notifications`` (frames sent, including
dropped ones), ``frames_in`` (each accepted frame, decrypted), ``messages`` (every complete
message: frame type, subtype, payload), ``errors_sent``, ``fields`` (every accepted field by
name), and counters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import logging

from custom_components.ble_provisioning.protocol.blufi.const import (
    WRITE_CHAR_UUID,
    BlufiSecurity,
    ControlSubtype,
    DataSubtype,
    ErrorCode,
    FrameType,
)

from . import wire
from .config import BlufiDeviceConfig
from .dh import EspRandom
from .example import PASSWORD_FIELD, SSID_FIELD, ExampleApp
from .faults import WriteFault, write_fault
from .security import (
    DeviceSecurity,
    KeyChoice,
    KeyPregen,
    V1Security,
    V2Security,
    v2_key_pair,
)
from .stack import BlufiStack, Drop, Send

_LOGGER = logging.getLogger(__name__)

_ENTERPRISE = {
    DataSubtype.USERNAME: "username",
    DataSubtype.CA_CERT: "ca_cert",
    DataSubtype.CLIENT_CERT: "client_cert",
    DataSubtype.SERVER_CERT: "server_cert",
    DataSubtype.CLIENT_PRIV_KEY: "client_priv_key",
    DataSubtype.SERVER_PRIV_KEY: "server_priv_key",
}
_SOFTAP_NUMBERS = {
    DataSubtype.SOFTAP_MAX_CONN_NUM: "softap_max_conn_num",
    DataSubtype.SOFTAP_AUTH_MODE: "softap_auth_mode",
    DataSubtype.SOFTAP_CHANNEL: "softap_channel",
}


class BlufiDeviceModel(BlufiStack):
    """The ESP32 BluFi stack + example application, without a radio."""

    def __init__(
        self,
        config: BlufiDeviceConfig,
        *,
        send: Send,
        drop: Drop,
        on_reboot: Callable[[], None] | None = None,
    ) -> None:
        """``send`` notifies one value on FF02; ``drop`` disconnects the central.

        ``on_reboot`` is called after the firmware restarted (the radio side restarts
        advertising).
        """
        super().__init__(config, send=send, drop=drop)
        self._on_reboot = on_reboot
        self.rng = EspRandom(config.seed)
        self.app = ExampleApp(config, self)
        self.pregen: KeyPregen | None = None
        if config.profile.security == BlufiSecurity.V2 and config.dh_precompute > 0:
            self.pregen = KeyPregen(config.dh_precompute, self._make_v2_pair)
        self._queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._generation = 0
        self._booted = False
        self._writes_this_connection = 0
        # Records.
        self.writes: list[bytes] = []
        self.frames_in: list[wire.FrameIn] = []
        self.messages: list[tuple[FrameType, int, bytes]] = []
        self.connect_requests = 0
        self.disconnect_ap_requests = 0
        self.ble_disconnect_requests = 0
        self.negotiations = 0
        self.connections = 0
        self.reboots = 0
        self.session_key: bytes | None = None

    # ------------------------------------------------------------------ state for tests

    @property
    def sta_ssid(self) -> bytes:
        """The SSID the example holds (last accepted STA_SSID of this boot)."""
        return self.app.sta_config.ssid

    @property
    def sta_password(self) -> bytes:
        """The password the example holds."""
        return self.app.sta_config.password

    @property
    def sta_bssid(self) -> bytes | None:
        """The pinned BSSID (None until one is received this boot)."""
        return self.app.sta_config.bssid if self.app.sta_config.bssid_set else None

    @property
    def sta_connected(self) -> bool:
        """``gl_sta_connected``."""
        return self.app.gl_sta_connected

    @property
    def opmode(self) -> int:
        """The Wi-Fi mode."""
        return self.app.driver.mode

    @property
    def unsolicited_reports(self) -> int:
        """Reports pushed without a request (GOT_IP, SoftAP start)."""
        return self.app.unsolicited_reports

    @property
    def frag_size(self) -> int:
        """Content bytes per device fragment (``blufi_env.frag_size``)."""
        return self.env.frag_size

    # ------------------------------------------------------------------ lifecycle

    def boot(self) -> None:
        """Power on (once, inside the event loop): Wi-Fi starts, V2 pre-computation starts."""
        if self._booted:
            return
        self._booted = True
        self.app.boot()
        if self.pregen is not None:
            self.pregen.restart()

    async def wait_advertising_ready(self) -> None:
        """Return when the firmware would start advertising (after a key pre-computation)."""
        if self.pregen is not None:
            await self.pregen.wait_ready()

    def on_connect(self) -> None:
        """Handle a central connecting: sequences restart, a security context is created."""
        self.boot()
        self.env.on_connect()
        self.ble_connected = True
        self.connections += 1
        self._generation += 1
        self._writes_this_connection = 0
        self._notifications_this_connection = 0
        self.security = self._new_security()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    def on_disconnect(self) -> None:
        """Handle the central leaving: link state reset; a V2 chip without MPI recomputes."""
        if not self.ble_connected:
            return
        self.env.on_disconnect()
        self.ble_connected = False
        self._generation += 1
        self.security = None
        if self.pregen is not None:
            self.pregen.restart()

    def on_mtu(self, mtu: int) -> None:
        """Handle the MTU-exchange event."""
        self.env.on_mtu(mtu)

    async def reboot(self) -> None:
        """Restart the firmware: the link drops, RAM state is lost, flash (Wi-Fi config) stays."""
        self.reboots += 1
        if self.ble_connected:
            self.ble_connected = False  # the firmware is gone: nothing more is sent
            self.security = None
            await self._drop()
        self._generation += 1
        self.env = wire.BlufiEnv()
        self.app.reboot()
        if self.pregen is not None:
            self.pregen.restart()
        if self._on_reboot is not None:
            self._on_reboot()

    async def close(self) -> None:
        """Cancel every task."""
        self.app.driver.close()
        if self.pregen is not None:
            self.pregen.cancel()
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    def _new_security(self) -> DeviceSecurity:
        choice = KeyChoice(self.config.dh_private_key, self.config.dh_private_bits)
        if self.config.profile.security == BlufiSecurity.V2:
            return V2Security(self.rng, choice, pregen=self.pregen)
        return V1Security(self.rng, choice)

    async def _make_v2_pair(self) -> tuple[int, bytes]:
        choice = KeyChoice(self.config.dh_private_key, self.config.dh_private_bits)
        return await v2_key_pair(self.rng, choice)

    # ------------------------------------------------------------------ receive path

    def write(self, uuid: str, value: bytes) -> None:
        """Take a GATT write: FF01 writes are queued and handled in order."""
        if uuid.lower() != WRITE_CHAR_UUID:
            return
        self.writes.append(bytes(value))
        self._queue.put_nowait((self._generation, bytes(value)))

    async def drain(self) -> None:
        """Wait until every queued write has been handled (tests)."""
        await self._queue.join()

    async def _work(self) -> None:
        while True:
            generation, raw = await self._queue.get()
            try:
                if generation == self._generation and self.ble_connected:
                    await self._on_write(raw)
            except Exception:  # pragma: no cover - a bug in the emulator
                _LOGGER.exception("BluFi emulator failed on a write")
            finally:
                self._queue.task_done()

    async def _on_write(self, raw: bytes) -> None:
        index = self._writes_this_connection
        self._writes_this_connection += 1
        fault = write_fault(self.config.faults, index)
        if fault is not None:
            kind, code = fault
            if kind is WriteFault.DISCONNECT:
                await self.drop_link()
            elif kind is WriteFault.ERROR:
                await self.send_error_info(code)
            return
        cipher = self.security.cipher if self.security is not None else None
        frame, actions = wire.receive(
            self.env, raw, cipher, strict_length=self.config.profile.strict_length
        )
        if frame is not None:
            self.frames_in.append(frame)
            _LOGGER.debug(
                "<- type 0x%02x fc 0x%02x seq %d len %d",
                frame.type_byte,
                frame.fc,
                frame.seq,
                len(frame.plaintext),
            )
        for action in actions:
            if isinstance(action, wire.SendAck):
                ack_type = wire.build_type(FrameType.CTRL, ControlSubtype.ACK)
                await self.send_message(ack_type, bytes((action.seq,)))
            elif isinstance(action, wire.ReportError):
                await self.report_error(action.code)
            else:
                await self._dispatch(action.type_byte, action.payload)

    async def _dispatch(self, type_byte: int, payload: bytes) -> None:
        """``btc_blufi_protocol_handler``."""
        frame_type, subtype = type_byte & 0x03, type_byte >> 2
        if frame_type not in (FrameType.CTRL, FrameType.DATA):
            return
        kind = FrameType(frame_type)
        self.messages.append((kind, subtype, payload))
        needs_byte = subtype in (ControlSubtype.SET_SEC_MODE, ControlSubtype.SET_WIFI_OPMODE)
        if kind == FrameType.CTRL and needs_byte and not payload:
            await self.report_error(ErrorCode.DATA_FORMAT_ERROR)
            return
        if kind == FrameType.CTRL:
            await self._on_ctrl(subtype, payload)
        else:
            await self._on_data(subtype, payload)

    async def _on_ctrl(self, subtype: int, payload: bytes) -> None:
        app = self.app
        match subtype:
            case ControlSubtype.SET_SEC_MODE:
                self.env.sec_mode = payload[0]
            case ControlSubtype.SET_WIFI_OPMODE:
                if not app.set_opmode(payload[0]):
                    await self.reboot()
            case ControlSubtype.CONN_TO_AP:
                self.connect_requests += 1
                app.connect_to_ap()
            case ControlSubtype.DISCONN_FROM_AP:
                self.disconnect_ap_requests += 1
                app.disconnect_from_ap()
            case ControlSubtype.GET_WIFI_STATUS:
                await app.get_wifi_status()
            case ControlSubtype.GET_VERSION:
                major, minor = self.config.profile.version
                reply_type = wire.build_type(FrameType.DATA, DataSubtype.REPLY_VERSION)
                await self.send_message(reply_type, bytes((major, minor)))
            case ControlSubtype.DISCONNECT_BLE:
                self.ble_disconnect_requests += 1
                await self.drop_link()
            case ControlSubtype.GET_WIFI_LIST:
                await app.get_wifi_list()
            case _:
                pass  # ACK (ignored), DEAUTHENTICATE_STA (not implemented), unknown

    async def _on_data(self, subtype: int, payload: bytes) -> None:
        app = self.app
        if subtype == DataSubtype.NEG:
            await self._negotiate(payload)
        elif subtype == DataSubtype.STA_BSSID:
            if len(payload) < 6:
                await self.report_error(ErrorCode.DATA_FORMAT_ERROR)
                return
            app.recv_sta_bssid(payload[:6])
        elif subtype == DataSubtype.STA_SSID:
            await app.recv_sta_ssid(payload)
        elif subtype == DataSubtype.STA_PASSWD:
            await app.recv_sta_passwd(payload)
        elif subtype == DataSubtype.SOFTAP_SSID:
            await app.recv_softap_text("softap_ssid", payload, SSID_FIELD)
        elif subtype == DataSubtype.SOFTAP_PASSWD:
            await app.recv_softap_text("softap_passwd", payload, PASSWORD_FIELD)
        elif subtype in _SOFTAP_NUMBERS:
            if not payload:
                await self.report_error(ErrorCode.DATA_FORMAT_ERROR)
                return
            app.recv_softap_number(_SOFTAP_NUMBERS[DataSubtype(subtype)], payload[0])
        elif subtype in _ENTERPRISE:
            self.record(_ENTERPRISE[DataSubtype(subtype)], payload)  # the example ignores them
        elif subtype == DataSubtype.CUSTOM_DATA:
            await app.recv_custom_data(payload)

    async def _negotiate(self, payload: bytes) -> None:
        if self.security is None:  # pragma: no cover - only while disconnected
            await self.report_error(ErrorCode.INIT_SECURITY_ERROR)
            return
        result = await self.security.negotiate(payload)
        if result.error is not None:
            await self.report_error(result.error)
        if result.output is not None:
            self.negotiations += 1
            self.session_key = self.security.key
            await self.send_message(wire.TYPE_NEG, result.output)
