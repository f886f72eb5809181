"""Emulator of an ESP32 running ESP-IDF's BluFi stack and the stock BluFi example application.

:class:`BlufiDeviceModel` is the device logic without a radio (spec ``blufi-protocol.md``
§1-§5); :class:`Esp32BlufiEmulator` exposes it over GATT on the bench.

Behaviour reproduced:

* profiles: ``v5.5`` (BluFi 1.3, security V1: p, g, A read from the phone's blob, 1024-bit
  private value, leading zeros stripped before MD5, AES-128-CFB per frame) and ``v6.0`` (BluFi
  1.4, security V2: fixed ffdhe3072, ``len(A) == 384`` else error 0x06, padded secret,
  SHA-256, AES-256-CTR streams);
* advertising name ``BLUFI_DEVICE`` + 16-bit service UUID 0xFFFF (within 31 bytes);
  FF01 write (with response only), FF02 notify (a read returns ``00``);
* ``frag_size = min(MTU, 255) - 11`` with the remaining-length prefix; the strict length check
  (error 0x09, no sequence advance); the exact sequence check (error 0x00, no advance); the CRC
  check (error 0x01); ``sec_mode`` decides which frames it checksums/encrypts (NEG replies and
  error reports always plain); ACK on REQ_ACK with its own send sequence;
* device-side reassembly as ``blufi_protocol.c`` (total read from the first fragment only,
  overflow / short tail / zero total → 0x09);
* the example's replies: version, Wi-Fi report (connected: BSSID+SSID, state 0; connected
  without IP: state 3; connecting: state 2 + TLV 0x14; failed: state 1 + TLV 0x15 + 0x16) pushed
  unsolicited **only** on success (and SoftAP start), Wi-Fi list (nothing for an empty scan,
  error 0x0B when configured), custom data echoed or scripted, SoftAP fields recorded, SSID ≥ 32 /
  password ≥ 64 bytes → error 0x09, DISCONNECT_BLE drops the link;
* a configurable Wi-Fi environment (:class:`WifiAp`: SSID, RSSI, password, BSSID, outcome
  override, connect delay; retries as ``CONFIG_EXAMPLE_WIFI_CONNECTION_MAXIMUM_RETRY``);
* fault hooks (:class:`BlufiFaults`): drop notification N, corrupt the CRC of notification N,
  disconnect at write N, send error code X at write N;
* records of every write, notification, decoded message and field for assertions;
* optional deterministic randomness (``seed``) for the device's DH private values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
from dataclasses import dataclass, field
import logging
import random
from typing import Any

from bench.device import (
    Connection,
    EmulatedPeripheral,
    GattCharacteristic,
    GattService,
    Prop,
)
from custom_components.ble_provisioning.protocol.blufi.codec import (
    Frame,
    FrameCipher,
    crc16,
    encode_frame,
    fragment,
    frame_checksum,
)
from custom_components.ble_provisioning.protocol.blufi.const import (
    DH_G,
    MAX_DATA_LEN,
    NOTIFY_CHAR_UUID,
    SERVICE_UUID,
    V1_KEY_BYTES,
    V2_DH_P,
    V2_KEY_BYTES,
    WRITE_CHAR_UUID,
    BlufiSecurity,
    ControlSubtype,
    DataSubtype,
    ErrorCode,
    FrameControl,
    FrameType,
    NegType,
    OpMode,
    SecurityMode,
    StaConnState,
    WifiReason,
)
from custom_components.ble_provisioning.protocol.blufi.models import (
    WifiStatus,
    encode_wifi_list,
    encode_wifi_status,
    parse_bssid,
)
from custom_components.ble_provisioning.protocol.blufi.security import (
    V1Cipher,
    V2Cipher,
    modexp,
    strip_leading_zeros,
    v1_key,
    v2_key,
)

_LOGGER = logging.getLogger(__name__)

DEVICE_NAME = "BLUFI_DEVICE"
SERVICE_UUID_16 = 0xFFFF
DH_PARAM_LEN_MAX = 1024
INVALID_RSSI = -128
EXAMPLE_MAX_RETRY = 2


@dataclass(frozen=True, slots=True)
class BlufiProfile:
    """Firmware profile: ESP-IDF release, BluFi version and security generation."""

    name: str
    version: tuple[int, int]
    security: BlufiSecurity
    strict_length: bool = True


PROFILE_V5_5 = BlufiProfile("v5.5", (1, 3), BlufiSecurity.V1)
PROFILE_V6_0 = BlufiProfile("v6.0", (1, 4), BlufiSecurity.V2)
PROFILES = {"v5.5": PROFILE_V5_5, "v6.0": PROFILE_V6_0}


@dataclass(slots=True)
class WifiAp:
    """One access point of the emulated environment."""

    ssid: str | bytes
    rssi: int = -55
    password: str | bytes | None = field(default=None, repr=False)
    bssid: str = ""
    outcome: WifiReason | int | None = None  # force this end reason (None: judge by password)
    connect_delay: float = 0.02
    ip_delay: float = 0.005
    visible: bool = True

    @property
    def ssid_raw(self) -> bytes:
        """SSID bytes."""
        return self.ssid.encode() if isinstance(self.ssid, str) else bytes(self.ssid)

    @property
    def password_raw(self) -> bytes:
        """Password bytes (empty = open)."""
        if self.password is None:
            return b""
        return self.password.encode() if isinstance(self.password, str) else bytes(self.password)

    def bssid_raw(self, index: int) -> bytes:
        """BSSID bytes (derived from the index when not set)."""
        if self.bssid:
            return parse_bssid(self.bssid)
        return bytes((0xA4, 0xCF, 0x12, 0x00, 0x00, index & 0xFF))


@dataclass(slots=True)
class BlufiFaults:
    """Fault hooks; indices count per BLE connection, from 0."""

    drop_notifications: set[int] = field(default_factory=set)
    corrupt_crc_notifications: set[int] = field(default_factory=set)
    disconnect_at_write: int | None = None
    error_at_write: dict[int, int] = field(default_factory=dict)
    scan_error: bool = False
    ignore_writes_from: int | None = None  # go silent (process nothing) from write N


@dataclass(slots=True)
class BlufiDeviceConfig:
    """Everything configurable about the emulated device."""

    profile: BlufiProfile = PROFILE_V6_0
    name: str = DEVICE_NAME
    networks: list[WifiAp] = field(default_factory=list)
    scan_delay: float = 0.01
    custom_reply: Callable[[bytes], bytes | None] | None = None  # None: echo
    faults: BlufiFaults = field(default_factory=BlufiFaults)
    seed: int | str | None = None
    dh_private_bits: int | None = None  # None: as the firmware (len(p) bytes / 3072 bits)
    dh_private_key: int | None = None  # fixed device DH private value (tests)
    max_retry: int = EXAMPLE_MAX_RETRY


@dataclass(slots=True)
class _Reassembly:
    total: int = 0
    offset: int = 0
    buf: bytearray = field(default_factory=bytearray)
    active: bool = False


class BlufiDeviceModel:
    """The ESP32 BluFi stack + example application, without a radio.

    ``send`` notifies one value on FF02; ``drop`` disconnects the central.
    """

    def __init__(
        self,
        config: BlufiDeviceConfig,
        *,
        send: Callable[[bytes], Coroutine[Any, Any, None]],
        drop: Callable[[], Coroutine[Any, Any, None]],
        mtu: Callable[[], int] | None = None,
    ) -> None:
        """Create the model; ``mtu`` returns the current ATT_MTU (23 if not given)."""
        self.config = config
        self._mtu_source = mtu
        self._send_value = send
        self._drop = drop
        self._rng = random.Random(config.seed)
        self._tasks: set[asyncio.Task[None]] = set()
        self._queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        self._generation = 0
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self.ble_connected = False
        # BluFi stack state (reset on connect and disconnect).
        self.send_seq = 0
        self.recv_seq = 0
        self.sec_mode = 0
        self._cipher: FrameCipher | None = None
        self._reasm = _Reassembly()
        self._neg_param_len: int | None = None
        self._writes_this_connection = 0
        self._notifications_this_connection = 0
        # Example application / Wi-Fi state (survives BLE connections).
        self.opmode = OpMode.NULL
        self.sta_ssid: bytes = b""
        self.sta_password: bytes = b""
        self.sta_bssid: bytes | None = None
        self.sta_connected = False
        self.sta_got_ip = False
        self.sta_connecting = False
        self.connected_ap: tuple[bytes, bytes] | None = None  # (bssid, ssid)
        self.disconnect_reason: int = WifiReason.NONE
        self.disconnect_rssi = INVALID_RSSI
        self._connect_task: asyncio.Task[None] | None = None
        # Records.
        self.writes: list[bytes] = []
        self.notifications: list[bytes] = []
        self.messages: list[tuple[FrameType, int, bytes]] = []
        self.errors_sent: list[int] = []
        self.fields: dict[str, list[bytes | int]] = {}
        self.connect_requests = 0
        self.disconnect_ap_requests = 0
        self.ble_disconnect_requests = 0
        self.negotiations = 0
        self.connections = 0
        self.unsolicited_reports = 0
        self.session_key: bytes | None = None

    # ------------------------------------------------------------------ lifecycle

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Cancel every task."""
        self._closed = True
        tasks = [t for t in (*self._tasks, self._worker) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def _reset_link_state(self) -> None:
        self.send_seq = 0
        self.recv_seq = 0
        self.sec_mode = 0
        self._cipher = None
        self._reasm = _Reassembly()
        self._neg_param_len = None
        self._writes_this_connection = 0
        self._notifications_this_connection = 0
        self._generation += 1  # writes queued by an earlier connection are dropped

    @property
    def mtu(self) -> int:
        """Current ATT_MTU."""
        return self._mtu_source() if self._mtu_source is not None else 23

    def on_connect(self) -> None:
        """Handle a central connecting: sequence numbers and security restart."""
        self._reset_link_state()
        self.ble_connected = True
        self.connections += 1
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    def on_disconnect(self) -> None:
        """Handle the central going away."""
        self.ble_connected = False
        self._reset_link_state()

    @property
    def frag_size(self) -> int:
        """``min(MTU, 255) - 11``: content bytes per device fragment."""
        return min(self.mtu, 255) - 11

    def read(self, uuid: str) -> bytes:
        """FF02 read returns one byte 0x00."""
        if uuid.lower() == NOTIFY_CHAR_UUID:
            return b"\x00"
        return b""

    def write(self, uuid: str, value: bytes) -> None:
        """Take a GATT write to FF01 (queued; processed in order as the BTC task does)."""
        if uuid.lower() != WRITE_CHAR_UUID:
            return
        self.writes.append(bytes(value))
        self._queue.put_nowait((self._generation, bytes(value)))

    async def _work(self) -> None:
        while not self._closed:
            generation, raw = await self._queue.get()
            if generation != self._generation or not self.ble_connected:
                continue
            try:
                await self._on_write(raw)
            except Exception:  # pragma: no cover - a bug in the emulator
                _LOGGER.exception("BluFi emulator failed on a write")

    # ------------------------------------------------------------------ send path

    def _record(self, name: str, value: bytes | int) -> None:
        self.fields.setdefault(name, []).append(value)

    async def _notify(self, raw: bytes) -> None:
        index = self._notifications_this_connection
        self._notifications_this_connection += 1
        faults = self.config.faults
        if index in faults.corrupt_crc_notifications and raw[1] & FrameControl.CHECK:
            raw = raw[:-2] + bytes((raw[-2] ^ 0xFF, raw[-1] ^ 0x5A))
        self.notifications.append(raw)
        if index in faults.drop_notifications:
            return
        if not self.ble_connected:
            return
        await self._send_value(raw)

    async def send_message(self, frame_type: FrameType, subtype: int, payload: bytes) -> None:
        """``btc_blufi_send_encap``: fragment, checksum, encrypt per ``sec_mode``."""
        if frame_type == FrameType.CTRL:
            check = bool(self.sec_mode & SecurityMode.CTRL_CHECK)
            enc = False
        elif subtype in (DataSubtype.NEG, DataSubtype.ERROR_INFO):
            check = enc = False
        else:
            check = bool(self.sec_mode & SecurityMode.DATA_CHECK)
            enc = bool(self.sec_mode & SecurityMode.DATA_ENC) and self._cipher is not None
        for more, chunk in fragment(payload, self.frag_size + 2):
            fc = FrameControl.DIR
            if more:
                fc |= FrameControl.FRAG
            if check:
                fc |= FrameControl.CHECK
            if enc:
                fc |= FrameControl.ENC
            seq = self.send_seq
            self.send_seq = (self.send_seq + 1) & 0xFF
            raw = encode_frame(Frame(frame_type, subtype, fc, seq, chunk), self._cipher)
            await self._notify(raw)

    async def send_error(self, code: int) -> None:
        """``btc_blufi_report_error``: one plaintext ERROR_INFO byte."""
        self.errors_sent.append(code)
        await self.send_message(FrameType.DATA, DataSubtype.ERROR_INFO, bytes((code,)))

    # ------------------------------------------------------------------ receive path

    async def _on_write(self, raw: bytes) -> None:
        index = self._writes_this_connection
        self._writes_this_connection += 1
        faults = self.config.faults
        if faults.disconnect_at_write == index:
            await self.drop_link()
            return
        if faults.ignore_writes_from is not None and index >= faults.ignore_writes_from:
            return
        if index in faults.error_at_write:
            await self.send_error(faults.error_at_write[index])
            return
        if len(raw) < 4:
            await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
            return
        tbyte, fc, seq, data_len = raw[0], FrameControl(raw[1] & 0x1F), raw[2], raw[3]
        expected = 4 + data_len + (2 if fc & FrameControl.CHECK else 0)
        if len(raw) != expected and (self.config.profile.strict_length or len(raw) < expected):
            _LOGGER.debug("Invalid data length: %d, expected: %d", len(raw), expected)
            await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
            return
        if seq != self.recv_seq:
            _LOGGER.debug("seq %d is not expect %d", seq, self.recv_seq)
            await self.send_error(ErrorCode.SEQUENCE_ERROR)
            return
        self.recv_seq = (self.recv_seq + 1) & 0xFF
        data = raw[4 : 4 + data_len]
        if fc & FrameControl.ENC:
            if self._cipher is None:
                await self.send_error(ErrorCode.DECRYPT_ERROR)
                return
            data = self._cipher.decrypt(seq, data)
        if fc & FrameControl.CHECK:
            got = int.from_bytes(raw[4 + data_len : 6 + data_len], "little")
            if got != frame_checksum(seq, data):
                await self.send_error(ErrorCode.CHECKSUM_ERROR)
                return
        if fc & FrameControl.REQ_ACK:
            await self.send_message(FrameType.CTRL, ControlSubtype.ACK, bytes((seq,)))
        if fc & FrameControl.FRAG:
            if data_len < 2:
                await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
                return
            r = self._reasm
            if r.offset == 0:
                if r.active:
                    await self.send_error(ErrorCode.MSG_STATE_ERROR)
                    return
                r.total = data[0] | (data[1] << 8)
                if r.total == 0:
                    await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
                    return
                r.buf = bytearray()
                r.active = True
            if r.offset + len(data) - 2 > r.total:
                self._reasm = _Reassembly()
                await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
                return
            r.buf += data[2:]
            r.offset += len(data) - 2
            return
        r = self._reasm
        if r.offset > 0:
            if r.offset + len(data) != r.total:
                self._reasm = _Reassembly()
                await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
                return
            payload = bytes(r.buf) + data
            self._reasm = _Reassembly()
        else:
            self._reasm = _Reassembly()
            payload = data
        await self._dispatch(tbyte & 0x03, (tbyte >> 2) & 0x3F, payload)

    async def _dispatch(self, ftype: int, subtype: int, payload: bytes) -> None:
        kind = FrameType(ftype) if ftype in (0, 1) else None
        if kind is None:
            return
        self.messages.append((kind, subtype, payload))
        if kind == FrameType.CTRL:
            await self._on_ctrl(subtype, payload)
        else:
            await self._on_data(subtype, payload)

    async def _on_ctrl(self, subtype: int, payload: bytes) -> None:
        match subtype:
            case ControlSubtype.SET_SEC_MODE:
                if payload:
                    self.sec_mode = payload[0]
            case ControlSubtype.SET_WIFI_OPMODE:
                if payload:
                    await self._set_opmode(payload[0])
            case ControlSubtype.CONN_TO_AP:
                self.connect_requests += 1
                self._start_sta_connect()
            case ControlSubtype.DISCONN_FROM_AP:
                self.disconnect_ap_requests += 1
                self._wifi_disconnect(WifiReason.ASSOC_LEAVE)
            case ControlSubtype.GET_WIFI_STATUS:
                await self._send_report()
            case ControlSubtype.GET_VERSION:
                major, minor = self.config.profile.version
                await self.send_message(
                    FrameType.DATA, DataSubtype.REPLY_VERSION, bytes((major, minor))
                )
            case ControlSubtype.DISCONNECT_BLE:
                self.ble_disconnect_requests += 1
                await self.drop_link()
            case ControlSubtype.GET_WIFI_LIST:
                await self._scan()
            case _:
                pass  # ACK, DEAUTHENTICATE_STA (unimplemented in the example), unknown

    async def _on_data(self, subtype: int, payload: bytes) -> None:
        match subtype:
            case DataSubtype.NEG:
                await self._negotiate(payload)
            case DataSubtype.STA_BSSID:
                self._record("sta_bssid", payload)
                if len(payload) == 6:
                    self.sta_bssid = payload
            case DataSubtype.STA_SSID:
                if len(payload) >= 32:
                    await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
                    return
                self._record("sta_ssid", payload)
                self.sta_ssid = payload
            case DataSubtype.STA_PASSWD:
                if len(payload) >= 64:
                    await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
                    return
                self._record("sta_passwd", payload)
                self.sta_password = payload
            case DataSubtype.SOFTAP_SSID:
                if len(payload) >= 32:
                    await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
                    return
                self._record("softap_ssid", payload)
            case DataSubtype.SOFTAP_PASSWD:
                if len(payload) >= 64:
                    await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
                    return
                self._record("softap_passwd", payload)
            case DataSubtype.SOFTAP_MAX_CONN_NUM:
                if payload and payload[0] <= 4:
                    self._record("softap_max_conn_num", payload[0])
            case DataSubtype.SOFTAP_AUTH_MODE:
                if payload and payload[0] < 13:
                    self._record("softap_auth_mode", payload[0])
            case DataSubtype.SOFTAP_CHANNEL:
                if payload and payload[0] <= 13:
                    self._record("softap_channel", payload[0])
            case (
                DataSubtype.USERNAME
                | DataSubtype.CA_CERT
                | DataSubtype.CLIENT_CERT
                | DataSubtype.SERVER_CERT
                | DataSubtype.CLIENT_PRIV_KEY
                | DataSubtype.SERVER_PRIV_KEY
            ):
                self._record(DataSubtype(subtype).name.lower(), payload)
            case DataSubtype.CUSTOM_DATA:
                self._record("custom_data", payload)
                reply = (
                    payload
                    if self.config.custom_reply is None
                    else (self.config.custom_reply(payload))
                )
                if reply is not None:
                    await self.send_message(FrameType.DATA, DataSubtype.CUSTOM_DATA, reply)
            case _:
                pass

    # ------------------------------------------------------------------ security

    def _private_value(self, nbytes: int) -> int:
        bits = self.config.dh_private_bits or nbytes * 8
        return self._rng.getrandbits(bits) | (1 << (bits - 1)) | 1

    async def _negotiate(self, data: bytes) -> None:
        if len(data) < 3:
            await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
            return
        kind = data[0]
        if kind == NegType.DH_PARAM_LEN:
            length = (data[1] << 8) | data[2]
            if not 1 <= length <= DH_PARAM_LEN_MAX:
                await self.send_error(ErrorCode.DH_PARAM_ERROR)
                return
            self._neg_param_len = length
            return
        if kind in (NegType.DH_P, NegType.DH_G, NegType.DH_PUBLIC):
            return
        if kind != NegType.DH_PARAM_DATA:
            await self.send_error(ErrorCode.DATA_FORMAT_ERROR)
            return
        param_len, self._neg_param_len = self._neg_param_len, None
        if param_len is None or len(data) < param_len + 1:
            await self.send_error(ErrorCode.DH_PARAM_ERROR)
            return
        try:
            p, g, a = _read_params(data[1 : 1 + param_len])
        except ValueError:
            await self.send_error(ErrorCode.READ_PARAM_ERROR)
            return
        loop = asyncio.get_running_loop()
        if self.config.profile.security == BlufiSecurity.V2:
            if len(a) != V2_KEY_BYTES:
                await self.send_error(ErrorCode.DH_PARAM_ERROR)
                return
            result = await loop.run_in_executor(
                None,
                _device_dh,
                V2_DH_P,
                DH_G,
                a,
                self.config.dh_private_key or self._private_value(V2_KEY_BYTES),
                V2_KEY_BYTES,
            )
            if result is None:
                await self.send_error(ErrorCode.DH_PARAM_ERROR)
                return
            public, secret = result
            key = v2_key(secret)
            self._cipher = V2Cipher(key, secret, "device")
        else:
            if len(p) > V1_KEY_BYTES or int.from_bytes(p, "big") < 3:
                await self.send_error(ErrorCode.READ_PARAM_ERROR)
                return
            p_int, g_int = int.from_bytes(p, "big"), int.from_bytes(g, "big")
            result = await loop.run_in_executor(
                None,
                _device_dh,
                p_int,
                g_int,
                a,
                self.config.dh_private_key or self._private_value(len(p)) % (p_int - 3) + 2,
                len(p),
            )
            if result is None:
                await self.send_error(ErrorCode.DH_PARAM_ERROR)
                return
            public, secret = result
            key = v1_key(strip_leading_zeros(secret))
            self._cipher = V1Cipher(key)
        self.session_key = key
        self.negotiations += 1
        await self.send_message(FrameType.DATA, DataSubtype.NEG, public)

    # ------------------------------------------------------------------ Wi-Fi (example app)

    async def _set_opmode(self, mode: int) -> None:
        self._record("opmode", mode)
        if mode > OpMode.SOFTAP_STA:
            _LOGGER.debug("esp_wifi_set_mode(%d) fails: ESP_ERROR_CHECK aborts", mode)
            await self.drop_link()
            return
        self.opmode = OpMode(mode)
        if mode in (OpMode.SOFTAP, OpMode.SOFTAP_STA) and self.ble_connected:
            # WIFI_EVENT_AP_START: the example reports the state.
            self.unsolicited_reports += 1
            await self._send_report()

    def _find_ap(self) -> tuple[int, WifiAp] | None:
        for index, ap in enumerate(self.config.networks):
            if ap.ssid_raw != self.sta_ssid or not ap.visible:
                continue
            if self.sta_bssid is not None and ap.bssid_raw(index) != self.sta_bssid:
                continue
            return index, ap
        return None

    def _start_sta_connect(self) -> None:
        if self.opmode not in (OpMode.STA, OpMode.SOFTAP_STA):
            return
        if self._connect_task is not None:
            self._connect_task.cancel()
        self.sta_connected = self.sta_got_ip = False
        self.connected_ap = None
        self.sta_connecting = True
        self.disconnect_reason = WifiReason.NONE
        self.disconnect_rssi = INVALID_RSSI
        self._connect_task = self._spawn(self._sta_connect())

    async def _sta_connect(self) -> None:
        found = self._find_ap()
        attempts = 1 + self.config.max_retry
        for _ in range(attempts):
            if found is None:
                await asyncio.sleep(0.02)
                continue
            index, ap = found
            await asyncio.sleep(ap.connect_delay)
            if ap.outcome is not None:
                continue
            if ap.password_raw and ap.password_raw != self.sta_password:
                continue
            self.sta_connected = True
            self.sta_connecting = False
            self.connected_ap = (ap.bssid_raw(index), ap.ssid_raw)
            await asyncio.sleep(ap.ip_delay)
            self.sta_got_ip = True
            if self.ble_connected:
                self.unsolicited_reports += 1
                await self._send_report()
            return
        self.sta_connecting = False
        if found is None:
            self.disconnect_reason, self.disconnect_rssi = WifiReason.NO_AP_FOUND, INVALID_RSSI
        else:
            ap = found[1]
            reason = ap.outcome
            if reason is None:
                reason = WifiReason.FOURWAY_HANDSHAKE_TIMEOUT
            self.disconnect_reason, self.disconnect_rssi = int(reason), ap.rssi

    def _wifi_disconnect(self, reason: int) -> None:
        if self._connect_task is not None:
            self._connect_task.cancel()
        was_connected = self.sta_connected
        self.sta_connected = self.sta_got_ip = self.sta_connecting = False
        self.connected_ap = None
        if was_connected:
            self.disconnect_reason = reason

    def current_status(self) -> WifiStatus:
        """Return the report the example would send now."""
        if self.sta_connected and self.connected_ap is not None:
            bssid, ssid = self.connected_ap
            return WifiStatus(
                opmode=self.opmode,
                sta_state=StaConnState.CONNECTED
                if self.sta_got_ip
                else StaConnState.CONNECTED_NO_IP,
                softap_conn_count=0,
                bssid=":".join(f"{b:02x}" for b in bssid),
                ssid_raw=ssid,
            )
        if self.sta_connecting:
            return WifiStatus(
                opmode=self.opmode,
                sta_state=StaConnState.CONNECTING,
                softap_conn_count=0,
                max_reconnects=self.config.max_retry,
            )
        return WifiStatus(
            opmode=self.opmode,
            sta_state=StaConnState.FAIL,
            softap_conn_count=0,
            end_reason=self.disconnect_reason,
            rssi=self.disconnect_rssi,
        )

    async def _send_report(self) -> None:
        await self.send_message(
            FrameType.DATA, DataSubtype.WIFI_REP, encode_wifi_status(self.current_status())
        )

    async def _scan(self) -> None:
        if self.config.faults.scan_error:
            await self.send_error(ErrorCode.WIFI_SCAN_FAIL)
            return
        await asyncio.sleep(self.config.scan_delay)
        found = [(ap.ssid_raw, ap.rssi) for ap in self.config.networks if ap.visible]
        if not found:
            _LOGGER.debug("Nothing AP found")
            return
        if self.ble_connected:
            await self.send_message(FrameType.DATA, DataSubtype.WIFI_LIST, encode_wifi_list(found))

    async def drop_link(self) -> None:
        """Disconnect the central (device-initiated)."""
        if self.ble_connected:
            await self._drop()


def _read_params(blob: bytes) -> tuple[bytes, bytes, bytes]:
    """``mbedtls_dhm_read_params``-like parse of ``len(p) p len(g) g len(A) A``."""
    out: list[bytes] = []
    pos = 0
    for _ in range(3):
        if pos + 2 > len(blob):
            raise ValueError("short DH parameter blob")
        n = int.from_bytes(blob[pos : pos + 2], "big")
        value = blob[pos + 2 : pos + 2 + n]
        if n == 0 or len(value) != n:
            raise ValueError("bad DH parameter length")
        out.append(value)
        pos += 2 + n
    return out[0], out[1], out[2]


def _device_dh(p: int, g: int, peer: bytes, private: int, size: int) -> tuple[bytes, bytes] | None:
    """Device key pair and zero-padded shared secret (None if the peer value is bad)."""
    y = int.from_bytes(peer, "big")
    if not 1 < y < p - 1 or g < 2:
        return None
    # stepwise, so that the emulated device (same process) does not freeze the event loop
    public = modexp(g, private, p).to_bytes(size, "big")
    secret = modexp(y, private, p).to_bytes(size, "big")
    return public, secret


class Esp32BlufiEmulator(EmulatedPeripheral):
    """An ESP32 running the BluFi example, on the bench radio.

    ``profile`` is ``"v5.5"`` (BluFi 1.3, V1) or ``"v6.0"`` (BluFi 1.4, V2), or a
    :class:`BlufiProfile`; everything else is in ``config``. ``model`` holds the device state
    and the records (``model.writes``, ``model.notifications``, ``model.fields`` ...).
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
        """Create the emulator (advertising ``config.name`` and 0xFFFF)."""
        config = config or BlufiDeviceConfig()
        if profile is not None:
            config.profile = PROFILES[profile] if isinstance(profile, str) else profile
        super().__init__(
            address=address,
            name=config.name,
            service_uuids=[SERVICE_UUID],
            max_mtu=max_mtu,
        )
        self.model = BlufiDeviceModel(
            config, send=self._send_notification, drop=self.disconnect, mtu=lambda: self.mtu
        )

    async def _send_notification(self, value: bytes) -> None:
        await self.notify(NOTIFY_CHAR_UUID, value)

    def on_connect(self, connection: Connection) -> None:
        """Reset the BluFi link state (``blufi_env``) on connect."""
        self.model.on_connect()

    def on_disconnect(self, connection: Connection, reason: int) -> None:
        """Reset the BluFi link state on disconnect."""
        self.model.on_disconnect()

    def on_write(self, char_uuid: str, value: bytes, connection: Connection) -> None:
        """Hand FF01 writes to the device model."""
        self.model.write(char_uuid, value)

    def on_read(self, char_uuid: str, connection: Connection) -> bytes:
        """FF02 reads return ``00``."""
        return self.model.read(char_uuid)

    async def close(self) -> None:
        """Stop the model's tasks."""
        await self.model.close()


def crc_of(data: bytes) -> int:
    """Re-export of the ESP-IDF CRC for tests."""
    return crc16(data)


__all__ = [
    "DEVICE_NAME",
    "MAX_DATA_LEN",
    "PROFILES",
    "PROFILE_V5_5",
    "PROFILE_V6_0",
    "BlufiDeviceConfig",
    "BlufiDeviceModel",
    "BlufiFaults",
    "BlufiProfile",
    "Esp32BlufiEmulator",
    "WifiAp",
    "crc_of",
]
