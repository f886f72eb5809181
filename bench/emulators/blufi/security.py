"""The device's security negotiation (``negotiate_data_handler``, example ``blufi_security.c``).

One :class:`DeviceSecurity` lives per BLE connection (``blufi_security_init`` on connect,
``blufi_security_deinit`` on disconnect). NEG packets: ``00 L_hi L_lo`` announces the
parameter blob, ``01 blob`` carries ``len(p) p len(g) g len(A) A`` (big-endian lengths), 02-04
are no-ops.

* :class:`V1Security` (ESP-IDF <= 5.5, BluFi <= 1.3): ``mbedtls_dhm_read_params`` of the
  client's p, g and A (each field must fit, A must satisfy ``2 <= A <= p-2``, else
  READ_PARAM_ERROR 7); ``len(p)`` over 128 bytes is DH_PARAM_ERROR (6), under 128 bytes
  MAKE_PUBLIC_ERROR (8, the 128-byte output buffer is then too big for the group); the secret
  loses its leading zero bytes before MD5; AES-128-CFB per frame. Unknown packet types are
  ignored.
* :class:`V2Security` (ESP-IDF >= 6.0, BluFi 1.4): the blob's fields are bounds-checked only,
  the group is always RFC 7919 ffdhe3072, A must be exactly 384 bytes and ``1 < A < p-1``
  (else DH_PARAM_ERROR 6); the secret stays zero-padded to 384 bytes; key = SHA-256(secret),
  counter blocks SHA-256("blufi_enc"/"blufi_dec" ‖ secret)[:16]; AES-256-CTR streams. A new
  length packet drops the session key; unknown packet types are DATA_FORMAT_ERROR (9).

:class:`KeyPregen` models chips without a big-number unit (``!SOC_MPI_SUPPORTED``, V2 only):
the key pair is computed in the background at boot and after every disconnect (taking
``delay`` seconds), advertising starts only when it is ready, a NEG takes the pre-computed
pair (waiting up to 30 s for it), and a second NEG on the same link computes inline (another
``delay``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import hashlib
import logging

from custom_components.ble_provisioning.protocol.blufi.const import (
    DH_G,
    V1_KEY_BYTES,
    V2_DH_P,
    V2_KEY_BYTES,
    ErrorCode,
    NegType,
)

from .ciphers import CfbFrameCipher, CtrStreamCipher, NoKeyCipher
from .dh import (
    EspRandom,
    NotAcceptableError,
    byte_size,
    dhm_private,
    ffdh_private,
    in_dhm_range,
    modexp,
)
from .wire import FrameCipher

_LOGGER = logging.getLogger(__name__)

DH_PARAM_LEN_MAX = 1024
PREGEN_WAIT = 30.0
_PairTask = asyncio.Task[tuple[int, bytes] | None]
"""``BLUFI_DH_PREGEN_WAIT_MS``."""


@dataclass(frozen=True, slots=True)
class NegResult:
    """What one NEG packet produced: the device public key to send, or an error to report."""

    output: bytes | None = None
    error: int | None = None


@dataclass(frozen=True, slots=True)
class KeyChoice:
    """How the device picks its private value (firmware default, or test shortcuts)."""

    private_key: int | None = None
    """A fixed private value (tests)."""
    private_bits: int | None = None
    """A short private value of this many bits (speed; V1 takes ``x_size`` bytes)."""


class KeyPregen:
    """Background pre-computation of the V2 key pair (``blufi_dh_pregen_*``)."""

    def __init__(self, delay: float, compute: Callable[[], Awaitable[tuple[int, bytes]]]) -> None:
        """``delay``: seconds the software big-number computation takes."""
        self.delay = delay
        self._compute = compute
        self._task: _PairTask | None = None
        self._pair: tuple[int, bytes] | None = None
        self.runs = 0

    @property
    def running(self) -> bool:
        """True while a pre-computation is in progress."""
        return self._task is not None and not self._task.done()

    def restart(self) -> None:
        """Drop an unused pair and compute a new one (boot, disconnect)."""
        previous = self._task
        self._pair = None
        self._task = asyncio.get_running_loop().create_task(self._run(previous))

    async def _run(self, previous: _PairTask | None) -> tuple[int, bytes] | None:
        if previous is not None and not previous.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await previous  # blufi_dh_pregen_cleanup waits for a running pre-generation
        await asyncio.sleep(self.delay)
        self._pair = await self._compute()
        self.runs += 1
        _LOGGER.debug("DH keypair pre-generation done")
        return self._pair

    async def wait_ready(self) -> None:
        """Return once no pre-computation is running."""
        task = self._task
        if task is not None and not task.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    async def take(self) -> tuple[int, bytes] | None:
        """Return the pre-computed pair (consumed), waiting up to 30 s; None without one."""
        task = self._task
        if task is None:
            return None
        if not task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), PREGEN_WAIT)
        pair, self._pair = self._pair, None
        return pair

    def cancel(self) -> None:
        """Stop (emulator shutdown)."""
        if self._task is not None:
            self._task.cancel()


class DeviceSecurity:
    """Common state: the parameter blob being announced and the frame cipher."""

    version = 0

    def __init__(self, rng: EspRandom, choice: KeyChoice) -> None:
        """Security context of one link; ``rng`` is ``esp_fill_random``."""
        self._rng = rng
        self._choice = choice
        self.param_len = 0
        self.param_allocated = False
        self.cipher: FrameCipher = NoKeyCipher()
        self.key: bytes | None = None

    def _error(self, code: int, why: str) -> NegResult:
        _LOGGER.debug("negotiation refused (%s): error %d", why, code)
        return NegResult(error=code)

    async def negotiate(self, data: bytes) -> NegResult:
        """Handle one reassembled NEG message."""
        if len(data) < 3:
            return self._error(ErrorCode.DATA_FORMAT_ERROR, "NEG packet shorter than 3 bytes")
        kind = data[0]
        if kind == NegType.DH_PARAM_LEN:
            length = (data[1] << 8) | data[2]
            if not 1 <= length <= DH_PARAM_LEN_MAX:
                self.param_len = 0
                return self._error(ErrorCode.DH_PARAM_ERROR, f"parameter length {length}")
            self._on_param_len()
            self.param_len = length
            self.param_allocated = True
            return NegResult()
        if kind == NegType.DH_PARAM_DATA:
            if not self.param_allocated:
                return self._error(ErrorCode.DH_PARAM_ERROR, "no length packet first")
            if len(data) < self.param_len + 1:
                return self._error(ErrorCode.DH_PARAM_ERROR, "blob shorter than announced")
            return await self._param_data(data[1 : 1 + self.param_len])
        if kind in (NegType.DH_P, NegType.DH_G, NegType.DH_PUBLIC):
            return NegResult()
        return self._unknown(kind)

    def _on_param_len(self) -> None:
        """Apply what a new length packet does to the session besides the buffer."""

    def _unknown(self, kind: int) -> NegResult:
        return NegResult()

    async def _param_data(self, blob: bytes) -> NegResult:
        raise NotImplementedError


def _read_field(blob: bytes, pos: int) -> tuple[int, int] | None:
    """``dhm_read_bignum``: a 2-byte big-endian length and that many bytes (may be 0)."""
    if len(blob) - pos < 2:
        return None
    size = int.from_bytes(blob[pos : pos + 2], "big")
    pos += 2
    if len(blob) - pos < size:
        return None
    return int.from_bytes(blob[pos : pos + size], "big"), pos + size


class V1Security(DeviceSecurity):
    """Mbed TLS DHM with the client's group, MD5 key, AES-128-CFB per frame."""

    version = 1

    async def _param_data(self, blob: bytes) -> NegResult:
        values: list[int] = []
        pos = 0
        for _ in range(3):
            field = _read_field(blob, pos)
            if field is None:
                return self._error(ErrorCode.READ_PARAM_ERROR, "parameter field overruns")
            value, pos = field
            values.append(value)
        p, g, peer = values
        if not in_dhm_range(peer, p):
            return self._error(ErrorCode.READ_PARAM_ERROR, "peer key out of range")
        self.param_allocated = False  # freed once the parameters are read
        size = byte_size(p)
        if size > V1_KEY_BYTES:
            return self._error(ErrorCode.DH_PARAM_ERROR, f"{size}-byte group")
        if size < V1_KEY_BYTES or p % 2 == 0:
            # make_public: the 128-byte output is larger than the group / exp_mod refuses
            return self._error(ErrorCode.MAKE_PUBLIC_ERROR, "group unusable")
        try:
            private = self._private(p)
        except NotAcceptableError:
            return self._error(ErrorCode.MAKE_PUBLIC_ERROR, "no private value")
        public = await modexp(g, private, p)
        if not in_dhm_range(public, p):
            return self._error(ErrorCode.MAKE_PUBLIC_ERROR, "public value out of range")
        shared = await modexp(peer, private, p)
        self.key = v1_key(shared)
        self.cipher = CfbFrameCipher(self.key)
        return NegResult(output=public.to_bytes(V1_KEY_BYTES, "big"))

    def _private(self, p: int) -> int:
        if self._choice.private_key is not None:
            return self._choice.private_key
        if self._choice.private_bits is not None:
            return dhm_private(p, (self._choice.private_bits + 7) // 8, self._rng)
        return dhm_private(p, byte_size(p), self._rng)


def v1_key(shared: int) -> bytes:
    """V1 key: MD5 of the secret as ``mbedtls_dhm_calc_secret`` writes it (no leading zeros)."""
    secret = shared.to_bytes(byte_size(shared), "big")
    return hashlib.md5(secret).digest()  # noqa: S324 - the protocol's key derivation


def v2_keys(shared: int) -> tuple[bytes, bytes, bytes]:
    """V2 key, device-to-phone and phone-to-device counter blocks (384-byte padded secret)."""
    secret = shared.to_bytes(V2_KEY_BYTES, "big")
    return (
        hashlib.sha256(secret).digest(),
        hashlib.sha256(b"blufi_enc" + secret).digest()[:16],
        hashlib.sha256(b"blufi_dec" + secret).digest()[:16],
    )


async def v2_key_pair(rng: EspRandom, choice: KeyChoice) -> tuple[int, bytes]:
    """``psa_generate_key`` + ``psa_export_public_key`` for ffdhe3072."""
    if choice.private_key is not None:
        private = choice.private_key
    elif choice.private_bits is not None:
        private = max(2, int.from_bytes(rng.fill((choice.private_bits + 7) // 8), "big"))
    else:
        private = ffdh_private(V2_DH_P, rng)
    public = await modexp(DH_G, private, V2_DH_P)
    return private, public.to_bytes(V2_KEY_BYTES, "big")


class V2Security(DeviceSecurity):
    """PSA FFDH over ffdhe3072, SHA-256 key, AES-256-CTR streams."""

    version = 2

    def __init__(
        self,
        rng: EspRandom,
        choice: KeyChoice,
        *,
        pregen: KeyPregen | None = None,
    ) -> None:
        """``pregen``: the background key pair of a chip without a big-number unit."""
        super().__init__(rng, choice)
        self._pregen = pregen

    def _on_param_len(self) -> None:
        self.cipher = NoKeyCipher()  # blufi_cleanup_aes_session: renegotiation drops the key
        self.key = None

    def _unknown(self, kind: int) -> NegResult:
        return self._error(ErrorCode.DATA_FORMAT_ERROR, f"unknown NEG packet 0x{kind:02x}")

    async def _param_data(self, blob: bytes) -> NegResult:
        total = len(blob)
        if total < 2:
            return self._error(ErrorCode.DH_PARAM_ERROR, "blob too short for len(p)")
        pos = 2 + int.from_bytes(blob[0:2], "big")
        if pos + 2 > total:
            return self._error(ErrorCode.DH_PARAM_ERROR, "p/g overruns the blob")
        pos += 2 + int.from_bytes(blob[pos : pos + 2], "big")
        if pos + 2 > total:
            return self._error(ErrorCode.DH_PARAM_ERROR, "g/A overruns the blob")
        pub_len = int.from_bytes(blob[pos : pos + 2], "big")
        pos += 2
        if pos + pub_len > total:
            return self._error(ErrorCode.DH_PARAM_ERROR, "A overruns the blob")
        if pub_len != V2_KEY_BYTES:
            return self._error(ErrorCode.DH_PARAM_ERROR, f"{pub_len}-byte key, not 384")
        pair = await self._pregen.take() if self._pregen is not None else None
        if pair is None:
            if self._pregen is not None:
                await asyncio.sleep(self._pregen.delay)  # inline generation in software
            pair = await v2_key_pair(self._rng, self._choice)
        private, public = pair
        self.param_allocated = False
        peer = int.from_bytes(blob[pos : pos + pub_len], "big")
        if not 1 < peer < V2_DH_P - 1:
            return self._error(ErrorCode.DH_PARAM_ERROR, "peer key out of range")
        self.key, iv_encrypt, iv_decrypt = v2_keys(await modexp(peer, private, V2_DH_P))
        self.cipher = CtrStreamCipher(self.key, iv_encrypt, iv_decrypt)
        return NegResult(output=public)
