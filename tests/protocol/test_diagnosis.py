"""Why a join failed: outcome + end reason + reported RSSI + the device's scan → a diagnosis."""

from __future__ import annotations

import pytest

from custom_components.ble_provisioning.protocol.blufi.const import WifiReason
from custom_components.ble_provisioning.protocol.diagnosis import (
    JoinDiagnosis,
    JoinFailure,
    diagnose,
)
from custom_components.ble_provisioning.protocol.models import ProvisionOutcome, WifiNetwork

SCAN = [WifiNetwork("HomeNet", -45), WifiNetwork("Far", -86), WifiNetwork("Cafe", None)]
Out = ProvisionOutcome


@pytest.mark.parametrize(
    ("outcome", "ssid", "reason", "rssi", "networks", "expected"),
    [
        # Not in the device's scan and not found: 5 GHz-only, hidden or out of range.
        (Out.NETWORK_NOT_FOUND, "Ghost", 201, -128, SCAN, JoinDiagnosis.NOT_VISIBLE),
        (Out.NETWORK_NOT_FOUND, "Ghost", 201, None, None, JoinDiagnosis.NOT_VISIBLE),
        # Seen only weakly, then "not found" or a handshake timeout: the signal.
        (Out.NETWORK_NOT_FOUND, "Far", 201, -128, SCAN, JoinDiagnosis.WEAK_SIGNAL),
        (Out.WRONG_PASSWORD, "Far", 15, -88, SCAN, JoinDiagnosis.WEAK_SIGNAL),
        (Out.CONNECTION_FAILED, "HomeNet", 200, -84, SCAN, JoinDiagnosis.WEAK_SIGNAL),
        (Out.NETWORK_NOT_FOUND, "HomeNet", 212, -128, SCAN, JoinDiagnosis.WEAK_SIGNAL),
        # A strong signal and a handshake timeout: the password.
        (Out.WRONG_PASSWORD, "HomeNet", 15, -45, SCAN, JoinDiagnosis.WRONG_PASSWORD),
        (Out.WRONG_PASSWORD, "HomeNet", 202, -88, SCAN, JoinDiagnosis.WRONG_PASSWORD),
        # The AP refused the station.
        (Out.CONNECTION_FAILED, "HomeNet", 5, -50, SCAN, JoinDiagnosis.AP_REJECTED),
        (Out.CONNECTION_FAILED, "HomeNet", 203, -50, SCAN, JoinDiagnosis.AP_REJECTED),
        (Out.CONNECTION_FAILED, "HomeNet", 30, -50, None, JoinDiagnosis.AP_REJECTED),
        # A security mode the device does not support (or accept).
        (Out.NETWORK_NOT_FOUND, "Cafe", 211, -128, SCAN, JoinDiagnosis.UNSUPPORTED_SECURITY),
        (Out.NETWORK_NOT_FOUND, "HomeNet", 210, -128, SCAN, JoinDiagnosis.UNSUPPORTED_SECURITY),
        (Out.CONNECTION_FAILED, "HomeNet", 20, -50, SCAN, JoinDiagnosis.UNSUPPORTED_SECURITY),
        # Nothing to go by.
        (Out.CONNECTION_FAILED, "HomeNet", 39, -50, SCAN, JoinDiagnosis.UNKNOWN),
        (Out.CONNECTION_FAILED, "Elsewhere", None, None, SCAN, JoinDiagnosis.NOT_VISIBLE),
        (Out.CONNECTION_FAILED, "Elsewhere", None, None, None, JoinDiagnosis.UNKNOWN),
    ],
)
def test_diagnosis(
    outcome: ProvisionOutcome,
    ssid: str,
    reason: int | None,
    rssi: int | None,
    networks: list[WifiNetwork] | None,
    expected: JoinDiagnosis,
) -> None:
    """Each rule of the module's table, with the raw reason kept."""
    failure = diagnose(outcome, ssid, end_reason_code=reason, rssi=rssi, networks=networks)
    assert failure is not None
    assert failure.diagnosis is expected
    assert failure.end_reason_code == reason


def test_facts_are_kept() -> None:
    """The reported RSSI (not ESP-IDF's -128 placeholder), the scan's RSSI and presence."""
    assert diagnose(
        Out.WRONG_PASSWORD, "HomeNet", end_reason_code=15, rssi=-45, networks=SCAN
    ) == JoinFailure(JoinDiagnosis.WRONG_PASSWORD, 15, -45, -45, True)
    assert diagnose(
        Out.NETWORK_NOT_FOUND, "Ghost", end_reason_code=201, rssi=-128, networks=SCAN
    ) == JoinFailure(JoinDiagnosis.NOT_VISIBLE, 201, None, None, False)
    assert diagnose(Out.NETWORK_NOT_FOUND, "Cafe", networks=SCAN) == JoinFailure(
        JoinDiagnosis.NOT_VISIBLE, None, None, None, True
    )


def test_strongest_scan_entry_counts() -> None:
    """Two APs of one network: the strongest decides whether the signal is weak."""
    networks = [WifiNetwork("HomeNet", -88), WifiNetwork("HomeNet", -50)]
    failure = diagnose(Out.WRONG_PASSWORD, "HomeNet", end_reason_code=15, networks=networks)
    assert failure is not None
    assert failure.diagnosis is JoinDiagnosis.WRONG_PASSWORD
    assert failure.scan_rssi == -50


@pytest.mark.parametrize(
    "outcome",
    [
        Out.CONNECTED,
        Out.SOFTAP_STARTED,
        Out.TIMEOUT,
        Out.NO_INTERNET,
        Out.OTHER_UPLINK,
        Out.OTHER_NETWORK,
    ],
)
def test_no_diagnosis_for_other_outcomes(outcome: ProvisionOutcome) -> None:
    """Success, silence and Bluenet's connectivity outcomes are not failed joins."""
    assert diagnose(outcome, "HomeNet", end_reason_code=int(WifiReason.NONE)) is None
