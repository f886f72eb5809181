"""Security layer guards: weak or foreign DH keys and bad values end in BlufiSecurityError."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from custom_components.ble_provisioning.protocol.blufi import BlufiSecurity, dh
from custom_components.ble_provisioning.protocol.blufi.const import (
    V1_LEGACY_DH_P,
    V1_LEGACY_SMALL_FACTORS,
    V1_SAFE_DH_P,
    V2_DH_P,
)
from custom_components.ble_provisioning.protocol.blufi.dh import (
    GROUPS,
    V1_LEGACY_GROUP,
    V1_SAFE_GROUP,
    V2_GROUP,
    OpenSslKeyPair,
    PowKeyPair,
    check_peer_key,
    generate_key_pair,
    group_for,
    jacobi,
    modexp,
)
from custom_components.ble_provisioning.protocol.blufi.errors import BlufiSecurityError
from custom_components.ble_provisioning.protocol.blufi.security import (
    V1Cipher,
    V1Session,
    V2Cipher,
    V2Session,
    session_for,
)

SMALL_ORDER = 2796436733


def _probable_prime(n: int) -> bool:
    """One Miller-Rabin round, base 2 (enough to catch a mistyped constant)."""
    d, s = n - 1, 0
    while not d & 1:
        d, s = d >> 1, s + 1
    x = pow(2, d, n)
    if x in (1, n - 1):
        return True
    for _ in range(s - 1):
        x = x * x % n
        if x == n - 1:
            return True
    return False


def test_modexp_matches_pow_and_rejects_negative_exponents() -> None:
    assert modexp(5, 123456789, 1009) == pow(5, 123456789, 1009)
    assert modexp(7, 0, 1009) == 1
    with pytest.raises(BlufiSecurityError):
        modexp(2, -1, 1009)


@pytest.mark.parametrize("p", [V1_SAFE_DH_P, V2_DH_P])
def test_safe_groups_are_safe_primes_with_g_in_the_subgroup(p: int) -> None:
    q = (p - 1) // 2
    assert _probable_prime(p)
    assert _probable_prime(q)
    assert pow(2, q, p) == 1  # g = 2 generates the prime-order subgroup


def test_legacy_group_has_the_small_factor() -> None:
    assert _probable_prime(V1_LEGACY_DH_P)
    assert (V1_LEGACY_DH_P - 1) % math.prod(V1_LEGACY_SMALL_FACTORS) == 0
    assert SMALL_ORDER in V1_LEGACY_SMALL_FACTORS
    assert not _probable_prime((V1_LEGACY_DH_P - 1) // 2)  # not a safe prime


def test_jacobi_is_eulers_criterion() -> None:
    rng = random.Random(5)
    for p in (3, 5, 7, 11, 13, 101, 65537):
        for a in range(3 * p if p < 200 else 300):
            expected = 0 if a % p == 0 else (1 if pow(a, (p - 1) // 2, p) == 1 else -1)
            assert jacobi(a, p) == expected, (a, p)
    for group in (V1_SAFE_GROUP, V1_LEGACY_GROUP):
        for _ in range(10):
            a = rng.randrange(2, group.p - 1)
            assert (jacobi(a, group.p) == 1) is (pow(a, (group.p - 1) // 2, group.p) == 1)
    assert jacobi(9, 15) == 0  # a Jacobi symbol of a composite with a common factor
    with pytest.raises(ValueError, match="odd"):
        jacobi(3, 8)


def _non_residue(p: int) -> int:
    return next(a for a in range(3, 100) if jacobi(a, p) == -1)


def _small_order_element(order: int) -> int:
    """An element of the legacy group of exactly ``order`` (a divisor of 2 * 2796436733)."""
    p = V1_LEGACY_DH_P
    for base in range(2, 50):
        h = pow(base, (p - 1) // order, p)
        if h != 1 and all(pow(h, order // f, p) != 1 for f in (2, SMALL_ORDER) if order % f == 0):
            return h
    raise AssertionError("no element of that order")


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
def test_weak_device_keys_are_refused(group: dh.DhGroup) -> None:
    """0, 1, p-1 (order 1, 2), >= p, g and g^2 (device private key 1, 2), an echo of ours."""
    own = generate_key_pair(group)
    p = group.p
    for value, reason in [
        (0, "out of range"),
        (1, "out of range"),
        (p - 1, "out of range"),
        (p, "out of range"),
        (p + 5, "out of range"),
        (group.g, "g or g"),
        (group.g * group.g % p, "g or g"),
        (own.public, "echoes"),
    ]:
        with pytest.raises(BlufiSecurityError, match=reason):
            check_peer_key(value, group, own.public)
    check_peer_key(generate_key_pair(group).public, group, own.public)  # a genuine key passes


@pytest.mark.parametrize("group", [V1_SAFE_GROUP, V2_GROUP], ids=lambda g: g.name)
def test_safe_groups_refuse_keys_outside_the_prime_order_subgroup(group: dh.DhGroup) -> None:
    y = _non_residue(group.p)
    assert pow(y, (group.p - 1) // 2, group.p) != 1  # y^q != 1: not in the subgroup
    with pytest.raises(BlufiSecurityError, match="prime-order subgroup"):
        check_peer_key(y, group, 12345)
    check_peer_key(y * y % group.p, group, 12345)  # a square is in the subgroup


@pytest.mark.parametrize("order", [SMALL_ORDER, 2 * SMALL_ORDER])
def test_legacy_group_refuses_small_order_keys(order: int) -> None:
    """The attack of issue 10 item 3: a key of order 2796436733 gives a secret a sniffer can
    enumerate; refused."""
    h = _small_order_element(order)
    assert pow(h, order, V1_LEGACY_DH_P) == 1
    with pytest.raises(BlufiSecurityError, match="small order"):
        check_peer_key(h, V1_LEGACY_GROUP, 12345)
    session = V1Session(group=V1_LEGACY_GROUP)
    with pytest.raises(BlufiSecurityError, match="small order"):
        session.derive(h.to_bytes(128, "big"))


@pytest.mark.parametrize("session_cls", [V1Session, V2Session])
def test_device_private_key_one_is_refused_by_the_session(session_cls: Any) -> None:
    """Public key g means the secret is the client's own public value: a sniffer knows it."""
    session = session_cls()
    g = session.group.g.to_bytes(session.key_bytes, "big")
    with pytest.raises(BlufiSecurityError, match="g or g"):
        session.derive(g)
    with pytest.raises(BlufiSecurityError, match="echoes"):
        session.derive(session.public_key)
    assert session.key is None


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
    assert "123456789" not in repr(session._pair)
    with pytest.raises(BlufiSecurityError, match="bad length"):
        session.shared_secret(b"")
    with pytest.raises(BlufiSecurityError, match="bad length"):
        session.shared_secret(b"\x02" * 129)
    with pytest.raises(BlufiSecurityError, match="out of range"):
        session.shared_secret(b"\x01")
    with pytest.raises(BlufiSecurityError, match="not a V2Session group"):
        V2Session(group=V1_SAFE_GROUP)


def test_session_for_each_group_and_key_pair_implementations() -> None:
    assert isinstance(session_for(V1_SAFE_GROUP, 99), V1Session)
    assert session_for(V1_LEGACY_GROUP).group is V1_LEGACY_GROUP
    assert isinstance(session_for(V2_GROUP, 99), V2Session)
    assert V1Session().security is BlufiSecurity.V1
    assert V2Session().p == V2_DH_P
    # V2 uses OpenSSL; V1, fixed keys and explicit sizes use pow()
    assert isinstance(generate_key_pair(V2_GROUP), OpenSslKeyPair)
    assert isinstance(generate_key_pair(V1_SAFE_GROUP), PowKeyPair)
    assert isinstance(generate_key_pair(V2_GROUP, bits=300), PowKeyPair)
    assert repr(generate_key_pair(V2_GROUP)) == "OpenSslKeyPair(ffdhe3072)"
    assert repr(V1_SAFE_GROUP) == "DhGroup(rfc2409-group2)"
    assert group_for(V1_LEGACY_DH_P) is V1_LEGACY_GROUP
    with pytest.raises(BlufiSecurityError, match="unknown DH group"):
        group_for(23)
    with pytest.raises(BlufiSecurityError, match="not used"):
        OpenSslKeyPair(V1_SAFE_GROUP)


def test_openssl_and_pow_agree_on_the_v2_secret() -> None:
    openssl = generate_key_pair(V2_GROUP)
    other = PowKeyPair(V2_GROUP, bits=300)
    assert openssl.secret(other.public) == other.secret(openssl.public)
    assert len(openssl.secret(other.public)) == 384
    with pytest.raises(BlufiSecurityError, match="agreement failed"):
        openssl.secret(0)


def test_pow_fallback_when_openssl_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object, group: dh.DhGroup) -> None:
        raise ValueError("Invalid DH parameters")

    monkeypatch.setattr(OpenSslKeyPair, "__init__", refuse)
    pair = generate_key_pair(V2_GROUP)
    assert isinstance(pair, PowKeyPair)
    assert pair.secret(generate_key_pair(V2_GROUP).public)[:1] is not None
