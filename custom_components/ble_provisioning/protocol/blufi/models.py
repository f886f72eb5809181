"""BluFi data models and the parsers/encoders of device payloads (spec §4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import ProvisionOutcome
from .const import (
    AP_NOT_FOUND_REASONS,
    MAX_PASSWORD_LEN,
    MAX_SSID_LEN,
    WRONG_PASSWORD_REASONS,
    DataSubtype,
    OpMode,
    SoftApAuthMode,
    StaConnState,
    WifiReason,
    wifi_reason,
)
from .errors import BlufiFrameError

#: RSSI placeholder the ESP-IDF example sends when it has none (-128).
NO_RSSI = -128
#: Unknown report TLVs kept (the rest are ignored).
MAX_UNKNOWN_TLVS = 16
#: Networks kept from one Wi-Fi list (the rest are ignored).
MAX_NETWORKS = 255


@dataclass(frozen=True, slots=True)
class BlufiVersion:
    """BluFi protocol version reported by the device."""

    major: int
    minor: int

    def __str__(self) -> str:
        """``major.minor``."""
        return f"{self.major}.{self.minor}"

    @property
    def as_tuple(self) -> tuple[int, int]:
        """``(major, minor)``."""
        return (self.major, self.minor)

    @classmethod
    def parse(cls, payload: bytes) -> BlufiVersion:
        """Parse the 2-byte REPLY_VERSION payload."""
        if len(payload) != 2:
            raise BlufiFrameError(f"version payload must be 2 bytes, got {len(payload)}")
        return cls(payload[0], payload[1])

    @classmethod
    def from_text(cls, text: str) -> BlufiVersion | None:
        """Parse ``"major.minor"`` (as :meth:`__str__` writes it); None if it is not one."""
        major, dot, minor = text.strip().partition(".")
        if not dot or not major.isdigit() or not minor.isdigit():
            return None
        if int(major) > 0xFF or int(minor) > 0xFF:
            return None
        return cls(int(major), int(minor))


def _enum_or_int[E: (OpMode, StaConnState, SoftApAuthMode)](
    enum_type: type[E], value: int
) -> E | int:
    try:
        return enum_type(value)
    except ValueError:
        return value


def format_bssid(raw: bytes) -> str:
    """``aa:bb:cc:dd:ee:ff``."""
    return ":".join(f"{b:02x}" for b in raw)


@dataclass(frozen=True, slots=True)
class WifiStatus:
    """Decoded Wi-Fi connection state report (data 0x0F), every TLV included."""

    opmode: OpMode | int
    sta_state: StaConnState | int
    softap_conn_count: int
    bssid: str | None = None
    ssid_raw: bytes | None = None
    password: bytes | None = field(default=None, repr=False)
    softap_ssid_raw: bytes | None = None
    softap_password: bytes | None = field(default=None, repr=False)
    softap_auth_mode: SoftApAuthMode | int | None = None
    softap_max_conn: int | None = None
    softap_channel: int | None = None
    max_reconnects: int | None = None
    end_reason: WifiReason | int | None = None
    rssi: int | None = None
    unknown_tlvs: tuple[tuple[int, bytes], ...] = ()

    @property
    def ssid(self) -> str | None:
        """STA SSID as text (invalid UTF-8 replaced)."""
        return None if self.ssid_raw is None else self.ssid_raw.decode("utf-8", "replace")

    @property
    def softap_ssid(self) -> str | None:
        """SoftAP SSID as text."""
        if self.softap_ssid_raw is None:
            return None
        return self.softap_ssid_raw.decode("utf-8", "replace")

    @property
    def is_connected(self) -> bool:
        """STA connected (with or without IP)."""
        return self.sta_state in (StaConnState.CONNECTED, StaConnState.CONNECTED_NO_IP)

    @classmethod
    def parse(cls, payload: bytes) -> WifiStatus:
        """Parse ``opmode, sta_state, softap_conn, TLV*`` (§4.1)."""
        if len(payload) < 3:
            raise BlufiFrameError(f"Wi-Fi report too short: {len(payload)} bytes")
        values: dict[str, object] = {}
        unknown: list[tuple[int, bytes]] = []
        pos = 3
        while pos < len(payload):
            if pos + 2 > len(payload):
                raise BlufiFrameError("truncated TLV header in Wi-Fi report")
            tlv_type, tlv_len = payload[pos], payload[pos + 1]
            value = payload[pos + 2 : pos + 2 + tlv_len]
            if len(value) != tlv_len:
                raise BlufiFrameError("truncated TLV value in Wi-Fi report")
            pos += 2 + tlv_len
            _parse_tlv(tlv_type, value, values, unknown)
        return cls(
            opmode=_enum_or_int(OpMode, payload[0]),
            sta_state=_enum_or_int(StaConnState, payload[1]),
            softap_conn_count=payload[2],
            unknown_tlvs=tuple(unknown),
            **values,  # type: ignore[arg-type]
        )


def _one_byte(tlv_type: int, value: bytes) -> int:
    if len(value) != 1:
        raise BlufiFrameError(f"TLV 0x{tlv_type:02x} must be 1 byte, got {len(value)}")
    return value[0]


def _bounded(tlv_type: int, value: bytes, limit: int) -> bytes:
    if len(value) > limit:
        raise BlufiFrameError(f"TLV 0x{tlv_type:02x} longer than {limit} bytes: {len(value)}")
    return bytes(value)


def _parse_tlv(
    tlv_type: int, value: bytes, values: dict[str, object], unknown: list[tuple[int, bytes]]
) -> None:
    match tlv_type:
        case DataSubtype.STA_BSSID:
            if len(value) != 6:
                raise BlufiFrameError(f"BSSID TLV must be 6 bytes, got {len(value)}")
            values["bssid"] = format_bssid(value)
        case DataSubtype.STA_SSID:
            values["ssid_raw"] = _bounded(tlv_type, value, MAX_SSID_LEN)
        case DataSubtype.STA_PASSWD:
            values["password"] = _bounded(tlv_type, value, MAX_PASSWORD_LEN)
        case DataSubtype.SOFTAP_SSID:
            values["softap_ssid_raw"] = _bounded(tlv_type, value, MAX_SSID_LEN)
        case DataSubtype.SOFTAP_PASSWD:
            values["softap_password"] = _bounded(tlv_type, value, MAX_PASSWORD_LEN)
        case DataSubtype.SOFTAP_AUTH_MODE:
            values["softap_auth_mode"] = _enum_or_int(SoftApAuthMode, _one_byte(tlv_type, value))
        case DataSubtype.SOFTAP_MAX_CONN_NUM:
            values["softap_max_conn"] = _one_byte(tlv_type, value)
        case DataSubtype.SOFTAP_CHANNEL:
            values["softap_channel"] = _one_byte(tlv_type, value)
        case DataSubtype.STA_MAX_CONN_RETRY:
            values["max_reconnects"] = _one_byte(tlv_type, value)
        case DataSubtype.STA_CONN_END_REASON:
            values["end_reason"] = wifi_reason(_one_byte(tlv_type, value))
        case DataSubtype.STA_CONN_RSSI:
            raw = _one_byte(tlv_type, value)
            values["rssi"] = raw - 256 if raw >= 128 else raw
        case _ if len(unknown) < MAX_UNKNOWN_TLVS:
            unknown.append((tlv_type, bytes(value)))


@dataclass(frozen=True, slots=True)
class WifiNetwork:
    """One access point from the device's Wi-Fi scan."""

    ssid_raw: bytes
    rssi: int

    @property
    def ssid(self) -> str:
        """SSID as text (invalid UTF-8 replaced)."""
        return self.ssid_raw.decode("utf-8", "replace")


def parse_wifi_list(payload: bytes) -> list[WifiNetwork]:
    """Parse ``([L][rssi:int8][ssid: L-1])*`` (§4.2): SSIDs > 32 bytes are malformed.

    At most :data:`MAX_NETWORKS` networks are returned (the rest of the list is checked).
    """
    networks: list[WifiNetwork] = []
    pos = 0
    while pos < len(payload):
        length = payload[pos]
        if length < 1:
            raise BlufiFrameError("Wi-Fi list record with zero length")
        if length - 1 > MAX_SSID_LEN:
            raise BlufiFrameError(f"Wi-Fi list SSID longer than {MAX_SSID_LEN} bytes")
        if pos + 1 + length > len(payload):
            raise BlufiFrameError("truncated Wi-Fi list record")
        raw_rssi = payload[pos + 1]
        ssid = bytes(payload[pos + 2 : pos + 1 + length])
        if len(networks) < MAX_NETWORKS:
            networks.append(WifiNetwork(ssid, raw_rssi - 256 if raw_rssi >= 128 else raw_rssi))
        pos += 1 + length
    return networks


@dataclass(frozen=True, slots=True)
class SoftApConfig:
    """SoftAP settings (each field optional; sent in the Android order)."""

    ssid: str | bytes | None = None
    password: str | bytes | None = field(default=None, repr=False)
    channel: int | None = None
    max_connections: int | None = None
    auth_mode: SoftApAuthMode | None = None


def outcome_for_reason(reason: WifiReason | int | None) -> ProvisionOutcome:
    """Map a connection end reason to an outcome (documented in the README)."""
    if reason in WRONG_PASSWORD_REASONS:
        return ProvisionOutcome.WRONG_PASSWORD
    if reason in AP_NOT_FOUND_REASONS:
        return ProvisionOutcome.NETWORK_NOT_FOUND
    return ProvisionOutcome.CONNECTION_FAILED


@dataclass(frozen=True, slots=True)
class ProvisionResult:
    """What the device really did after :meth:`AsyncBlufiClient.provision`."""

    outcome: ProvisionOutcome
    ssid: str | None = None
    bssid: str | None = None
    rssi: int | None = None
    end_reason: WifiReason | int | None = None
    status: WifiStatus | None = None

    @property
    def success(self) -> bool:
        """The device joined the network (or started the SoftAP)."""
        return self.outcome.success
