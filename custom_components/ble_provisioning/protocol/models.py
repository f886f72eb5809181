"""Protocol-agnostic models shared by the clients, the engine, the console command and HA.

Each concept is defined here once (the outcome of a provisioning above all).

No secret ever appears in a ``repr``: fields holding one are declared ``repr=False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Protocol(StrEnum):
    """The provisioning protocol a device speaks."""

    BLUFI = "blufi"
    BLUENET = "bluenet"


class WifiMode(StrEnum):
    """Wi-Fi operating mode requested from a device (Bluenet: station only)."""

    STA = "sta"
    SOFTAP = "softap"
    STA_SOFTAP = "sta_softap"


class SoftApAuth(StrEnum):
    """SoftAP authentication modes (BluFi)."""

    OPEN = "open"
    WPA_PSK = "wpa_psk"
    WPA2_PSK = "wpa2_psk"
    WPA_WPA2_PSK = "wpa_wpa2_psk"
    WPA3_PSK = "wpa3_psk"
    WPA2_WPA3_PSK = "wpa2_wpa3_psk"


class WifiState(StrEnum):
    """Wi-Fi state of a device."""

    CONNECTED = "connected"
    CONNECTING = "connecting"
    DISCONNECTED = "disconnected"
    FAILED = "failed"
    UNKNOWN = "unknown"


class ProvisionOutcome(StrEnum):
    """How a provisioning attempt ended: the one outcome enum of the whole project.

    The failure values double as the reasons of a failed Wi-Fi join reported by a status read.
    """

    CONNECTED = "connected"
    """The device joined the requested network (and, for BluFi, got an IP address)."""
    SOFTAP_STARTED = "softap_started"
    """BluFi SoftAP-only mode: the device's access point is up."""
    WRONG_PASSWORD = "wrong_password"
    NETWORK_NOT_FOUND = "network_not_found"
    OTHER_NETWORK = "other_network"
    """The device reports a connection, but to another SSID (or BSSID, when one was pinned)."""
    OTHER_UPLINK = "other_uplink"
    """Bluenet: the device is online through another interface; the Wi-Fi join is unverified."""
    NO_INTERNET = "no_internet"
    """Bluenet: associated, but NetworkManager never reached full connectivity."""
    CONNECTION_FAILED = "connection_failed"
    """The join failed for another reason (the device's end reason code says which)."""
    TIMEOUT = "timeout"
    """No decisive answer from the device in time."""

    @property
    def success(self) -> bool:
        """Return True when the device is where it was asked to be."""
        return self in (ProvisionOutcome.CONNECTED, ProvisionOutcome.SOFTAP_STARTED)


FAILURE_OUTCOMES: tuple[ProvisionOutcome, ...] = tuple(
    outcome for outcome in ProvisionOutcome if not outcome.success
)
"""Every unsuccessful outcome (the options of a "failure reason" besides "none")."""


class ProvisioningSecurity(StrEnum):
    """How the credentials travel to the device."""

    BLUFI_V2 = "blufi_v2"
    """BluFi security V2: ffdhe3072 DH, AES-256-CTR (encrypted, unauthenticated)."""
    BLUFI_V1 = "blufi_v1"
    """BluFi security V1: 1024-bit DH, AES-128-CFB (legacy key exchange, unauthenticated)."""
    CLEARTEXT = "cleartext"
    """No encryption: anyone in radio range can read the password (Bluenet; BluFi opt-in)."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a protocol can do; callers decide on these, never on the protocol's name."""

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
    """The provisioning protocol's version (BluFi "1.4", Bluenet service "1.0"): not firmware."""
    security: ProvisioningSecurity
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
    failure: ProvisionOutcome | None = None
    """Why the last join failed, when the state is :attr:`WifiState.FAILED`."""
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
    security: ProvisioningSecurity | None = None

    @property
    def success(self) -> bool:
        """Return True when the device is where it was asked to be."""
        return self.outcome.success
