"""BluFi frame codec: CRC-16, frame encode/decode, fragmentation, reassembly, sequence numbers.

Pure functions and small state machines, no I/O (spec §1.2-§1.6, §2.6, §3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from .const import (
    ATT_OVERHEAD,
    CHECKSUM_LEN,
    FRAG_PREFIX_LEN,
    HEADER_LEN,
    MAX_DATA_LEN,
    MAX_MESSAGE_LEN,
    MIN_MTU,
    ControlSubtype,
    DataSubtype,
    FrameControl,
    FrameType,
    split_type_byte,
    type_byte,
)
from .errors import BlufiChecksumError, BlufiFrameError, BlufiSecurityError, BlufiSequenceError


def _make_crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _make_crc_table()


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16 exactly as ESP-IDF's ``esp_crc16_be(crc, buf, len)`` computes it (§2.6).

    With ``crc = 0`` this is CRC-16/GENIBUS (check value 0xD64E for ``b"123456789"``).
    """
    crc = ~crc & 0xFFFF
    for byte in data:
        crc = _CRC_TABLE[((crc >> 8) ^ byte) & 0xFF] ^ ((crc << 8) & 0xFFFF)
    return ~crc & 0xFFFF


def frame_checksum(seq: int, data: bytes) -> int:
    """Checksum of a frame: CRC over ``seq ‖ data_len ‖ plaintext data``."""
    return crc16(bytes((seq & 0xFF, len(data) & 0xFF)) + data)


class FrameCipher(Protocol):
    """Encrypts/decrypts one frame's data field (V1 uses the seq as IV, V2 ignores it)."""

    def encrypt(self, seq: int, data: bytes) -> bytes:
        """Encrypt ``data`` sent with sequence number ``seq``."""

    def decrypt(self, seq: int, data: bytes) -> bytes:
        """Decrypt ``data`` received with sequence number ``seq``."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One BluFi frame with its data field in plaintext."""

    frame_type: FrameType
    subtype: int
    fc: FrameControl
    seq: int
    data: bytes = field(repr=False)

    @property
    def type_byte(self) -> int:
        """Wire type byte."""
        return type_byte(self.frame_type, self.subtype)

    @property
    def name(self) -> str:
        """Readable ``TYPE/SUBTYPE`` (never the payload)."""
        return subtype_name(self.frame_type, self.subtype)


def subtype_name(frame_type: FrameType | int, subtype: int) -> str:
    """Readable name of a type/subtype pair, for logs."""
    try:
        if frame_type == FrameType.CTRL:
            return f"CTRL/{ControlSubtype(subtype).name}"
        return f"DATA/{DataSubtype(subtype).name}"
    except ValueError:
        return f"{'CTRL' if frame_type == FrameType.CTRL else 'DATA'}/0x{subtype:02x}"


def encode_frame(frame: Frame, cipher: FrameCipher | None = None) -> bytes:
    """Serialise ``frame``: checksum the plaintext if CHECK, then encrypt if ENC."""
    data = frame.data
    if len(data) > MAX_DATA_LEN:
        raise BlufiFrameError(f"frame data too long: {len(data)} > {MAX_DATA_LEN}")
    if not 0 <= frame.seq <= 0xFF:
        raise BlufiFrameError("sequence number out of range")
    header = bytes((frame.type_byte, int(frame.fc) & 0xFF, frame.seq, len(data)))
    crc = frame_checksum(frame.seq, data) if frame.fc & FrameControl.CHECK else None
    if frame.fc & FrameControl.ENC and data:
        if cipher is None:
            raise BlufiSecurityError("ENC frame without a session key")
        data = cipher.encrypt(frame.seq, data)
    out = header + data
    if crc is not None:
        out += crc.to_bytes(2, "little")
    return out


def parse_header(raw: bytes) -> tuple[int, FrameControl, int, int]:
    """Return ``(type_byte, fc, seq, data_len)`` and check the strict write length (§3.6)."""
    if len(raw) < HEADER_LEN:
        raise BlufiFrameError(f"frame too short: {len(raw)} bytes")
    tbyte, fc_raw, seq, data_len = raw[0], raw[1], raw[2], raw[3]
    fc = FrameControl(fc_raw & 0x1F)
    expected = HEADER_LEN + data_len + (CHECKSUM_LEN if fc & FrameControl.CHECK else 0)
    if len(raw) != expected:
        raise BlufiFrameError(f"invalid frame length {len(raw)}, expected {expected}")
    return tbyte, fc, seq, data_len


def decode_frame(raw: bytes, cipher: FrameCipher | None = None) -> Frame:
    """Parse one frame: strict length check, decrypt if ENC, verify the CRC if CHECK."""
    tbyte, fc, seq, data_len = parse_header(raw)
    data = bytes(raw[HEADER_LEN : HEADER_LEN + data_len])
    if fc & FrameControl.ENC and data:
        if cipher is None:
            raise BlufiSecurityError(f"encrypted frame seq {seq} but no session key")
        data = cipher.decrypt(seq, data)
    if fc & FrameControl.CHECK:
        got = int.from_bytes(raw[HEADER_LEN + data_len :], "little")
        want = frame_checksum(seq, data)
        if got != want:
            raise BlufiChecksumError(
                f"bad checksum on frame seq {seq}: got {got:04x} want {want:04x}"
            )
    ftype, subtype = split_type_byte(tbyte)
    if ftype not in (FrameType.CTRL, FrameType.DATA):
        raise BlufiFrameError(f"unknown frame type {ftype}")
    return Frame(FrameType(ftype), subtype, fc, seq, data)


class SequenceCounter:
    """Per-direction 8-bit sequence numbers: start at 0, wrap at 256 (§3.3)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        """Start at 0."""
        self.value = 0

    def reset(self) -> None:
        """Restart at 0 (on every connection)."""
        self.value = 0

    def next(self) -> int:
        """Return the current number and advance."""
        seq = self.value
        self.value = (self.value + 1) & 0xFF
        return seq

    def check(self, seq: int) -> None:
        """Check a received number; on mismatch raise and resynchronise to ``seq + 1``."""
        expected = self.value
        self.value = (seq + 1) & 0xFF
        if seq != expected:
            raise BlufiSequenceError(f"sequence error: got {seq}, expected {expected}")


def max_data_len(mtu: int, *, checksum: bool) -> int:
    """Largest data field that keeps one frame within one ATT write (MTU - 3) and 255 bytes."""
    mtu = max(mtu, MIN_MTU)
    return min(MAX_DATA_LEN, mtu - ATT_OVERHEAD - HEADER_LEN - (CHECKSUM_LEN if checksum else 0))


def fragment(payload: bytes, max_data: int) -> Iterator[tuple[bool, bytes]]:
    """Split ``payload`` into data fields of at most ``max_data`` bytes (§3.1).

    Yields ``(more, data)``; when ``more`` the data starts with the little-endian count of
    content bytes remaining from this fragment to the end of the message.
    """
    if len(payload) > MAX_MESSAGE_LEN:
        raise BlufiFrameError(f"message too long: {len(payload)} > {MAX_MESSAGE_LEN}")
    if max_data < FRAG_PREFIX_LEN + 1:
        raise BlufiFrameError(f"fragment size too small: {max_data}")
    if len(payload) <= max_data:
        yield False, payload
        return
    chunk = max_data - FRAG_PREFIX_LEN
    offset = 0
    while len(payload) - offset > max_data:
        remaining = len(payload) - offset
        yield True, remaining.to_bytes(2, "little") + payload[offset : offset + chunk]
        offset += chunk
    yield False, payload[offset:]


@dataclass(frozen=True, slots=True)
class Message:
    """A reassembled message."""

    frame_type: FrameType
    subtype: int
    payload: bytes = field(repr=False)
    fc: FrameControl = FrameControl.NONE

    @property
    def name(self) -> str:
        """Readable ``TYPE/SUBTYPE``."""
        return subtype_name(self.frame_type, self.subtype)


class Reassembler:
    """Reassembles fragmented messages (one at a time, never interleaved)."""

    __slots__ = ("_buf", "_fc", "_total", "_type")

    def __init__(self) -> None:
        """Start empty."""
        self._buf = bytearray()
        self._type: int | None = None
        self._total = 0
        self._fc = FrameControl.NONE

    @property
    def in_progress(self) -> bool:
        """True while a fragmented message is incomplete."""
        return self._type is not None

    def reset(self) -> None:
        """Drop any partial message."""
        self._buf = bytearray()
        self._type = None
        self._total = 0

    def feed(self, frame: Frame) -> Message | None:
        """Add one frame; return the message when it is complete."""
        tbyte = frame.type_byte
        if self._type is not None and tbyte != self._type:
            self.reset()
            raise BlufiFrameError("fragment of another message type arrived mid-message")
        if frame.fc & FrameControl.FRAG:
            if len(frame.data) < FRAG_PREFIX_LEN + 1:
                self.reset()
                raise BlufiFrameError("fragment without content")
            remaining = int.from_bytes(frame.data[:2], "little")
            content = frame.data[2:]
            if self._type is None:
                self._type = tbyte
                self._total = remaining
                self._fc = frame.fc & ~FrameControl.FRAG
            elif remaining != self._total - len(self._buf):
                self.reset()
                raise BlufiFrameError("fragment remaining-length mismatch")
            if len(self._buf) + len(content) >= self._total:
                self.reset()
                raise BlufiFrameError("fragment exceeds the announced total length")
            self._buf += content
            return None
        if self._type is None:
            return Message(frame.frame_type, frame.subtype, frame.data, frame.fc)
        if len(self._buf) + len(frame.data) != self._total:
            self.reset()
            raise BlufiFrameError("last fragment does not complete the announced length")
        payload = bytes(self._buf) + frame.data
        fc = self._fc
        self.reset()
        return Message(frame.frame_type, frame.subtype, payload, fc)
