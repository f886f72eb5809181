"""The example's ``encrypt_func`` / ``decrypt_func``, built on ``cryptography``'s AES only.

* :class:`CfbFrameCipher` (security V1, ``blufi_security.c`` of ESP-IDF <= 5.5):
  ``mbedtls_aes_crypt_cfb128`` with AES-128, IV ``[iv8, 0 x 15]`` and offset 0, restarted for
  every frame (``iv8`` is the frame's sequence number). CFB-128 is written here on top of the
  AES block function: keystream block = AES(IV), IV = the ciphertext block just produced/read.
* :class:`CtrStreamCipher` (security V2, BluFi 1.4): two persistent AES-256-CTR operations,
  one per direction, created at negotiation; ``iv8`` is ignored and every encrypted byte
  advances its stream (an empty frame does not).
* :class:`NoKeyCipher`: before negotiation both calls fail, so an encrypted frame gets
  DECRYPT_ERROR (the PSA code returns -1 without a key; the ESP32's AES accelerator refuses a
  context without a key the same way).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16


class NoKeyCipher:
    """No session key yet: every call fails."""

    def encrypt(self, iv8: int, data: bytes) -> bytes | None:
        """Fail (-1)."""
        return None if data else b""

    def decrypt(self, iv8: int, data: bytes) -> bytes | None:
        """Fail (-1)."""
        return None if data else b""


class CfbFrameCipher:
    """AES-128-CFB128 with a per-frame IV ``[iv8, 0 x 15]`` (security V1)."""

    def __init__(self, key: bytes) -> None:
        """Keep the AES block function for ``key`` (16 bytes, the MD5 of the secret)."""
        if len(key) != 16:
            raise ValueError("V1 key is 16 bytes")
        self._block = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - the block function under CFB

    def _cfb(self, iv8: int, data: bytes, *, decrypt: bool) -> bytes:
        register = bytes((iv8 & 0xFF,)) + bytes(BLOCK - 1)
        out = bytearray()
        for start in range(0, len(data), BLOCK):
            chunk = data[start : start + BLOCK]
            keystream = self._block.update(register)[: len(chunk)]
            produced = bytes(a ^ b for a, b in zip(chunk, keystream, strict=True))
            out += produced
            register = chunk if decrypt else produced  # the ciphertext feeds the next block
        return bytes(out)

    def encrypt(self, iv8: int, data: bytes) -> bytes | None:
        """Encrypt a frame's data field."""
        return self._cfb(iv8, data, decrypt=False)

    def decrypt(self, iv8: int, data: bytes) -> bytes | None:
        """Decrypt a frame's data field."""
        return self._cfb(iv8, data, decrypt=True)


class CtrStreamCipher:
    """AES-256-CTR, one persistent keystream per direction (security V2)."""

    def __init__(self, key: bytes, iv_encrypt: bytes, iv_decrypt: bytes) -> None:
        """``iv_encrypt`` starts the device-to-phone stream, ``iv_decrypt`` the other one."""
        if len(key) != 32 or len(iv_encrypt) != BLOCK or len(iv_decrypt) != BLOCK:
            raise ValueError("V2 takes a 32-byte key and two 16-byte counter blocks")
        aes = algorithms.AES(key)
        self._enc = Cipher(aes, modes.CTR(iv_encrypt)).encryptor()
        self._dec = Cipher(aes, modes.CTR(iv_decrypt)).encryptor()  # CTR: same operation

    def encrypt(self, iv8: int, data: bytes) -> bytes | None:
        """Encrypt with the device-to-phone stream (``iv8`` unused)."""
        return self._enc.update(data)

    def decrypt(self, iv8: int, data: bytes) -> bytes | None:
        """Decrypt with the phone-to-device stream (``iv8`` unused)."""
        return self._dec.update(data)
