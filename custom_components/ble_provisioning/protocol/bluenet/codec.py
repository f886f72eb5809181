"""Pure encoding, decoding and validation for the Bluenet profile (no I/O).

Every decoder raises only :class:`~.errors.BluenetDecodeError` on malformed input, and every
validator raises only :class:`~.errors.InvalidCredentialsError` or
:class:`~.errors.ValueTooLongError`.
No message ever contains the password.
"""

from __future__ import annotations

import string
import unicodedata

from .const import (
    ATT_HEADER_SIZE,
    MAX_PASSPHRASE_CHARS,
    MAX_SSID_BYTES,
    MIN_PASSPHRASE_CHARS,
    RAW_PSK_HEX_DIGITS,
    BluenetState,
)
from .errors import BluenetDecodeError, InvalidCredentialsError, ValueTooLongError
from .models import ConnectionState

_HEX_DIGITS = frozenset(string.hexdigits)
#: A cut UTF-8 sequence is at most 3 bytes long (a full sequence is at most 4).
_MAX_CUT_UTF8 = 3


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BluenetDecodeError(f"expected bytes, got {type(data).__name__}")
    return bytes(data)


def decode_text(data: bytes | bytearray | memoryview, *, truncated: bool = False) -> str:
    """Decode a UTF-8 value strictly.

    When ``truncated`` is True the value was cut at ``mtu - 3`` bytes, possibly in the middle of a
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


def decode_connection_state(data: bytes | bytearray | memoryview) -> ConnectionState:
    """Decode a connection state payload (characteristic ``…1525``).

    Byte 0 is the state (0 down, 1 disconnected, 2 connecting, 3 connected); the SSID follows as
    UTF-8. An empty SSID is returned as ``None``.
    """
    raw = _as_bytes(data)
    if not raw:
        raise BluenetDecodeError("empty connection state payload")
    try:
        state = BluenetState(raw[0])
    except ValueError:
        raise BluenetDecodeError(f"unknown connection state {raw[0]}") from None
    ssid = decode_text(raw[1:]) if len(raw) > 1 else ""
    return ConnectionState(state=state, ssid=ssid or None)


def decode_network(data: bytes | bytearray | memoryview) -> str:
    """Decode one available-network notification (characteristic ``…1524``).

    Returns the SSID, possibly ``""`` (hidden network; callers skip it). Raises
    :class:`BluenetDecodeError` for invalid UTF-8 or an SSID longer than 32 bytes.
    """
    raw = _as_bytes(data)
    if len(raw) > MAX_SSID_BYTES:
        raise BluenetDecodeError(f"SSID notification of {len(raw)} bytes (max {MAX_SSID_BYTES})")
    return decode_text(raw)


def encode_connection_state(state: ConnectionState) -> bytes:
    """Encode a state the way the daemon does (the SSID only when not DISCONNECTED)."""
    if state.state is not BluenetState.DISCONNECTED and state.ssid:
        return bytes([state.state]) + state.ssid.encode("utf-8")
    return bytes([state.state])


def encode_ssid(ssid: str) -> bytes:
    """Validate and encode an SSID: 1-32 bytes of UTF-8, no NUL character."""
    if not isinstance(ssid, str):
        raise InvalidCredentialsError("SSID must be a string")
    try:
        raw = ssid.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidCredentialsError("SSID is not encodable as UTF-8") from None
    if not 1 <= len(raw) <= MAX_SSID_BYTES:
        raise InvalidCredentialsError(
            f"SSID must be 1 to {MAX_SSID_BYTES} bytes of UTF-8 (got {len(raw)})"
        )
    if "\x00" in ssid:
        raise InvalidCredentialsError("SSID must not contain a NUL character")
    return raw


def encode_password(password: str | None) -> bytes:
    """Validate and encode a password; the message of an error never contains it.

    Accepted: ``None`` or ``""`` (open network, a zero-length write); a WPA passphrase of 8-63
    characters that is also at most 63 bytes of UTF-8 and has no control characters; or a raw PSK
    of exactly 64 hexadecimal digits. Anything else would freeze the real daemon (its join thread
    dies on NetworkManager's refusal), so it is refused before anything is written.
    """
    if password is None:
        return b""
    if not isinstance(password, str):
        raise InvalidCredentialsError("password must be a string or None")
    if password == "":
        return b""
    try:
        raw = password.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidCredentialsError("password is not encodable as UTF-8") from None
    if len(password) == RAW_PSK_HEX_DIGITS:
        if all(char in _HEX_DIGITS for char in password):
            return raw
        raise InvalidCredentialsError(
            f"a {RAW_PSK_HEX_DIGITS}-character password must be a raw PSK of hexadecimal digits"
        )
    if not MIN_PASSPHRASE_CHARS <= len(password) <= MAX_PASSPHRASE_CHARS:
        raise InvalidCredentialsError(
            f"password must be empty (open network), {MIN_PASSPHRASE_CHARS}-"
            f"{MAX_PASSPHRASE_CHARS} characters, or {RAW_PSK_HEX_DIGITS} hexadecimal digits "
            f"(got {len(password)} characters)"
        )
    if len(raw) > MAX_PASSPHRASE_CHARS:
        raise InvalidCredentialsError(
            f"password must be at most {MAX_PASSPHRASE_CHARS} bytes of UTF-8 (got {len(raw)})"
        )
    if any(unicodedata.category(char) == "Cc" for char in password):
        raise InvalidCredentialsError("password must not contain control characters")
    return raw


def validate_credentials(ssid: str, password: str | None) -> tuple[bytes, bytes]:
    """Validate both values and return their encoded forms (SSID, credentials)."""
    return encode_ssid(ssid), encode_password(password)


def max_payload(mtu: int) -> int:
    """Largest value one ATT packet carries for this MTU."""
    return max(mtu - ATT_HEADER_SIZE, 0)


def check_fits(raw: bytes, mtu: int, what: str) -> None:
    """Raise :class:`ValueTooLongError` if ``raw`` needs more than one ATT write.

    ``what`` names the value in the message; the value itself is never included.
    """
    limit = max_payload(mtu)
    if len(raw) > limit:
        raise ValueTooLongError(
            f"{what} is {len(raw)} bytes but the ATT MTU {mtu} allows {limit} per write; "
            "the daemon ignores write offsets, so it is not sent"
        )
