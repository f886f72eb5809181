"""The BluFi wire layer, device side, as ESP-IDF's ``blufi_prf.c`` implements it.

Written from the spec (``blufi-protocol.md`` §1-§3) and the device code, not from the client:

* :func:`crc16_be` is ``esp_crc16_be`` (CRC-16/CCITT, table-driven, MSB first, the running
  value inverted on entry and exit), over ``seq ‖ data_len ‖ plaintext data``;
* :func:`receive` is ``btc_blufi_recv_handler``: header and strict length check (error 0x09,
  no sequence advance), exact sequence check (error 0x00, no advance), then the sequence
  advances, the frame is decrypted (0x02 on failure), its CRC checked (0x01), acknowledged when
  asked, and reassembled (the total length is read from the first fragment only);
* :func:`encap` is ``btc_blufi_send_encap``: fragments carry at most ``frag_size`` content
  bytes after the 2-byte *remaining* length, every frame takes the next send sequence number,
  control frames are checksummed on ``sec_mode & 0x10`` and never encrypted, data frames are
  checksummed on ``sec_mode & 0x01`` and encrypted on ``sec_mode & 0x02``, NEG and ERROR_INFO
  never.

:class:`BlufiEnv` is ``blufi_env``: per-link sequence numbers, ``sec_mode`` and the
reassembly buffer, and ``frag_size``, which only the MTU-exchange event changes (it survives
disconnects, as in the Bluedroid and NimBLE glue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from custom_components.ble_provisioning.protocol.blufi.const import (
    DataSubtype,
    ErrorCode,
    FrameControl,
    FrameType,
    SecurityMode,
)

HEADER_LEN = 4
MAX_DATA_LEN = 255
"""One data-length byte: 255 data bytes per frame, in both directions."""
DEFAULT_MTU = 23
MTU_RESERVED_SIZE = HEADER_LEN + 2 + 2 + 3
"""``BLUFI_MTU_RESERVED_SIZE``: header, total length, checksum and the ATT header."""
DEFAULT_FRAG_SIZE = DEFAULT_MTU - MTU_RESERVED_SIZE
"""``BLUFI_FRAG_DATA_DEFAULT_LEN``: 12 content bytes per fragment until an MTU exchange."""
MAX_MESSAGE_LEN = 0xFFFF

TYPE_NEG = (DataSubtype.NEG << 2) | FrameType.DATA
TYPE_ERROR_INFO = (DataSubtype.ERROR_INFO << 2) | FrameType.DATA


def build_type(frame_type: int, subtype: int) -> int:
    """``BLUFI_BUILD_TYPE``: ``(subtype << 2) | type``."""
    return ((subtype & 0x3F) << 2) | (frame_type & 0x03)


def _crc_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        crc = index << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16_be(crc: int, data: bytes) -> int:
    """``esp_crc16_be(crc, data, len)``: continue a CRC-16/CCITT (0 starts a new one)."""
    value = ~crc & 0xFFFF
    for byte in data:
        value = (_CRC_TABLE[(value >> 8) ^ byte] ^ (value << 8)) & 0xFFFF
    return ~value & 0xFFFF


def frame_checksum(seq: int, data: bytes) -> int:
    """Return the example's ``checksum_func``: CRC of ``seq ‖ data_len ‖ data`` (plain)."""
    return crc16_be(0, bytes((seq & 0xFF, len(data) & 0xFF)) + data)


class FrameCipher(Protocol):
    """The example's ``encrypt_func`` / ``decrypt_func``; None means the call failed."""

    def encrypt(self, iv8: int, data: bytes) -> bytes | None:
        """Encrypt the data field of a frame the device sends with sequence ``iv8``."""

    def decrypt(self, iv8: int, data: bytes) -> bytes | None:
        """Decrypt the data field of a received frame with sequence ``iv8``."""


@dataclass(slots=True)
class BlufiEnv:
    """``blufi_env``: the BluFi stack's per-link state and the fragment size."""

    is_connected: bool = False
    send_seq: int = 0
    recv_seq: int = 0
    sec_mode: int = 0
    frag_size: int = DEFAULT_FRAG_SIZE
    total_len: int = 0
    offset: int = 0
    aggr_buf: bytearray | None = None

    def on_connect(self) -> None:
        """``BTA_GATTS_CONNECT_EVT`` / ``BLE_GAP_EVENT_CONNECT``: both sequences restart."""
        self.is_connected = True
        self.send_seq = self.recv_seq = 0

    def on_disconnect(self) -> None:
        """Handle a disconnect: sequences, ``sec_mode``, reassembly reset (not frag_size)."""
        self.is_connected = False
        self.send_seq = self.recv_seq = 0
        self.sec_mode = 0
        self.offset = 0
        self.aggr_buf = None

    def on_mtu(self, mtu: int) -> None:
        """Handle the MTU-exchange event: ``frag_size = min(mtu, 255) - 11``."""
        self.frag_size = min(mtu, MAX_DATA_LEN) - MTU_RESERVED_SIZE

    def reset_aggregation(self) -> None:
        """``BLUFI_RESET_AGGR_BUF``."""
        self.aggr_buf = None
        self.offset = 0
        self.total_len = 0


@dataclass(frozen=True, slots=True)
class FrameIn:
    """What the device made of one accepted frame (for records and the vector tests)."""

    type_byte: int
    fc: int
    seq: int
    plaintext: bytes
    crc_ok: bool | None
    """None when the frame carried no checksum."""


@dataclass(frozen=True, slots=True)
class SendAck:
    """Acknowledge the frame with this sequence number (REQ_ACK was set)."""

    seq: int


@dataclass(frozen=True, slots=True)
class ReportError:
    """``btc_blufi_report_error(code)``."""

    code: int


@dataclass(frozen=True, slots=True)
class Deliver:
    """A complete message for ``btc_blufi_protocol_handler``."""

    type_byte: int
    payload: bytes


Action = SendAck | ReportError | Deliver


def receive(
    env: BlufiEnv, raw: bytes, cipher: FrameCipher | None, *, strict_length: bool = True
) -> tuple[FrameIn | None, list[Action]]:
    """Handle one GATT write to FF01 (``btc_blufi_recv_handler``).

    Returns the decoded frame (None when it was refused before decryption) and what the
    stack does next, in order.
    """
    if len(raw) < HEADER_LEN:
        return None, [ReportError(ErrorCode.DATA_FORMAT_ERROR)]
    type_byte, fc, seq, data_len = raw[0], raw[1], raw[2], raw[3]
    has_check = bool(fc & FrameControl.CHECK)
    expected = HEADER_LEN + data_len + (2 if has_check else 0)
    if len(raw) != expected and (strict_length or len(raw) < expected):
        return None, [ReportError(ErrorCode.DATA_FORMAT_ERROR)]
    if seq != env.recv_seq:
        return None, [ReportError(ErrorCode.SEQUENCE_ERROR)]
    env.recv_seq = (env.recv_seq + 1) & 0xFF
    data = bytes(raw[HEADER_LEN : HEADER_LEN + data_len])
    if fc & FrameControl.ENC:
        plain = cipher.decrypt(seq, data) if cipher is not None else None
        if plain is None or len(plain) != data_len:
            env.reset_aggregation()
            return None, [ReportError(ErrorCode.DECRYPT_ERROR)]
        data = plain
    crc_ok: bool | None = None
    if has_check:
        carried = raw[HEADER_LEN + data_len] | (raw[HEADER_LEN + data_len + 1] << 8)
        crc_ok = carried == frame_checksum(seq, data)
        if not crc_ok:
            env.reset_aggregation()
            frame = FrameIn(type_byte, fc, seq, data, crc_ok)
            return frame, [ReportError(ErrorCode.CHECKSUM_ERROR)]
    frame = FrameIn(type_byte, fc, seq, data, crc_ok)
    actions: list[Action] = []
    if fc & FrameControl.REQ_ACK:
        actions.append(SendAck(seq))
    actions.extend(_reassemble(env, type_byte, fc, data))
    return frame, actions


def _reassemble(env: BlufiEnv, type_byte: int, fc: int, data: bytes) -> list[Action]:
    if fc & FrameControl.FRAG:
        if len(data) < 2:
            env.reset_aggregation()
            return [ReportError(ErrorCode.DATA_FORMAT_ERROR)]
        payload = data[2:]
        if env.offset == 0:
            if env.aggr_buf is not None:
                # A first fragment while a buffer is allocated (e.g. after an empty one).
                env.reset_aggregation()
                return [ReportError(ErrorCode.MSG_STATE_ERROR)]
            env.total_len = data[0] | (data[1] << 8)
            if env.total_len == 0:
                return [ReportError(ErrorCode.DATA_FORMAT_ERROR)]
            env.aggr_buf = bytearray(env.total_len)
        if env.offset + len(payload) > env.total_len or env.aggr_buf is None:
            env.reset_aggregation()
            return [ReportError(ErrorCode.DATA_FORMAT_ERROR)]
        env.aggr_buf[env.offset : env.offset + len(payload)] = payload
        env.offset += len(payload)
        return []
    if env.offset > 0:
        if env.aggr_buf is None:  # pragma: no cover - the C code's defensive branch
            env.offset = 0
            return [ReportError(ErrorCode.DH_MALLOC_ERROR)]
        if env.offset + len(data) != env.total_len:
            env.reset_aggregation()
            return [ReportError(ErrorCode.DATA_FORMAT_ERROR)]
        env.aggr_buf[env.offset :] = data
        message = bytes(env.aggr_buf)
        env.offset = 0
        env.aggr_buf = None
        return [Deliver(type_byte, message)]
    env.offset = 0
    return [Deliver(type_byte, data)]


def encap(
    env: BlufiEnv, type_byte: int, data: bytes, cipher: FrameCipher | None
) -> tuple[list[bytes], int | None]:
    """Frame one message for notification (``btc_blufi_send_encap``).

    Returns the frames, in order, and an error code the stack then reports (a message over
    65 535 bytes, or a frame the cipher could not encrypt: that frame is dropped after taking
    its sequence number, as on the device).
    """
    if not env.is_connected or not data:
        return [], None
    if len(data) > MAX_MESSAGE_LEN:
        return [], ErrorCode.DATA_FORMAT_ERROR
    frames: list[bytes] = []
    remain = len(data)
    frame_type = type_byte & 0x03
    while remain > 0:
        start = len(data) - remain
        if remain > env.frag_size:
            content = data[start : start + env.frag_size]
            body = bytes((remain & 0xFF, (remain >> 8) & 0xFF)) + content
            fc = FrameControl.FRAG
        else:
            content = data[start:]
            body = content
            fc = FrameControl.NONE
        fc |= FrameControl.DIR
        seq = env.send_seq
        env.send_seq = (env.send_seq + 1) & 0xFF
        checksum: int | None = None
        if frame_type == FrameType.CTRL:
            if env.sec_mode & SecurityMode.CTRL_CHECK:
                checksum = frame_checksum(seq, body)
        elif type_byte not in (TYPE_NEG, TYPE_ERROR_INFO):
            if env.sec_mode & SecurityMode.DATA_CHECK:
                checksum = frame_checksum(seq, body)
            if env.sec_mode & SecurityMode.DATA_ENC:
                encrypted = cipher.encrypt(seq, body) if cipher is not None else None
                if encrypted is None or len(encrypted) != len(body):
                    return frames, ErrorCode.ENCRYPT_ERROR
                body = encrypted
                fc |= FrameControl.ENC
        if checksum is not None:
            fc |= FrameControl.CHECK
        frame = bytes((type_byte, int(fc), seq, len(body))) + body
        if checksum is not None:
            frame += checksum.to_bytes(2, "little")
        frames.append(frame)
        remain -= len(content)
    return frames, None
