"""Protocol-agnostic models and errors of the Home Assistant layer.

The config flow, the coordinator, the entities and the actions only see these types; the
adapters in :mod:`.device` translate the BluFi and Bluenet clients' models and errors into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .const import Protocol, SoftApAuth, WifiMode


class WifiState(StrEnum):
    """Wi-Fi state of a device (the options of the Wi-Fi state sensor)."""

    CONNECTED = "connected"
    CONNECTING = "connecting"
    DISCONNECTED = "disconnected"
    FAILED = "failed"
    UNKNOWN = "unknown"


class FailureReason(StrEnum):
    """Why the last Wi-Fi connection attempt failed (the options of the failure sensor)."""

    NONE = "none"
    WRONG_PASSWORD = "wrong_password"
    NETWORK_NOT_FOUND = "network_not_found"
    CONNECTION_FAILED = "connection_failed"
    NO_INTERNET = "no_internet"
    OTHER_UPLINK = "other_uplink"
    TIMEOUT = "timeout"


class ProvisionOutcome(StrEnum):
    """How a provisioning attempt ended."""

    CONNECTED = "connected"
    WRONG_PASSWORD = "wrong_password"
    NETWORK_NOT_FOUND = "network_not_found"
    NO_INTERNET = "no_internet"
    OTHER_UPLINK = "other_uplink"
    FAILED = "failed"
    TIMEOUT = "timeout"


OUTCOME_FAILURE_REASON: dict[ProvisionOutcome, FailureReason] = {
    ProvisionOutcome.CONNECTED: FailureReason.NONE,
    ProvisionOutcome.WRONG_PASSWORD: FailureReason.WRONG_PASSWORD,
    ProvisionOutcome.NETWORK_NOT_FOUND: FailureReason.NETWORK_NOT_FOUND,
    ProvisionOutcome.NO_INTERNET: FailureReason.NO_INTERNET,
    ProvisionOutcome.OTHER_UPLINK: FailureReason.OTHER_UPLINK,
    ProvisionOutcome.FAILED: FailureReason.CONNECTION_FAILED,
    ProvisionOutcome.TIMEOUT: FailureReason.TIMEOUT,
}


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a protocol can do; the HA layer decides on these, never on the protocol name."""

    encrypted: bool
    rssi: bool
    custom_data: bool
    disconnect_wifi: bool
    advanced_wifi: bool


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """What the device said about itself when identified."""

    protocol: Protocol
    version: str
    security_version: str | None = None
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class WifiNetwork:
    """One network seen by the device's own scan."""

    ssid: str
    rssi: int | None = None
    auth: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """Wi-Fi status read from the device."""

    state: WifiState
    ssid: str | None = None
    bssid: str | None = None
    rssi: int | None = None
    failure_reason: FailureReason = FailureReason.NONE
    end_reason_code: int | None = None
    mode: WifiMode | None = None
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class SoftApSettings:
    """SoftAP settings for BluFi's SoftAP and STA+SoftAP modes."""

    ssid: str
    password: str = field(default="", repr=False)
    channel: int | None = None
    max_connections: int | None = None
    auth: SoftApAuth = SoftApAuth.WPA2_PSK


@dataclass(frozen=True, slots=True)
class ProvisionRequest:
    """Credentials and options for one provisioning attempt."""

    ssid: str
    password: str | None = field(default=None, repr=False)
    bssid: str | None = None
    mode: WifiMode = WifiMode.STA
    softap: SoftApSettings | None = None
    allow_unencrypted: bool = False


@dataclass(frozen=True, slots=True)
class ProvisionReport:
    """The outcome of one provisioning attempt. Never holds the password."""

    outcome: ProvisionOutcome
    ssid: str
    bssid: str | None = None
    rssi: int | None = None
    end_reason_code: int | None = None
    hostname: str | None = None

    @property
    def success(self) -> bool:
        """Return True when the device joined the network."""
        return self.outcome is ProvisionOutcome.CONNECTED


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def validate_ssid(ssid: str) -> str | None:
    """Return an error key when ``ssid`` is not 1-32 bytes of UTF-8."""
    if not 1 <= len(ssid.encode("utf-8")) <= 32:
        return "invalid_ssid"
    return None


def validate_password(password: str) -> str | None:
    """Return an error key unless ``password`` is empty, 8-63 characters or 64 hex digits."""
    if not password:
        return None
    if len(password) == 64 and set(password) <= _HEX_DIGITS:
        return None
    if 8 <= len(password) <= 63 and len(password.encode("utf-8")) <= 63:
        return None
    return "invalid_password"


def validate_credentials(ssid: str, password: str) -> str | None:
    """Return the first error key of the SSID or the password, if any."""
    return validate_ssid(ssid) or validate_password(password)


def validate_bssid(bssid: str) -> str | None:
    """Return an error key unless ``bssid`` is six hex octets (``:``/``-`` separated or not)."""
    digits = bssid.replace(":", "").replace("-", "")
    if len(digits) != 12 or not set(digits) <= _HEX_DIGITS:
        return "invalid_bssid"
    return None


class DeviceError(Exception):
    """A device operation failed; ``translation_key`` names the translated message."""

    translation_key = "unknown"

    def __init__(self, message: str | None = None, *, code: int | None = None) -> None:
        """Keep an optional device error code (BluFi error reports)."""
        super().__init__(message or self.translation_key)
        self.code = code


class DeviceNotFoundError(DeviceError):
    """No connectable adapter or proxy currently sees the device."""

    translation_key = "device_not_found"


class DeviceConnectionError(DeviceError):
    """The BLE connection could not be made."""

    translation_key = "cannot_connect"


class DeviceConnectionLostError(DeviceError):
    """The BLE connection was lost during an operation."""

    translation_key = "connection_lost"


class DeviceTimeoutError(DeviceError):
    """The device did not answer in time."""

    translation_key = "timeout"


class DeviceNotSupportedError(DeviceError):
    """The device does not expose the expected provisioning service."""

    translation_key = "not_supported_device"


class DeviceSecurityError(DeviceError):
    """Security negotiation failed or is unavailable; credentials were not sent."""

    translation_key = "security_failed"


class DeviceReportedError(DeviceError):
    """The device reported an error."""

    translation_key = "device_error"


class DeviceScanError(DeviceError):
    """The device could not scan for networks."""

    translation_key = "scan_failed"


class DeviceProtocolError(DeviceError):
    """The device answered with bytes that do not follow the protocol."""

    translation_key = "protocol_error"


class DeviceInputError(DeviceError):
    """A value given by the user is invalid; nothing was sent."""

    translation_key = "invalid_input"


class OperationNotSupportedError(DeviceError):
    """The protocol has no such operation."""

    translation_key = "not_supported_operation"
