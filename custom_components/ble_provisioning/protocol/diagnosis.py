"""Why a Wi-Fi join failed, in words a user can act on (no Home Assistant imports).

A failed join is reported as an outcome (:class:`~.models.ProvisionOutcome`), for BluFi with
ESP-IDF's end reason code (``wifi_err_reason_t``) and the RSSI the device saw when it gave up.
The device's own scan tells more: whether it can see the network at all, and how strongly. The
rules, first match wins:

1. The reason says the network's security is one the device cannot use (210; cipher, AKM or RSN
   errors 18-22, 24, 29; 211 "no AP within the auth-mode threshold", which the ESP-IDF example
   causes by demanding WPA2 for a password) → :attr:`JoinDiagnosis.UNSUPPORTED_SECURITY`.
2. The reason is 212 (no AP above the RSSI threshold), or the signal is weak (the RSSI the device
   reports, else the one its scan saw, at or below :data:`WEAK_RSSI`) and either the reason is
   one a weak link causes as well as anything else (timeouts, beacon loss, unspecified, none) or
   the network was "not found" although the scan lists it → :attr:`JoinDiagnosis.WEAK_SIGNAL`.
   A handshake timeout at such a signal is more likely lost frames than a bad key, so this rule
   comes before the password.
3. The network was not found → :attr:`JoinDiagnosis.NOT_VISIBLE` (5 GHz-only, hidden, or out of
   range).
4. The outcome is a wrong password → :attr:`JoinDiagnosis.WRONG_PASSWORD`.
5. The reason is one the access point sends when it refuses a station (too many stations,
   association refused, not authorized here, bandwidth, ...) → :attr:`JoinDiagnosis.AP_REJECTED`.
6. The device's scan does not list the network → :attr:`JoinDiagnosis.NOT_VISIBLE`; anything
   else → :attr:`JoinDiagnosis.UNKNOWN`. The raw reason code is always kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .blufi.const import WifiReason
from .models import ProvisionOutcome, WifiNetwork

#: At or below this RSSI (dBm) a join is unreliable (ESP32 antennas; the usual -80 dBm rule).
WEAK_RSSI = -80
#: The RSSI an ESP-IDF device reports when it has none.
NO_RSSI = -128


class JoinDiagnosis(StrEnum):
    """Why the device could not join the network."""

    NOT_VISIBLE = "not_visible"
    """The device cannot see the network: 5 GHz-only, hidden, or out of range."""
    WEAK_SIGNAL = "weak_signal"
    """The device sees the network, but too weakly to join reliably."""
    WRONG_PASSWORD = "wrong_password"
    AP_REJECTED = "ap_rejected"
    """The access point refused the device (full, MAC filter, policy)."""
    UNSUPPORTED_SECURITY = "unsupported_security"
    """The network uses a security mode the device does not support (or accept)."""
    UNKNOWN = "unknown"


UNSUPPORTED_SECURITY_REASONS = frozenset(
    {
        WifiReason.GROUP_CIPHER_INVALID,
        WifiReason.PAIRWISE_CIPHER_INVALID,
        WifiReason.AKMP_INVALID,
        WifiReason.UNSUPP_RSN_IE_VERSION,
        WifiReason.INVALID_RSN_IE_CAP,
        WifiReason.CIPHER_SUITE_REJECTED,
        WifiReason.BAD_CIPHER_OR_AKM,
        WifiReason.NO_AP_FOUND_W_COMPATIBLE_SECURITY,
        WifiReason.NO_AP_FOUND_IN_AUTHMODE_THRESHOLD,
    }
)
"""End reasons that mean the AP's security and the device's do not fit together."""

SIGNAL_SENSITIVE_REASONS = frozenset(
    {
        WifiReason.UNSPECIFIED,
        WifiReason.AUTH_EXPIRE,
        WifiReason.FOURWAY_HANDSHAKE_TIMEOUT,
        WifiReason.GROUP_KEY_UPDATE_TIMEOUT,
        WifiReason.MISSING_ACKS,
        WifiReason.TIMEOUT,
        WifiReason.BEACON_TIMEOUT,
        WifiReason.ASSOC_FAIL,
        WifiReason.HANDSHAKE_TIMEOUT,
        WifiReason.CONNECTION_FAIL,
        WifiReason.SA_QUERY_TIMEOUT,
    }
)
"""End reasons a weak link produces (among other causes): weak signal explains them first."""

AP_REJECTED_REASONS = frozenset(
    {
        WifiReason.AUTH_LEAVE,
        WifiReason.ASSOC_TOOMANY,
        WifiReason.CLASS2_FRAME_FROM_NONAUTH_STA,
        WifiReason.CLASS3_FRAME_FROM_NONASSOC_STA,
        WifiReason.ASSOC_NOT_AUTHED,
        WifiReason.DISASSOC_PWRCAP_BAD,
        WifiReason.DISASSOC_SUPCHAN_BAD,
        WifiReason.NOT_AUTHORIZED_THIS_LOCATION,
        WifiReason.UNSPECIFIED_QOS,
        WifiReason.NOT_ENOUGH_BANDWIDTH,
        WifiReason.AP_INITIATED,
        WifiReason.ASSOC_FAIL,
        WifiReason.ASSOC_COMEBACK_TIME_TOO_LONG,
    }
)
"""End reasons an access point gives when it refuses (or throws out) a station."""

_FAILED_JOINS = frozenset(
    {
        ProvisionOutcome.WRONG_PASSWORD,
        ProvisionOutcome.NETWORK_NOT_FOUND,
        ProvisionOutcome.CONNECTION_FAILED,
    }
)


@dataclass(frozen=True, slots=True)
class JoinFailure:
    """A diagnosed failed join; the raw facts are kept next to the conclusion."""

    diagnosis: JoinDiagnosis
    end_reason_code: int | None = None
    rssi: int | None = None
    """The RSSI the device reported for the failed attempt (None when it had none)."""
    scan_rssi: int | None = None
    """The strongest RSSI of the network in the device's scan (None: not seen or no scan)."""
    in_scan: bool | None = None
    """Whether the device's scan lists the network (None: no scan to judge by)."""


def _scan_rssi(ssid: str, networks: Iterable[WifiNetwork] | None) -> tuple[bool | None, int | None]:
    if networks is None:
        return None, None
    seen = [network.rssi for network in networks if network.ssid == ssid]
    if not seen:
        return False, None
    known = [rssi for rssi in seen if rssi is not None]
    return True, max(known) if known else None


def diagnose(
    outcome: ProvisionOutcome,
    ssid: str,
    *,
    end_reason_code: int | None = None,
    rssi: int | None = None,
    networks: Iterable[WifiNetwork] | None = None,
) -> JoinFailure | None:
    """Return why joining ``ssid`` failed, or None when the outcome is not a failed join.

    ``networks`` is the device's own scan (None when there is none: then the scan is no
    evidence either way). Outcomes that are not a join failure (success, a timeout with no
    answer, Bluenet's "no internet" or "other uplink", another network) get no diagnosis.
    """
    if outcome not in _FAILED_JOINS:
        return None
    reported_rssi = None if rssi in (None, NO_RSSI) else rssi
    in_scan, scan_rssi = _scan_rssi(ssid, networks)
    signal = reported_rssi if reported_rssi is not None else scan_rssi

    def found(diagnosis: JoinDiagnosis) -> JoinFailure:
        return JoinFailure(diagnosis, end_reason_code, reported_rssi, scan_rssi, in_scan)

    reason = end_reason_code
    if reason in UNSUPPORTED_SECURITY_REASONS:
        return found(JoinDiagnosis.UNSUPPORTED_SECURITY)
    if reason == WifiReason.NO_AP_FOUND_IN_RSSI_THRESHOLD:
        return found(JoinDiagnosis.WEAK_SIGNAL)
    weak = signal is not None and signal <= WEAK_RSSI
    not_found = outcome is ProvisionOutcome.NETWORK_NOT_FOUND
    if weak and (
        (not_found and in_scan is True)
        or (not not_found and (reason is None or reason in SIGNAL_SENSITIVE_REASONS))
    ):
        return found(JoinDiagnosis.WEAK_SIGNAL)
    if not_found:
        return found(JoinDiagnosis.NOT_VISIBLE)
    if outcome is ProvisionOutcome.WRONG_PASSWORD:
        return found(JoinDiagnosis.WRONG_PASSWORD)
    if reason in AP_REJECTED_REASONS:
        return found(JoinDiagnosis.AP_REJECTED)
    if in_scan is False:
        return found(JoinDiagnosis.NOT_VISIBLE)
    return found(JoinDiagnosis.UNKNOWN)
