"""Pure encoding and decoding for the Bluenet profile (no I/O).

Every decoder raises only :class:`~.errors.BluenetDecodeError` on malformed input. The input
limits (SSID and password) are :data:`..limits.BLUENET_LIMITS`, defined once for the whole
project; this module only encodes what passed them. No message ever contains the password.

What BlueZ does to the daemon's values on air (the daemon ignores read and write offsets):

* a notification carries the first ``ATT_MTU - 3`` bytes of the value;
* a Read Response carries its first ``ATT_MTU - 1`` bytes, and a central's long read (Read Blob
  requests) gets those same bytes again and again, until 512 bytes (BlueZ) or more;
* a write longer than ``ATT_MTU - 3`` bytes becomes a long (prepared) write, which the daemon
  would store corrupted.

A value that fills its packet is therefore *truncated*: a character cut in half at its end is
dropped and the rest decoded (:func:`decode_text`).
"""

from __future__ import annotations

from ..limits import BLUENET_LIMITS
from .const import MAX_READ_LENGTH, NOTIFICATION_HEADER, READ_HEADER, BluenetState
from .errors import BluenetDecodeError, ValueTooLongError
from .models import ConnectionState

#: A cut UTF-8 sequence is at most 3 bytes long (a full sequence is at most 4).
_MAX_CUT_UTF8 = 3


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BluenetDecodeError(f"expected bytes, got {type(data).__name__}")
    return bytes(data)


def notification_capacity(att_mtu: int) -> int:
    """Bytes of value one notification carries at ``att_mtu``."""
    return max(att_mtu - NOTIFICATION_HEADER, 0)


def read_capacity(att_mtu: int) -> int:
    """Bytes of value one Read Response carries at ``att_mtu``."""
    return max(att_mtu - READ_HEADER, 0)


def decode_text(data: bytes | bytearray | memoryview, *, truncated: bool = False) -> str:
    """Decode a UTF-8 value strictly.

    When ``truncated`` is True the value was cut at a packet's end, possibly in the middle of a
    multi-byte character: an incomplete trailing sequence (at most 3 bytes) is dropped. Anything
    else that is not valid UTF-8 raises :class:`BluenetDecodeError`.
    """
    raw = _as_bytes(data)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        if truncated:
            for cut in range(1, min(_MAX_CUT_UTF8, len(raw)) + 1):
                try:
                    return raw[:-cut].decode("utf-8")
                except UnicodeDecodeError:
                    continue
        raise BluenetDecodeError(f"value is not valid UTF-8 (byte {err.start})") from None


def _check_ssid_length(raw: bytes, what: str) -> None:
    limit = BLUENET_LIMITS.ssid_max_bytes
    if len(raw) > limit:
        raise BluenetDecodeError(f"{what} carries an SSID of {len(raw)} bytes (max {limit})")


def decode_connection_state(
    data: bytes | bytearray | memoryview, *, truncated: bool = False
) -> ConnectionState:
    """Decode a connection state payload (characteristic ``…1525``).

    Byte 0 is the state (0 down, 1 disconnected, 2 connecting, 3 connected); the SSID follows as
    UTF-8. An empty SSID is returned as ``None``. ``truncated``: the payload filled its packet,
    so the SSID may be cut (see :attr:`ConnectionState.ssid_truncated`). An SSID over 32 bytes,
    which NetworkManager never stores, raises :class:`BluenetDecodeError`.
    """
    raw = _as_bytes(data)
    if not raw:
        raise BluenetDecodeError("empty connection state payload")
    try:
        state = BluenetState(raw[0])
    except ValueError:
        raise BluenetDecodeError(f"unknown connection state {raw[0]}") from None
    ssid_raw = raw[1:]
    _check_ssid_length(ssid_raw, "connection state")
    ssid = decode_text(ssid_raw, truncated=truncated) if ssid_raw else ""
    return ConnectionState(
        state=state, ssid=ssid or None, ssid_truncated=truncated and bool(ssid_raw)
    )


def decode_network(data: bytes | bytearray | memoryview, *, truncated: bool = False) -> str:
    """Decode one available-network notification (characteristic ``…1524``).

    Returns the SSID, possibly ``""`` (hidden network; callers skip it). Raises
    :class:`BluenetDecodeError` for invalid UTF-8 or an SSID longer than 32 bytes. When
    ``truncated`` (the notification filled its packet), a character cut at the end is dropped.
    """
    raw = _as_bytes(data)
    _check_ssid_length(raw, "network notification")
    return decode_text(raw, truncated=truncated)


def read_value(data: bytes | bytearray | memoryview, att_mtu: int) -> tuple[bytes, bool]:
    """Return the value a read got from the daemon, and whether it may be truncated.

    One Read Response carries ``ATT_MTU - 1`` bytes; when it is full, the central reads on with
    Read Blob requests, which the daemon answers from offset 0 again: the result is the first
    packet repeated. That repetition is undone here and the value marked truncated. A device
    that honours offsets returns the whole value (truncated only at BlueZ's 512 bytes).
    """
    raw = _as_bytes(data)
    chunk = read_capacity(att_mtu)
    if chunk and len(raw) >= chunk:
        rest = raw[chunk : 2 * chunk]
        if not rest or raw.startswith(rest):
            return raw[:chunk], True
    return raw, len(raw) >= MAX_READ_LENGTH


def encode_connection_state(state: ConnectionState) -> bytes:
    """Encode a state the way the daemon does (the SSID only when not DISCONNECTED)."""
    if state.state is not BluenetState.DISCONNECTED and state.ssid:
        return bytes([state.state]) + state.ssid.encode("utf-8")
    return bytes([state.state])


def check_fits(raw: bytes, limit: int, what: str) -> None:
    """Raise :class:`ValueTooLongError` if ``raw`` needs more than one ATT write of ``limit``.

    ``limit`` is the link's largest single write (``GattLink.max_value_length``). ``what``
    names the value in the message; the value itself is never included.
    """
    if len(raw) > limit:
        raise ValueTooLongError(
            f"{what} is {len(raw)} bytes but the link allows {limit} per write; "
            "the daemon ignores write offsets, so it is not sent"
        )
