"""Diffie-Hellman for BluFi: the groups, key pairs and the checks of the device's public key.

Groups (:class:`DhGroup`):

* :data:`V1_SAFE_GROUP` — security V1's default: RFC 2409 group 2, a 1024-bit *safe* prime
  (``q = (p - 1) / 2`` is prime), g = 2. The V1 device (ESP-IDF's example) takes p and g from the
  client and checks only the length of p (128 bytes).
* :data:`V1_LEGACY_GROUP` — the 1024-bit prime every official client sends; kept as a fallback
  for firmware that refuses another group. ``p - 1`` has the small factor 2796436733.
* :data:`V2_GROUP` — security V2's RFC 7919 ffdhe3072 (safe prime), fixed by the device.

The device's public key ``y`` is refused (:class:`BlufiSecurityError`) when it is outside
``1 < y < p - 1`` (1 and p - 1 have order 1 and 2: the secret would be 1 or ±1), when it is g or
g² (a device private key of 1 or 2: the secret would be the client's own public value, or its
square, both computable from what the client sent in clear), when it echoes the client's own
public value (a reflecting peer), and when it is not in the prime-order subgroup:
for a safe prime ``y^q == 1`` is required, computed as the Legendre symbol ``(y / p) == 1``
(Euler's criterion: the same test, a few milliseconds instead of a 3072-bit exponentiation); for
the legacy group, whose full factorisation is unknown, a ``y`` whose order divides the known small
part of ``p - 1`` is refused (``y^(2 * 2796436733) == 1``).

Key pairs come from ``cryptography`` (OpenSSL) for V2's ffdhe3072, where it is allowed (its
finite-field DH is deprecated since cryptography 50: when it is refused or gone, ``pow()``
takes over), and from :func:`modexp` — CPython's ``pow()`` in steps that hand the GIL back to the
event loop — for V1: cryptography >= 45 refuses the legacy group, and for a group OpenSSL does
not know by name (RFC 2409 group 2) cryptography 50 re-validates the parameters (a primality
test, 160-250 ms measured) for every key object, while ffdhe3072 is a named group. Fixed
private keys (known-answer tests) always use :func:`modexp`. Every function here is CPU work:
callers run it in an executor.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
import math
import re
import secrets
import time
from typing import Protocol
import warnings

from .const import (
    DH_G,
    V1_KEY_BYTES,
    V1_LEGACY_DH_P,
    V1_LEGACY_SMALL_FACTORS,
    V1_SAFE_DH_P,
    V2_DH_P,
    V2_KEY_BYTES,
    BlufiSecurity,
)
from .errors import BlufiSecurityError

_LOGGER = logging.getLogger(__name__)

_Deprecation: type[Warning] | None
try:  # finite-field DH is deprecated in cryptography 50 and may be removed: pow() then
    from cryptography.hazmat.primitives.asymmetric import dh as _openssl_dh
    from cryptography.utils import CryptographyDeprecationWarning as _Deprecation
except ImportError:  # pragma: no cover - depends on the installed cryptography
    _openssl_dh = None  # type: ignore[assignment]
    _Deprecation = None


def _quiet_dh_deprecation() -> None:
    """Ignore cryptography's FFDH deprecation warning, for calls made from this module only.

    The deprecation is handled here (``pow()`` takes over when the API goes), so users need
    not see it in their logs. Added again when missing: a ``warnings.catch_warnings`` block
    around an import (pytest's collection) drops filters added inside it.
    """
    if _Deprecation is None:  # pragma: no cover - depends on the installed cryptography
        return
    module = re.escape(__name__)
    for action, _message, category, module_re, _lineno in warnings.filters:
        if (
            action == "ignore"
            and category is _Deprecation
            and module_re is not None
            and module_re.pattern == module
        ):
            return
    warnings.filterwarnings("ignore", category=_Deprecation, module=module)


_quiet_dh_deprecation()

#: Exponent bits per ``pow()`` call in :func:`modexp` by default. CPython's big-int ``pow()``
#: holds the GIL for the whole call, so one 3072-bit exponentiation in an executor thread
#: would freeze the event loop for tens of milliseconds; in 32-bit steps the GIL can be handed
#: over between calls.
MODEXP_CHUNK_BITS = 32

#: Seconds the DH thread sleeps between steps. A real sleep hands the GIL to an event loop
#: that waits for it; ``sleep(0)`` does not (the thread takes the GIL back at once, and CPython
#: then switches only after its 5 ms switch interval).
HAND_OVER = 50e-6
#: Jacobi-symbol iterations between two hand-overs (a 3072-bit symbol takes ~1 800).
JACOBI_STEPS = 100


def modexp(base: int, exponent: int, modulus: int, chunk_bits: int = MODEXP_CHUNK_BITS) -> int:
    """``pow(base, exponent, modulus)`` in small steps (left to right, ``chunk_bits`` at a time)."""
    if exponent < 0:
        raise BlufiSecurityError("negative exponent")
    mask = (1 << chunk_bits) - 1
    shift = ((exponent.bit_length() + chunk_bits - 1) // chunk_bits) * chunk_bits
    step = 1 << chunk_bits
    result = 1
    while shift > 0:
        shift -= chunk_bits
        result = pow(result, step, modulus) * pow(base, (exponent >> shift) & mask, modulus)
        result %= modulus
        time.sleep(HAND_OVER)  # let the event-loop thread take the GIL if it waits for it
    return result % modulus


def jacobi(a: int, n: int) -> int:
    """Jacobi symbol ``(a / n)`` for odd ``n > 0`` (the Legendre symbol when n is prime)."""
    if n <= 0 or not n & 1:
        raise ValueError("n must be odd and positive")
    a %= n
    result = 1
    steps = 0
    while a:
        twos = (a & -a).bit_length() - 1
        a >>= twos
        if twos & 1 and n & 7 in (3, 5):
            result = -result
        if a & 3 == 3 and n & 3 == 3:
            result = -result
        a, n = n % a, a
        steps += 1
        if steps % JACOBI_STEPS == 0:
            time.sleep(HAND_OVER)  # as in modexp: the event loop may take the GIL
    return result if n == 1 else 0


@dataclass(frozen=True, slots=True)
class DhGroup:
    """A DH group the client can offer (V1) or must use (V2)."""

    name: str
    security: BlufiSecurity
    p: int
    g: int
    size: int
    """Bytes of p, of each public value and of the padded secret."""
    safe: bool
    """p is a safe prime: the prime-order subgroup is the quadratic residues."""
    small_order: int = 1
    """Product of the known small prime factors of p - 1 (non-safe groups)."""
    pow_private_bits: int = 1024
    """Private value size when ``pow()`` makes the key pair."""
    pow_chunk_bits: int = 256
    """Exponent bits per ``pow()`` call (:func:`modexp`): about a millisecond of GIL each."""
    openssl: bool = False
    """Make key pairs with ``cryptography`` (OpenSSL) when it allows it."""

    def __repr__(self) -> str:
        """Name only (the numbers are long and public)."""
        return f"DhGroup({self.name})"


V1_SAFE_GROUP = DhGroup(
    "rfc2409-group2",
    BlufiSecurity.V1,
    V1_SAFE_DH_P,
    DH_G,
    V1_KEY_BYTES,
    safe=True,
    # The subgroup has the prime order q (1023 bits): a 256-bit private value is twice the
    # group's ~80-bit strength with margin, and 4x cheaper than 1024 bits.
    pow_private_bits=256,
)
V1_LEGACY_GROUP = DhGroup(
    "espressif-v1",
    BlufiSecurity.V1,
    V1_LEGACY_DH_P,
    DH_G,
    V1_KEY_BYTES,
    safe=False,
    small_order=math.prod(V1_LEGACY_SMALL_FACTORS),
)
V2_GROUP = DhGroup(
    "ffdhe3072",
    BlufiSecurity.V2,
    V2_DH_P,
    DH_G,
    V2_KEY_BYTES,
    safe=True,
    pow_private_bits=512,  # RFC 7919 §5.2 asks >= 275 (OpenSSL's own choice)
    pow_chunk_bits=32,
    openssl=True,
)
GROUPS: tuple[DhGroup, ...] = (V1_SAFE_GROUP, V1_LEGACY_GROUP, V2_GROUP)


def group_for(p: int, g: int = DH_G) -> DhGroup:
    """Return the known group with modulus ``p`` and generator ``g``."""
    for group in GROUPS:
        if group.p == p and group.g == g:
            return group
    raise BlufiSecurityError("unknown DH group")


def check_peer_key(y: int, group: DhGroup, own_public: int) -> None:
    """Refuse a weak or foreign device public key (see the module docstring for why)."""
    p = group.p
    if not 1 < y < p - 1:
        raise BlufiSecurityError("device DH public key out of range (0, 1, p-1 or >= p)")
    if y in (group.g % p, group.g * group.g % p):
        raise BlufiSecurityError("device DH public key is g or g^2 (private key 1 or 2)")
    if y == own_public:
        raise BlufiSecurityError("device DH public key echoes the client's own key")
    if group.safe:
        if jacobi(y, p) != 1:
            raise BlufiSecurityError("device DH public key is not in the prime-order subgroup")
    elif pow(y, group.small_order, p) == 1:
        raise BlufiSecurityError("device DH public key has a small order")


class KeyPair(Protocol):
    """The client's DH key pair in one group."""

    group: DhGroup
    public: int

    def secret(self, peer: int) -> bytes:
        """Return the shared secret with ``peer`` (checked before), padded to the group size."""


class PowKeyPair:
    """A key pair computed with :func:`modexp` (any group; fixed private keys)."""

    __slots__ = ("_private", "group", "public")

    def __init__(self, group: DhGroup, private: int | None = None, bits: int | None = None) -> None:
        """Use ``private``, or draw one of ``bits`` (default: the group's pow size) bits."""
        if private is None:
            nbits = bits or group.pow_private_bits
            private = 0
            while not 1 < private < group.p - 1:
                private = secrets.randbits(nbits)
        elif not 1 < private < group.p - 1:
            raise BlufiSecurityError("DH private key out of range")
        self.group = group
        self._private = private
        self.public = modexp(group.g, private, group.p, group.pow_chunk_bits)

    def __repr__(self) -> str:
        """Never show the private value."""
        return f"PowKeyPair({self.group.name})"

    def secret(self, peer: int) -> bytes:
        """``peer^x mod p``, zero-padded."""
        secret = modexp(peer, self._private, self.group.p, self.group.pow_chunk_bits)
        return secret.to_bytes(self.group.size, "big")


class OpenSslKeyPair:
    """A key pair made and used by ``cryptography`` (OpenSSL): named groups (ffdhe3072)."""

    __slots__ = ("_numbers", "_private", "group", "public")

    def __init__(self, group: DhGroup) -> None:
        """Generate a private key (OpenSSL's size for the group)."""
        if _openssl_dh is None or not group.openssl:
            raise BlufiSecurityError("cryptography is not used for DH in this group")
        _quiet_dh_deprecation()
        self.group = group
        self._numbers = _openssl_dh.DHParameterNumbers(group.p, group.g)
        self._private = self._numbers.parameters().generate_private_key()
        self.public: int = self._private.public_key().public_numbers().y

    def __repr__(self) -> str:
        """Never show the private value."""
        return f"OpenSslKeyPair({self.group.name})"

    def secret(self, peer: int) -> bytes:
        """OpenSSL's DH agreement, zero-padded to the group size."""
        assert _openssl_dh is not None
        try:
            peer_key = _openssl_dh.DHPublicNumbers(peer, self._numbers).public_key()
            secret = self._private.exchange(peer_key)
        except Exception as err:
            raise BlufiSecurityError("DH key agreement failed") from err
        return secret.rjust(self.group.size, b"\x00")


def generate_key_pair(
    group: DhGroup, private: int | None = None, *, bits: int | None = None
) -> KeyPair:
    """Return the client's key pair: OpenSSL where allowed, else ``pow()`` (also fixed keys)."""
    if private is None and bits is None and group.openssl and _openssl_dh is not None:
        try:
            return OpenSslKeyPair(group)
        except Exception as err:  # noqa: BLE001 - refused or unavailable in this build
            _LOGGER.debug("OpenSSL DH unavailable for %s (%s): using pow()", group.name, err)
    return PowKeyPair(group, private, bits)
