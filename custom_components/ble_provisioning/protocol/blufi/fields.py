"""Caller input → BluFi data fields, checked before anything is sent.

SSIDs and passwords are checked with :data:`~..limits.BLUFI_LIMITS` (what ESP-IDF's example
accepts: SSID 1-31 bytes, password empty or 8-63 bytes). An empty password sends **no**
password frame: the example raises its auth threshold to WPA2-PSK on any password frame, even
an empty one, and then refuses an open access point (reason 211). Every failure is an
:class:`~..errors.InvalidInputError` with ``field`` and ``reason``.
"""

from __future__ import annotations

from ..errors import InvalidInputError
from ..limits import BLUFI_LIMITS, SOFTAP_CHANNELS, SOFTAP_MAX_CONNECTIONS, check_bssid
from .const import MAX_MESSAGE_LEN, DataSubtype, OpMode, SoftApAuthMode
from .models import SoftApConfig

Field = tuple[DataSubtype, bytes]


def check_opmode(mode: OpMode | int) -> OpMode:
    """Return ``mode`` as an :class:`OpMode` (the example aborts on an unknown value)."""
    try:
        return OpMode(mode)
    except ValueError:
        raise InvalidInputError(
            f"unknown opmode {mode!r}", field="mode", reason="invalid_mode"
        ) from None


def sta_fields(
    ssid: str | bytes, password: str | bytes | None, bssid: str | bytes | None = None
) -> list[Field]:
    """``[STA_BSSID] STA_SSID [STA_PASSWD]``: no password frame for an open network."""
    fields: list[Field] = []
    if bssid is not None:
        fields.append((DataSubtype.STA_BSSID, check_bssid(bssid)))
    fields.append((DataSubtype.STA_SSID, BLUFI_LIMITS.check_ssid(ssid)))
    raw_password = BLUFI_LIMITS.check_password(password)
    if raw_password:
        fields.append((DataSubtype.STA_PASSWD, raw_password))
    return fields


def _number(value: int, allowed: range, field: str, what: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise InvalidInputError(
            f"{what} must be {allowed.start}-{allowed.stop - 1}",
            field=field,
            reason=f"invalid_{field}",
        )
    return bytes((value,))


def softap_fields(config: SoftApConfig) -> list[Field]:
    """Return the SoftAP fields that are set, in the official clients' order."""
    fields: list[Field] = []
    if config.ssid is not None:
        ssid = BLUFI_LIMITS.check_ssid(config.ssid, "softap_ssid")
        fields.append((DataSubtype.SOFTAP_SSID, ssid))
    if config.password is not None:
        password = BLUFI_LIMITS.check_password(config.password, "softap_password")
        if password:
            fields.append((DataSubtype.SOFTAP_PASSWD, password))
    if config.channel is not None:
        channel = _number(config.channel, SOFTAP_CHANNELS, "softap_channel", "SoftAP channel")
        fields.append((DataSubtype.SOFTAP_CHANNEL, channel))
    if config.max_connections is not None:
        count = _number(
            config.max_connections,
            SOFTAP_MAX_CONNECTIONS,
            "softap_max_connections",
            "SoftAP max connections",
        )
        fields.append((DataSubtype.SOFTAP_MAX_CONN_NUM, count))
    if config.auth_mode is not None:
        try:
            mode = SoftApAuthMode(config.auth_mode)
        except ValueError:
            raise InvalidInputError(
                "unknown SoftAP auth mode",
                field="softap_auth_mode",
                reason="invalid_softap_auth_mode",
            ) from None
        fields.append((DataSubtype.SOFTAP_AUTH_MODE, bytes((mode,))))
    return fields


def blob(value: str | bytes | bytearray | memoryview, field: str, *, text: bool = False) -> bytes:
    """Opaque data of at most 65 535 bytes (``text``: a str is sent as UTF-8)."""
    if text and isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidInputError(f"{field} must be bytes", field=field, reason="invalid_data")
    raw = bytes(value)
    if len(raw) > MAX_MESSAGE_LEN:
        raise InvalidInputError(
            f"{field} longer than {MAX_MESSAGE_LEN} bytes", field=field, reason="data_too_long"
        )
    return raw
