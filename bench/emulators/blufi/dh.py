"""Device-side Diffie-Hellman arithmetic, as Mbed TLS / TF-PSA-Crypto do it on the ESP32.

* :class:`EspRandom` is ``esp_fill_random``: the hardware RNG, or (seeded) the deterministic
  stream the known-answer vectors were recorded with, ``SHA-256(seed ‖ uint64_be(i))`` for
  ``i = 0, 1, 2 ...``, consumed in order whatever the request sizes;
* :func:`mpi_random` is ``mbedtls_mpi_random``: big-endian bytes of the modulus' size, the top
  surplus bits shifted out, retried until ``min <= X < N`` (at most 30 draws);
* :func:`dhm_private` is how ``mbedtls_dhm_make_public`` picks X (V1: ``x_size = len(P)``, so
  X is ``mpi_random(3, P) - 1``; a shorter ``x_size`` takes that many random bytes as X);
  :func:`ffdh_private` is ``mbedtls_psa_ffdh_generate_key`` (V2: ``mpi_random(3, P) - 1``);
* :func:`modexp` is a windowed modular exponentiation that yields to the event loop as it
  goes, so a 3072-bit exponentiation by the emulated device (in the client's process) does
  not freeze the loop.

Plain ``pow()`` arithmetic; nothing here is shared with the client.
"""

from __future__ import annotations

import asyncio
import hashlib
import os

WINDOW_BITS = 5
YIELD_EVERY = 8


class NotAcceptableError(Exception):
    """``MBEDTLS_ERR_MPI_NOT_ACCEPTABLE``: no value in range after the allowed draws."""


class EspRandom:
    """``esp_fill_random``: true random bytes, or the seeded stream of the vectors."""

    def __init__(self, seed: int | str | bytes | None = None) -> None:
        """Seed None: ``os.urandom``; otherwise ``SHA-256(seed ‖ uint64_be(i))`` blocks.

        A str seed is used as UTF-8 (the vectors' ``seed_utf8``), an int as its decimal text.
        """
        if seed is None or isinstance(seed, bytes):
            self._seed = seed
        else:
            self._seed = str(seed).encode()
        self._counter = 0
        self._pending = b""
        self.bytes_used = 0

    def fill(self, size: int) -> bytes:
        """Return the next ``size`` bytes of the stream."""
        self.bytes_used += size
        if self._seed is None:
            return os.urandom(size)
        while len(self._pending) < size:
            block = self._seed + self._counter.to_bytes(8, "big")
            self._pending += hashlib.sha256(block).digest()
            self._counter += 1
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


def byte_size(value: int) -> int:
    """``mbedtls_mpi_size``: bytes needed for ``value`` (0 for 0)."""
    return (value.bit_length() + 7) // 8


def mpi_random(minimum: int, upper: int, rng: EspRandom) -> int:
    """``mbedtls_mpi_random(X, min, N)``: uniform ``min <= X < N`` by rejection sampling."""
    if upper <= minimum:
        raise ValueError("empty range")
    n_bits = upper.bit_length()
    n_bytes = (n_bits + 7) // 8
    count = 30 if n_bytes > 4 else 250
    while True:
        value = int.from_bytes(rng.fill(n_bytes), "big") >> (8 * n_bytes - n_bits)
        count -= 1
        if count == 0:
            raise NotAcceptableError
        if minimum <= value < upper:
            return value


def dhm_private(p: int, x_size: int, rng: EspRandom) -> int:
    """Private value X of ``mbedtls_dhm_make_public(ctx, x_size, ...)`` (Mbed TLS 3.6)."""
    if x_size < byte_size(p):
        return int.from_bytes(rng.fill(x_size), "big")
    return mpi_random(3, p, rng) - 1


def ffdh_private(p: int, rng: EspRandom) -> int:
    """Private value of ``psa_generate_key`` for an RFC 7919 group: ``[2, P-2]``."""
    return mpi_random(3, p, rng) - 1


def in_dhm_range(value: int, p: int) -> bool:
    """``dhm_check_range``: ``2 <= value <= P - 2``."""
    return 2 <= value <= p - 2


async def modexp(base: int, exponent: int, modulus: int) -> int:
    """Return ``base ** exponent % modulus``, yielding to the event loop as it goes.

    Fixed 5-bit windows (as CPython's own ``pow`` for long exponents), a yield every 8
    windows: about as fast as ``pow`` while the loop keeps running.
    """
    if modulus <= 0:
        raise ValueError("modulus must be positive")
    base %= modulus
    table = [1 % modulus, base]
    for _ in range(2, 1 << WINDOW_BITS):
        table.append(table[-1] * base % modulus)
    result = 1 % modulus
    mask = (1 << WINDOW_BITS) - 1
    windows = (exponent.bit_length() + WINDOW_BITS - 1) // WINDOW_BITS
    for index in range(windows - 1, -1, -1):
        result = pow(result, 1 << WINDOW_BITS, modulus)
        digit = (exponent >> (index * WINDOW_BITS)) & mask
        if digit:
            result = result * table[digit] % modulus
        if index % YIELD_EVERY == 0:
            await asyncio.sleep(0)
    return result
