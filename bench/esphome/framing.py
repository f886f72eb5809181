"""ESPHome native API plaintext framing: varints and frames (server side).

A plaintext frame is ``0x00`` (preamble), a varint with the payload length (the type id is not
counted), a varint with the message type id, then the protobuf payload. Varints are LEB128
(7 bits per byte, least significant group first, continuation bit ``0x80``). An empty message
is three bytes: ``00 00 <id>``.

A first byte of ``0x01`` is the preamble of a Noise (encrypted) frame; any other byte is not
the API at all. A plaintext-only server cannot answer either: :class:`FrameDecoder` raises
:class:`NoiseFrameError` / :class:`PreambleError` and the connection is closed.
"""

from __future__ import annotations

from dataclasses import dataclass

PLAINTEXT_PREAMBLE = 0x00
NOISE_PREAMBLE = 0x01
MAX_VARINT_BYTES = 5
"""Lengths and type ids are uint32 on the wire: five 7-bit groups at most."""
MAX_PAYLOAD = 1 << 20
"""A bound for a frame's declared length (real payloads are a few kB at most)."""


class FramingError(Exception):
    """The byte stream is not a valid plaintext API stream (close the connection)."""


class PreambleError(FramingError):
    """A frame does not start with the plaintext preamble ``0x00``."""

    def __init__(self, byte: int) -> None:
        """Keep the offending byte."""
        super().__init__(f"invalid frame preamble 0x{byte:02X} (plaintext frames start with 0x00)")
        self.byte = byte


class NoiseFrameError(PreambleError):
    """A frame starts with ``0x01``: the client speaks the Noise (encrypted) protocol."""


class VarintError(FramingError):
    """A varint is longer than a uint32 allows."""


def encode_varint(value: int) -> bytes:
    """Encode a non-negative integer as a LEB128 varint."""
    if value < 0:
        msg = f"varints encode non-negative integers, not {value}"
        raise ValueError(msg)
    out = bytearray()
    while True:
        group = value & 0x7F
        value >>= 7
        if value:
            out.append(group | 0x80)
        else:
            out.append(group)
            return bytes(out)


def decode_varint(data: bytes | bytearray, offset: int = 0) -> tuple[int, int] | None:
    """Decode the varint at ``offset``: ``(value, next offset)``, or None when incomplete.

    Raises :class:`VarintError` when more than :data:`MAX_VARINT_BYTES` bytes carry the
    continuation bit.
    """
    value = 0
    shift = 0
    for index in range(offset, min(len(data), offset + MAX_VARINT_BYTES)):
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index + 1
        shift += 7
    if len(data) - offset >= MAX_VARINT_BYTES:
        msg = f"varint longer than {MAX_VARINT_BYTES} bytes"
        raise VarintError(msg)
    return None


def encode_frame(msg_type: int, payload: bytes) -> bytes:
    """Build one plaintext frame."""
    return b"\x00" + encode_varint(len(payload)) + encode_varint(msg_type) + payload


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: the message type id and its protobuf payload."""

    msg_type: int
    payload: bytes


class FrameDecoder:
    """Incremental decoder: ``feed(data)`` returns the frames completed by ``data``.

    After a :class:`FramingError` the stream cannot be resynchronised; the caller closes it.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        """Start with an empty buffer."""
        self._buffer = bytearray()
        self._max_payload = max_payload

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        """Append ``data``; return every frame now complete, in order."""
        self._buffer += data
        frames: list[Frame] = []
        while self._buffer:
            frame = self._next_frame()
            if frame is None:
                break
            frames.append(frame)
        return frames

    def _next_frame(self) -> Frame | None:
        buffer = self._buffer
        preamble = buffer[0]
        if preamble == NOISE_PREAMBLE:
            raise NoiseFrameError(preamble)
        if preamble != PLAINTEXT_PREAMBLE:
            raise PreambleError(preamble)
        length = decode_varint(buffer, 1)
        if length is None:
            return None
        size, offset = length
        if size > self._max_payload:
            msg = f"frame of {size} bytes exceeds the {self._max_payload}-byte bound"
            raise FramingError(msg)
        msg_type = decode_varint(buffer, offset)
        if msg_type is None:
            return None
        type_id, offset = msg_type
        end = offset + size
        if len(buffer) < end:
            return None
        frame = Frame(type_id, bytes(buffer[offset:end]))
        del buffer[:end]
        return frame
