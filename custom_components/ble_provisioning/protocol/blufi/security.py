"""BluFi session security V1 and V2 (spec §2.2-§2.4).

V1: DH over the phone-chosen 1024-bit group, key = MD5(secret with leading zeros stripped),
AES-128-CFB128 restarted on every frame with IV ``[seq, 0 x 15]``.
V2: DH over ffdhe3072, key = SHA-256(secret zero-padded to 384 bytes), AES-256-CTR with one
continuous keystream per direction, counter blocks
``SHA-256("blufi_enc"/"blufi_dec" ‖ secret)[:16]``.

Modular exponentiation uses ``pow()`` (cryptography ≥ 45 refuses the V1 group); callers run
:func:`V1Session.create`, :meth:`BlufiSession.derive` and friends in an executor.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
import secrets
import time
from typing import Literal, cast

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from .const import DH_G, V1_DH_P, V1_KEY_BYTES, V2_DH_P, V2_KEY_BYTES, BlufiSecurity, NegType
from .errors import BlufiSecurityError

# A plain import statement, not importlib.import_module(): Home Assistant reports
# import_module() calls made while its event loop runs as blocking I/O.
try:  # cryptography >= 48 keeps CFB in the "decrepit" package
    from cryptography.hazmat.decrepit.ciphers import (  # type: ignore[attr-defined,unused-ignore]
        modes as _cfb_modes,
    )
except ImportError:  # pragma: no cover - depends on the installed cryptography
    _cfb_modes = modes  # type: ignore[misc,assignment,unused-ignore]

_CFB = cast("Callable[[bytes], modes.ModeWithInitializationVector]", _cfb_modes.CFB)

Role = Literal["phone", "device"]

#: Private exponent sizes used when none is given (V2: RFC 7919 §5.2 asks >= 275 bits).
V1_PRIVATE_BITS = 1024
V2_PRIVATE_BITS = 512


#: Exponent bits per ``pow()`` call in :func:`modexp`. CPython's big-int ``pow()`` holds the
#: GIL for the whole call, so a 3072-bit exponentiation in an executor thread would still
#: freeze the event loop for ~100 ms; in 32-bit steps the GIL is handed over between calls.
MODEXP_CHUNK_BITS = 32


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
        time.sleep(0)  # hand the GIL to the event-loop thread if it is waiting
    return result % modulus


def int_to_bytes(value: int, length: int) -> bytes:
    """Big-endian, left-zero-padded to ``length``."""
    return value.to_bytes(length, "big")


def strip_leading_zeros(data: bytes) -> bytes:
    """Remove leading zero bytes (what ``mbedtls_dhm_calc_secret`` returns in V1)."""
    return data.lstrip(b"\x00")


def check_public_key(value: int, p: int) -> None:
    """Reject degenerate DH public values (must satisfy 1 < y < p - 1)."""
    if not 1 < value < p - 1:
        raise BlufiSecurityError("invalid DH public key from peer")


def v1_key(secret_stripped: bytes) -> bytes:
    """V1 AES-128 key: MD5 of the secret without leading zeros."""
    return hashlib.md5(strip_leading_zeros(secret_stripped), usedforsecurity=False).digest()


def v2_key(secret_padded: bytes) -> bytes:
    """V2 AES-256 key: SHA-256 of the 384-byte zero-padded secret."""
    return hashlib.sha256(secret_padded).digest()


def v2_ivs(secret_padded: bytes) -> tuple[bytes, bytes]:
    """V2 initial counter blocks: ``(device→phone "blufi_enc", phone→device "blufi_dec")``."""
    enc = hashlib.sha256(b"blufi_enc" + secret_padded).digest()[:16]
    dec = hashlib.sha256(b"blufi_dec" + secret_padded).digest()[:16]
    return enc, dec


class V1Cipher:
    """AES-128-CFB128, one independent stream per frame with IV ``[seq, 0 x 15]``."""

    __slots__ = ("_algo",)

    def __init__(self, key: bytes) -> None:
        """Use the 16-byte session ``key`` for both directions."""
        if len(key) != 16:
            raise BlufiSecurityError("V1 key must be 16 bytes")
        self._algo = algorithms.AES(key)

    def __repr__(self) -> str:
        """Never show the key."""
        return "V1Cipher(<key>)"

    def _iv(self, seq: int) -> bytes:
        return bytes((seq & 0xFF,)) + bytes(15)

    def encrypt(self, seq: int, data: bytes) -> bytes:
        """Encrypt one frame's data."""
        ctx = Cipher(self._algo, _CFB(self._iv(seq))).encryptor()
        return ctx.update(data) + ctx.finalize()

    def decrypt(self, seq: int, data: bytes) -> bytes:
        """Decrypt one frame's data."""
        ctx = Cipher(self._algo, _CFB(self._iv(seq))).decryptor()
        return ctx.update(data) + ctx.finalize()


class V2Cipher:
    """AES-256-CTR with one continuous keystream per direction (the seq is ignored)."""

    __slots__ = ("_rx", "_tx")

    def __init__(self, key: bytes, secret_padded: bytes, role: Role = "phone") -> None:
        """Set up both streams; ``role`` says which side this end plays."""
        if len(key) != 32:
            raise BlufiSecurityError("V2 key must be 32 bytes")
        iv_enc, iv_dec = v2_ivs(secret_padded)
        # "blufi_enc" is the device's encrypt stream = phone's decrypt stream.
        tx_iv, rx_iv = (iv_dec, iv_enc) if role == "phone" else (iv_enc, iv_dec)
        self._tx: CipherContext = Cipher(algorithms.AES(key), modes.CTR(tx_iv)).encryptor()
        self._rx: CipherContext = Cipher(algorithms.AES(key), modes.CTR(rx_iv)).decryptor()

    def __repr__(self) -> str:
        """Never show the key."""
        return "V2Cipher(<key>)"

    def encrypt(self, seq: int, data: bytes) -> bytes:
        """Encrypt the next bytes of the outgoing stream."""
        return self._tx.update(data)

    def decrypt(self, seq: int, data: bytes) -> bytes:
        """Decrypt the next bytes of the incoming stream."""
        return self._rx.update(data)


class BlufiSession:
    """One side's DH key pair and, after :meth:`derive`, the session cipher."""

    security: BlufiSecurity
    p: int
    key_bytes: int
    default_bits: int

    def __init__(self, private_key: int | None = None, *, bits: int | None = None) -> None:
        """Create a key pair (``pow()`` — call from an executor for V2)."""
        if private_key is None:
            nbits = bits or self.default_bits
            private_key = 0
            while not 1 < private_key < self.p - 1:
                private_key = secrets.randbits(nbits)
        elif not 1 < private_key < self.p - 1:
            raise BlufiSecurityError("DH private key out of range")
        self._private = private_key
        self.public_key = int_to_bytes(modexp(DH_G, private_key, self.p), self.key_bytes)
        self.secret_padded: bytes | None = None
        self.key: bytes | None = None

    def __repr__(self) -> str:
        """Never show key material."""
        return f"{type(self).__name__}(derived={self.key is not None})"

    def param_blob(self) -> bytes:
        """``len(p) ‖ p ‖ len(g) ‖ g ‖ len(A) ‖ A`` with big-endian 16-bit lengths."""
        p = int_to_bytes(self.p, self.key_bytes)
        g = bytes((DH_G,))
        return b"".join(len(x).to_bytes(2, "big") + x for x in (p, g, self.public_key))

    def neg_packets(self) -> tuple[bytes, bytes]:
        """Return the two phone NEG payloads: ``[00, L_hi, L_lo]`` and ``[01, blob…]``."""
        blob = self.param_blob()
        return (
            bytes((NegType.DH_PARAM_LEN,)) + len(blob).to_bytes(2, "big"),
            bytes((NegType.DH_PARAM_DATA,)) + blob,
        )

    def shared_secret(self, peer_public: bytes) -> bytes:
        """Shared secret, big-endian and zero-padded to the group size."""
        if not peer_public or len(peer_public) > self.key_bytes:
            raise BlufiSecurityError(f"peer public key has bad length {len(peer_public)}")
        y = int.from_bytes(peer_public, "big")
        check_public_key(y, self.p)
        return int_to_bytes(modexp(y, self._private, self.p), self.key_bytes)

    def derive(self, peer_public: bytes, role: Role = "phone") -> V1Cipher | V2Cipher:
        """Derive the session key from the peer's public key and return the cipher."""
        raise NotImplementedError


class V1Session(BlufiSession):
    """Security V1 (BluFi ≤ 1.3)."""

    security = BlufiSecurity.V1
    p = V1_DH_P
    key_bytes = V1_KEY_BYTES
    default_bits = V1_PRIVATE_BITS

    def derive(self, peer_public: bytes, role: Role = "phone") -> V1Cipher:
        """Key = MD5(secret with leading zeros stripped); AES-128-CFB per frame."""
        self.secret_padded = self.shared_secret(peer_public)
        self.key = v1_key(strip_leading_zeros(self.secret_padded))
        return V1Cipher(self.key)


class V2Session(BlufiSession):
    """Security V2 (BluFi 1.4)."""

    security = BlufiSecurity.V2
    p = V2_DH_P
    key_bytes = V2_KEY_BYTES
    default_bits = V2_PRIVATE_BITS

    def derive(self, peer_public: bytes, role: Role = "phone") -> V2Cipher:
        """Key = SHA-256(secret zero-padded to 384 B); AES-256-CTR streams."""
        self.secret_padded = self.shared_secret(peer_public)
        self.key = v2_key(self.secret_padded)
        return V2Cipher(self.key, self.secret_padded, role)


def session_for(security: BlufiSecurity, private_key: int | None = None) -> BlufiSession:
    """Create the session object for ``security`` (V1 or V2)."""
    if security == BlufiSecurity.V1:
        return V1Session(private_key)
    if security == BlufiSecurity.V2:
        return V2Session(private_key)
    raise BlufiSecurityError("no session for security NONE")
