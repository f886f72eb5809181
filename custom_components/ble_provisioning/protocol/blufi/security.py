"""BluFi session security V1 and V2 (spec §2.2-§2.4): sessions, key derivation, ciphers.

V1: DH over a client-chosen 1024-bit group (:data:`~.dh.V1_SAFE_GROUP` by default, the legacy
Espressif group as a fallback), key = MD5(secret with leading zeros stripped), AES-128-CFB128
restarted on every frame with IV ``[seq, 0 x 15]``.
V2: DH over ffdhe3072, key = SHA-256(secret zero-padded to 384 bytes), AES-256-CTR with one
continuous keystream per direction, counter blocks
``SHA-256("blufi_enc"/"blufi_dec" ‖ secret)[:16]``.

The DH work (:mod:`.dh`) is CPU-bound: callers create sessions and call
:meth:`BlufiSession.derive` in an executor.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
from typing import Literal, cast

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from .const import BlufiSecurity, NegType
from .dh import (
    V1_LEGACY_GROUP,
    V1_SAFE_GROUP,
    V2_GROUP,
    DhGroup,
    KeyPair,
    check_peer_key,
    generate_key_pair,
    modexp,
)
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

__all__ = [
    "V1_LEGACY_GROUP",
    "V1_SAFE_GROUP",
    "V2_GROUP",
    "BlufiSession",
    "V1Cipher",
    "V1Session",
    "V2Cipher",
    "V2Session",
    "int_to_bytes",
    "modexp",
    "session_for",
    "strip_leading_zeros",
    "v1_key",
    "v2_ivs",
    "v2_key",
]


def int_to_bytes(value: int, length: int) -> bytes:
    """Big-endian, left-zero-padded to ``length``."""
    return value.to_bytes(length, "big")


def strip_leading_zeros(data: bytes) -> bytes:
    """Remove leading zero bytes (what ``mbedtls_dhm_calc_secret`` returns in V1)."""
    return data.lstrip(b"\x00")


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
    """The client's side of one negotiation: its key pair and, after :meth:`derive`, the key."""

    default_group: DhGroup

    def __init__(
        self,
        private_key: int | None = None,
        *,
        bits: int | None = None,
        group: DhGroup | None = None,
    ) -> None:
        """Create a key pair in ``group`` (default: the class's); CPU work, use an executor.

        ``private_key`` (known-answer tests) and ``bits`` force the ``pow()`` implementation.
        """
        self.group = group or self.default_group
        if self.group.security != self.default_group.security:
            raise BlufiSecurityError(f"{self.group.name} is not a {type(self).__name__} group")
        self._pair: KeyPair = generate_key_pair(self.group, private_key, bits=bits)
        self.public_key = int_to_bytes(self._pair.public, self.group.size)
        self.secret_padded: bytes | None = None
        self.key: bytes | None = None

    def __repr__(self) -> str:
        """Never show key material."""
        return f"{type(self).__name__}({self.group.name}, derived={self.key is not None})"

    @property
    def security(self) -> BlufiSecurity:
        """V1 or V2."""
        return self.group.security

    @property
    def p(self) -> int:
        """The group's prime."""
        return self.group.p

    @property
    def key_bytes(self) -> int:
        """Size of p, of the public values and of the padded secret."""
        return self.group.size

    def param_blob(self) -> bytes:
        """``len(p) ‖ p ‖ len(g) ‖ g ‖ len(A) ‖ A`` with big-endian 16-bit lengths."""
        p = int_to_bytes(self.group.p, self.group.size)
        g = bytes((self.group.g,))
        return b"".join(len(x).to_bytes(2, "big") + x for x in (p, g, self.public_key))

    def neg_packets(self) -> tuple[bytes, bytes]:
        """Return the two phone NEG payloads: ``[00, L_hi, L_lo]`` and ``[01, blob…]``."""
        blob = self.param_blob()
        return (
            bytes((NegType.DH_PARAM_LEN,)) + len(blob).to_bytes(2, "big"),
            bytes((NegType.DH_PARAM_DATA,)) + blob,
        )

    def shared_secret(self, peer_public: bytes) -> bytes:
        """Check the peer's public key (:func:`~.dh.check_peer_key`); the padded secret."""
        if not peer_public or len(peer_public) > self.group.size:
            raise BlufiSecurityError(f"peer public key has bad length {len(peer_public)}")
        y = int.from_bytes(peer_public, "big")
        check_peer_key(y, self.group, self._pair.public)
        return self._pair.secret(y)

    def derive(self, peer_public: bytes, role: Role = "phone") -> V1Cipher | V2Cipher:
        """Derive the session key from the peer's public key and return the cipher."""
        raise NotImplementedError


class V1Session(BlufiSession):
    """Security V1 (BluFi ≤ 1.3)."""

    default_group = V1_SAFE_GROUP

    def derive(self, peer_public: bytes, role: Role = "phone") -> V1Cipher:
        """Key = MD5(secret with leading zeros stripped); AES-128-CFB per frame."""
        self.secret_padded = self.shared_secret(peer_public)
        self.key = v1_key(strip_leading_zeros(self.secret_padded))
        return V1Cipher(self.key)


class V2Session(BlufiSession):
    """Security V2 (BluFi 1.4)."""

    default_group = V2_GROUP

    def derive(self, peer_public: bytes, role: Role = "phone") -> V2Cipher:
        """Key = SHA-256(secret zero-padded to 384 B); AES-256-CTR streams."""
        self.secret_padded = self.shared_secret(peer_public)
        self.key = v2_key(self.secret_padded)
        return V2Cipher(self.key, self.secret_padded, role)


def session_for(group: DhGroup, private_key: int | None = None) -> BlufiSession:
    """Create the client's session object for ``group`` (CPU work: call from an executor)."""
    cls = V1Session if group.security == BlufiSecurity.V1 else V2Session
    return cls(private_key, group=group)
