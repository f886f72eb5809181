"""Input limits, defined once per protocol (forms, actions and clients all read them)."""

from __future__ import annotations

import pytest

from custom_components.ble_provisioning.protocol.errors import InvalidInputError
from custom_components.ble_provisioning.protocol.limits import (
    BLUENET_LIMITS,
    BLUFI_LIMITS,
    LIMITS,
    check_bssid,
)
from custom_components.ble_provisioning.protocol.models import Protocol


def test_every_protocol_has_limits() -> None:
    assert set(LIMITS) == set(Protocol)


@pytest.mark.parametrize(
    ("limits", "ssid", "ok"),
    [
        (BLUFI_LIMITS, "a" * 31, True),
        (BLUFI_LIMITS, "a" * 32, False),  # the ESP-IDF example refuses 32 bytes (0x09)
        (BLUENET_LIMITS, "a" * 32, True),
        (BLUENET_LIMITS, "a" * 33, False),
        (BLUENET_LIMITS, "é" * 16, True),  # 32 bytes of UTF-8
        (BLUENET_LIMITS, "é" * 17, False),
        (BLUFI_LIMITS, "", False),
        (BLUFI_LIMITS, "a\x00b", False),
    ],
)
def test_ssid(limits: object, ssid: str, ok: bool) -> None:
    assert isinstance(limits, type(BLUFI_LIMITS))
    if ok:
        assert limits.check_ssid(ssid) == ssid.encode()
        return
    with pytest.raises(InvalidInputError) as caught:
        limits.check_ssid(ssid)
    assert caught.value.field == "ssid"
    assert caught.value.reason == "invalid_ssid"


@pytest.mark.parametrize(
    ("limits", "password", "ok"),
    [
        (BLUFI_LIMITS, None, True),
        (BLUFI_LIMITS, "", True),
        (BLUFI_LIMITS, "1234567", False),
        (BLUFI_LIMITS, "12345678", True),
        (BLUFI_LIMITS, "p" * 63, True),
        (BLUFI_LIMITS, "a" * 64, False),  # the ESP-IDF example refuses a 64-hex PSK
        (BLUENET_LIMITS, "a" * 64, True),  # NetworkManager takes a raw PSK
        (BLUENET_LIMITS, "g" * 64, False),
        (BLUENET_LIMITS, "é" * 32, False),  # 32 characters but 64 bytes
        (BLUENET_LIMITS, "tab\there!", False),
    ],
)
def test_password(limits: object, password: str | None, ok: bool) -> None:
    assert isinstance(limits, type(BLUFI_LIMITS))
    if ok:
        assert limits.check_password(password) == (password or "").encode()
        return
    with pytest.raises(InvalidInputError) as caught:
        limits.check_password(password)
    assert caught.value.reason == "invalid_password"
    assert caught.value.field == "password"
    assert password is None or password not in str(caught.value)


def test_field_names_and_bssid() -> None:
    with pytest.raises(InvalidInputError) as caught:
        BLUFI_LIMITS.check_ssid("", field="softap_ssid")
    assert caught.value.field == "softap_ssid"
    assert check_bssid("a4:cf:12:00:00:01") == bytes.fromhex("a4cf12000001")
    assert check_bssid("A4-CF-12-00-00-01") == bytes.fromhex("a4cf12000001")
    assert check_bssid(bytes(6)) == bytes(6)
    for bad in ("a4cf1200000", "zz:cf:12:00:00:01", b"12345", 7):
        with pytest.raises(InvalidInputError, match="aa:bb"):
            check_bssid(bad)  # type: ignore[arg-type]
