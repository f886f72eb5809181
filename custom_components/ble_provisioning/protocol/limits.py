"""Input limits of each protocol, defined once: the library, the forms and the actions read them.

A value that breaks a limit raises :class:`~.errors.InvalidInputError` before anything is sent,
with ``field`` (``ssid``, ``password``, ...) and ``reason`` (``invalid_ssid``,
``invalid_password``) set for forms. Messages never contain a password.

Per protocol:

* **BluFi** (ESP-IDF's example, which stores both in fixed, NUL-terminated buffers): SSID 1-31
  bytes (a 32-byte SSID is refused with DATA_FORMAT_ERROR), password empty (open network) or
  8-63 bytes (a 64-hex-digit PSK is refused too).
* **Bluenet** (NetworkManager behind the daemon): SSID 1-32 bytes of UTF-8 without NUL, password
  empty, an 8-63 character passphrase of at most 63 bytes, or a raw PSK of 64 hex digits.
  A passphrase with a control character, or a malformed PSK, freezes the daemon's join thread,
  so it is refused here.
"""

from __future__ import annotations

from dataclasses import dataclass
import string
import unicodedata

from .errors import InvalidInputError
from .models import Protocol

_HEX_DIGITS = frozenset(string.hexdigits)

MIN_PASSPHRASE_CHARS = 8
MAX_PASSPHRASE_BYTES = 63
RAW_PSK_HEX_DIGITS = 64

SOFTAP_CHANNELS = range(1, 14)
"""SoftAP channels ESP-IDF's BluFi example applies (it silently ignores any other)."""
SOFTAP_MAX_CONNECTIONS = range(1, 5)
"""SoftAP station counts ESP-IDF's BluFi example applies (it silently ignores any other)."""


def _as_bytes(value: str | bytes, field: str, reason: str) -> bytes:
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError(
                f"{field} is not encodable as UTF-8", field=field, reason=reason
            ) from None
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise InvalidInputError(f"{field} must be text", field=field, reason=reason)


@dataclass(frozen=True, slots=True)
class CredentialLimits:
    """What a protocol (as its reference device firmware behaves) accepts as SSID and password."""

    ssid_max_bytes: int
    raw_psk: bool
    """Whether a 64-hex-digit raw PSK is accepted as the password."""

    def check_ssid(self, ssid: str | bytes, field: str = "ssid") -> bytes:
        """Return the SSID's bytes; raise :class:`InvalidInputError` when out of limits."""
        raw = _as_bytes(ssid, field, "invalid_ssid")
        if not 1 <= len(raw) <= self.ssid_max_bytes:
            raise InvalidInputError(
                f"{field} must be 1-{self.ssid_max_bytes} bytes (got {len(raw)})",
                field=field,
                reason="invalid_ssid",
            )
        if b"\x00" in raw:
            raise InvalidInputError(
                f"{field} must not contain a NUL character", field=field, reason="invalid_ssid"
            )
        return raw

    def check_password(self, password: str | bytes | None, field: str = "password") -> bytes:
        """Return the password's bytes (empty: open network); never puts it in a message."""
        if password is None:
            return b""
        raw = _as_bytes(password, field, "invalid_password")
        if not raw:
            return raw
        if len(raw) == RAW_PSK_HEX_DIGITS and self.raw_psk:
            if all(chr(byte) in _HEX_DIGITS for byte in raw):
                return raw
            raise InvalidInputError(
                f"a {RAW_PSK_HEX_DIGITS}-character {field} must be hexadecimal (a raw PSK)",
                field=field,
                reason="invalid_password",
            )
        text = raw.decode("utf-8", errors="replace")
        if len(text) < MIN_PASSPHRASE_CHARS or len(raw) > MAX_PASSPHRASE_BYTES:
            allowed = f"empty (open network) or {MIN_PASSPHRASE_CHARS}-{MAX_PASSPHRASE_BYTES}"
            if self.raw_psk:
                allowed += f" characters, or {RAW_PSK_HEX_DIGITS} hexadecimal digits"
            else:
                allowed += " bytes"
            raise InvalidInputError(
                f"{field} must be {allowed} (got {len(raw)} bytes)",
                field=field,
                reason="invalid_password",
            )
        if any(unicodedata.category(char) == "Cc" for char in text):
            raise InvalidInputError(
                f"{field} must not contain control characters",
                field=field,
                reason="invalid_password",
            )
        return raw

    def check(self, ssid: str | bytes, password: str | bytes | None) -> tuple[bytes, bytes]:
        """Check both; return their bytes."""
        return self.check_ssid(ssid), self.check_password(password)


BLUFI_LIMITS = CredentialLimits(ssid_max_bytes=31, raw_psk=False)
BLUENET_LIMITS = CredentialLimits(ssid_max_bytes=32, raw_psk=True)

LIMITS: dict[Protocol, CredentialLimits] = {
    Protocol.BLUFI: BLUFI_LIMITS,
    Protocol.BLUENET: BLUENET_LIMITS,
}


def check_bssid(bssid: str | bytes, field: str = "bssid") -> bytes:
    """Return 6 BSSID bytes from ``aa:bb:cc:dd:ee:ff`` (``-`` or no separator) or raw bytes."""
    if isinstance(bssid, bytes | bytearray):
        if len(bssid) == 6:
            return bytes(bssid)
    elif isinstance(bssid, str):
        digits = bssid.replace(":", "").replace("-", "")
        if len(digits) == 12 and set(digits) <= _HEX_DIGITS:
            return bytes.fromhex(digits)
    raise InvalidInputError(
        f"{field} must be 6 bytes or aa:bb:cc:dd:ee:ff", field=field, reason="invalid_bssid"
    )
