"""Security layer guards: bad keys and peer values end in BlufiSecurityError, never a leak."""

from __future__ import annotations

import pytest

from custom_components.ble_provisioning.protocol.blufi import BlufiSecurity
from custom_components.ble_provisioning.protocol.blufi.const import V1_DH_P
from custom_components.ble_provisioning.protocol.blufi.errors import BlufiSecurityError
from custom_components.ble_provisioning.protocol.blufi.security import (
    V1Cipher,
    V1Session,
    V2Cipher,
    V2Session,
    check_public_key,
    modexp,
    session_for,
)


def test_modexp_matches_pow_and_rejects_negative_exponents() -> None:
    assert modexp(5, 123456789, 1009) == pow(5, 123456789, 1009)
    assert modexp(7, 0, 1009) == 1
    with pytest.raises(BlufiSecurityError):
        modexp(2, -1, 1009)


@pytest.mark.parametrize("value", [0, 1, V1_DH_P - 1, V1_DH_P, V1_DH_P + 5])
def test_degenerate_public_keys_are_refused(value: int) -> None:
    with pytest.raises(BlufiSecurityError, match="invalid DH public key"):
        check_public_key(value, V1_DH_P)


def test_cipher_key_lengths_and_reprs() -> None:
    with pytest.raises(BlufiSecurityError):
        V1Cipher(b"short")
    with pytest.raises(BlufiSecurityError):
        V2Cipher(b"\x00" * 16, b"\x00" * 384)
    key = bytes(range(16))
    assert key.hex() not in repr(V1Cipher(key))
    assert "<key>" in repr(V2Cipher(bytes(range(32)), b"\x01" * 384))


def test_sessions_validate_private_keys_and_peer_keys() -> None:
    with pytest.raises(BlufiSecurityError, match="out of range"):
        V1Session(1)
    session = V1Session(123456789)
    assert "derived=False" in repr(session)
    assert "123456789" not in repr(session)
    with pytest.raises(BlufiSecurityError, match="bad length"):
        session.shared_secret(b"")
    with pytest.raises(BlufiSecurityError, match="bad length"):
        session.shared_secret(b"\x02" * 129)
    with pytest.raises(BlufiSecurityError, match="invalid DH public key"):
        session.shared_secret(b"\x01")


def test_session_for_each_security() -> None:
    assert isinstance(session_for(BlufiSecurity.V1, 99), V1Session)
    assert isinstance(session_for(BlufiSecurity.V2, 99), V2Session)
    with pytest.raises(BlufiSecurityError):
        session_for(BlufiSecurity.NONE)
