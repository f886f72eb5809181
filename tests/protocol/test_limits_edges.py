"""Input limits: values that are not text, not encodable, or given as bytes."""

from __future__ import annotations

import pytest

from custom_components.ble_provisioning.protocol.errors import InvalidInputError
from custom_components.ble_provisioning.protocol.limits import BLUENET_LIMITS, BLUFI_LIMITS


def test_a_lone_surrogate_is_refused_without_its_text() -> None:
    """A string that is not UTF-8-encodable (a lone surrogate) is invalid input, not a crash."""
    with pytest.raises(InvalidInputError) as caught:
        BLUENET_LIMITS.check_ssid("Home\udc80Net")
    assert (caught.value.field, caught.value.reason) == ("ssid", "invalid_ssid")
    assert "not encodable" in str(caught.value)
    secret = "pass\udc80word-secret"
    with pytest.raises(InvalidInputError) as caught:
        BLUFI_LIMITS.check_password(secret)
    assert (caught.value.field, caught.value.reason) == ("password", "invalid_password")
    assert "word-secret" not in str(caught.value)


@pytest.mark.parametrize("value", [12345678, 3.5, ["HomeNet"]])
def test_a_value_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(InvalidInputError, match="must be text") as caught:
        BLUFI_LIMITS.check_ssid(value)  # type: ignore[arg-type]
    assert caught.value.reason == "invalid_ssid"
    with pytest.raises(InvalidInputError, match="must be text") as caught:
        BLUENET_LIMITS.check_password(value)  # type: ignore[arg-type]
    assert caught.value.reason == "invalid_password"


def test_bytes_and_bytearray_are_taken_as_they_are() -> None:
    """Bytes pass unchanged (not decoded); a bytearray (outside the typed API) becomes bytes."""
    assert BLUFI_LIMITS.check_ssid(b"Home\xffNet") == b"Home\xffNet"
    mutable: object = bytearray(b"HomeNet")
    checked = BLUFI_LIMITS.check_ssid(mutable)  # type: ignore[arg-type]
    assert (checked, type(checked)) == (b"HomeNet", bytes)
    assert BLUENET_LIMITS.check(b"HomeNet", b"12345678") == (b"HomeNet", b"12345678")
    with pytest.raises(InvalidInputError):
        BLUENET_LIMITS.check_ssid(b"Home\x00Net")


def test_the_message_names_what_each_protocol_accepts() -> None:
    """Bluenet also takes a raw PSK, BluFi does not: the message says so (without the value)."""
    with pytest.raises(InvalidInputError) as bluenet:
        BLUENET_LIMITS.check_password("short")
    assert "64 hexadecimal digits" in str(bluenet.value)
    with pytest.raises(InvalidInputError) as blufi:
        BLUFI_LIMITS.check_password("short")
    assert "hexadecimal" not in str(blufi.value)
    assert "short" not in str(bluenet.value) + str(blufi.value)
