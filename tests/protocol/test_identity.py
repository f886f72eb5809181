"""Network identity: ESP32 Wi-Fi MAC candidates from the BLE address, Bluenet's host name."""

from __future__ import annotations

import pytest

from custom_components.ble_provisioning.protocol.identity import (
    AddressType,
    NetworkIdentity,
    esp32_wifi_mac_candidates,
    is_public_address,
    network_identity,
    normalize_mac,
)
from custom_components.ble_provisioning.protocol.models import Protocol


@pytest.mark.parametrize(
    ("ble", "station"),
    [
        # ESP-IDF: BT = base + 2, station = base (field.md §6).
        ("24:0A:C4:00:00:03", "24:0a:c4:00:00:01"),
        ("A4:CF:12:34:56:7A", "a4:cf:12:34:56:78"),
        # The last octet wraps mod 256 with no carry into the fifth.
        ("24:0A:C4:12:34:01", "24:0a:c4:12:34:ff"),
        ("24:0A:C4:12:34:00", "24:0a:c4:12:34:fe"),
        # Any notation.
        ("240ac4123402", "24:0a:c4:12:34:00"),
    ],
)
def test_station_mac_is_ble_minus_two_on_the_last_octet(ble: str, station: str) -> None:
    """One candidate: BLE - 2 on the last octet only."""
    assert esp32_wifi_mac_candidates(ble) == (station,)
    assert esp32_wifi_mac_candidates(ble, AddressType.PUBLIC) == (station,)


@pytest.mark.parametrize(
    "ble",
    [
        "C4:12:34:56:78:9A",  # top bits 11: static random
        "FF:FF:FF:FF:FF:FF",
        "26:0A:C4:00:00:03",  # locally administered bit set: not IEEE-assigned
        "not a mac",
        "24:0A:C4:00:00",
    ],
)
def test_no_candidate_for_random_or_malformed_addresses(ble: str) -> None:
    """A random address carries no relation to the Wi-Fi MAC; garbage gives nothing."""
    assert esp32_wifi_mac_candidates(ble) == ()


def test_reported_address_type_decides() -> None:
    """A known address type overrides the bit heuristics."""
    assert esp32_wifi_mac_candidates("24:0A:C4:00:00:03", AddressType.RANDOM) == ()
    assert is_public_address("C4:12:34:56:78:9A", AddressType.PUBLIC)
    assert not is_public_address("24:0A:C4:00:00:03", AddressType.RANDOM)


def test_normalize_mac() -> None:
    """Colons, hyphens, dots or none; either case; 48 bits only."""
    assert normalize_mac("24-0A-C4-00-00-01") == "24:0a:c4:00:00:01"
    assert normalize_mac("240a.c400.0001") == "24:0a:c4:00:00:01"
    assert normalize_mac("240AC4000001") == "24:0a:c4:00:00:01"
    assert normalize_mac("240AC40000") is None
    assert normalize_mac("24:0A:C4:00:00:0G") is None


def test_network_identity_per_protocol() -> None:
    """BluFi: MAC candidate (and host name); Bluenet: the host name only."""
    blufi = network_identity(Protocol.BLUFI, "24:0A:C4:00:00:03")
    assert blufi == NetworkIdentity(("24:0a:c4:00:00:01",), None)
    assert blufi.matches_mac("240AC4000001")
    assert not blufi.matches_mac("240AC4000003")
    bluenet = network_identity(
        Protocol.BLUENET, "B0:0B:1E:00:00:01", hostname="http://192.168.1.20:6543/-/"
    )
    assert bluenet == NetworkIdentity((), "http://192.168.1.20:6543/-/")
    assert not bluenet.matches_mac("b0:0b:1e:00:00:01")
