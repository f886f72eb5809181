"""A minimal phone side for driving the BluFi device model directly (no radio, no client).

Independent of the client library on purpose (only its constants): the emulator tests stay
valid while the client is being reworked, and a shared bug cannot hide. The CRC is the
emulator's own, which the known-answer vectors check byte for byte.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
from typing import Any

from bench.emulators.blufi import BlufiDeviceConfig, BlufiDeviceModel
from bench.emulators.blufi.ciphers import CfbFrameCipher, CtrStreamCipher
from bench.emulators.blufi.wire import FrameCipher, frame_checksum
from custom_components.ble_provisioning.protocol.blufi.const import (
    DH_G,
    V1_DH_P,
    V2_DH_P,
    WRITE_CHAR_UUID,
    ControlSubtype,
    DataSubtype,
    FrameControl,
    FrameType,
)

VECTORS = Path(__file__).resolve().parents[2] / "data" / "vectors"


def load_vector(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


def param_blob(p: int, size: int, public: bytes) -> bytes:
    """The NEG parameter blob ``len(p) p len(g) g len(A) A`` (p on ``size`` bytes, g = 2)."""
    fields = (p.to_bytes(size, "big"), bytes((DH_G,)), public)
    return b"".join(len(v).to_bytes(2, "big") + v for v in fields)


def ctrl(subtype: int) -> int:
    return (subtype << 2) | FrameType.CTRL


def data_type(subtype: int) -> int:
    return (subtype << 2) | FrameType.DATA


@dataclass(frozen=True)
class DeviceFrame:
    """One notification as the phone reads it."""

    type_byte: int
    fc: int
    seq: int
    data: bytes
    crc_ok: bool | None


class Phone:
    """Builds phone frames (own sequence counter), feeds the model, reads its notifications."""

    def __init__(self, config: BlufiDeviceConfig) -> None:
        self.sent: list[bytes] = []
        self.drops = 0
        self.model = BlufiDeviceModel(config, send=self._on_notify, drop=self._on_drop)
        self.seq = 0
        self.tx_cipher: FrameCipher | None = None
        self.rx_cipher: FrameCipher | None = None
        self._read = 0

    async def _on_notify(self, raw: bytes) -> None:
        self.sent.append(raw)

    async def _on_drop(self) -> None:
        self.drops += 1
        self.model.on_disconnect()

    # ------------------------------------------------------------------ link

    def connect(self, mtu: int | None = 517) -> None:
        """A central connects (and exchanges the MTU unless None)."""
        self.seq = 0
        self._read = len(self.sent)
        self.tx_cipher = self.rx_cipher = None
        self.model.on_connect()
        if mtu is not None:
            self.model.on_mtu(mtu)

    def disconnect(self) -> None:
        self.model.on_disconnect()

    async def close(self) -> None:
        await self.model.close()

    # ------------------------------------------------------------------ writing

    def frame(
        self,
        type_byte: int,
        data: bytes = b"",
        *,
        fc: int = 0,
        check: bool = False,
        encrypt: bool = False,
        seq: int | None = None,
    ) -> bytes:
        """One phone frame; takes the next sequence number unless ``seq`` is given."""
        if seq is None:
            seq, self.seq = self.seq, (self.seq + 1) & 0xFF
        crc = frame_checksum(seq, data)
        if encrypt:
            assert self.tx_cipher is not None
            encrypted = self.tx_cipher.encrypt(seq, data)
            assert encrypted is not None
            data = encrypted
            fc |= FrameControl.ENC
        if check:
            fc |= FrameControl.CHECK
        raw = bytes((type_byte, fc, seq, len(data))) + data
        return raw + crc.to_bytes(2, "little") if check else raw

    def fragments(
        self, type_byte: int, payload: bytes, *, limit: int = 255, **kwargs: Any
    ) -> list[bytes]:
        """A message cut like the official clients: remaining-length prefix, ``limit`` data."""
        frames = []
        pos = 0
        while len(payload) - pos > limit:
            remain = len(payload) - pos
            chunk = payload[pos : pos + limit - 2]
            body = remain.to_bytes(2, "little") + chunk
            frames.append(self.frame(type_byte, body, fc=FrameControl.FRAG, **kwargs))
            pos += len(chunk)
        frames.append(self.frame(type_byte, payload[pos:], **kwargs))
        return frames

    async def write(self, *frames: bytes) -> None:
        """Write raw frames to FF01 and wait until the device handled them."""
        for raw in frames:
            self.model.write(WRITE_CHAR_UUID, raw)
        await self.model.drain()

    async def send(self, type_byte: int, payload: bytes = b"", **kwargs: Any) -> None:
        await self.write(*self.fragments(type_byte, payload, **kwargs))

    async def send_params(self, blob: bytes) -> None:
        """The two NEG messages: the blob's length, then the blob."""
        neg = data_type(DataSubtype.NEG)
        await self.send(neg, b"\x00" + len(blob).to_bytes(2, "big"))
        await self.send(neg, b"\x01" + blob)

    # ------------------------------------------------------------------ reading

    def new(self) -> list[bytes]:
        """Notifications since the last call."""
        out = self.sent[self._read :]
        self._read = len(self.sent)
        return out

    def parse(self, raw: bytes) -> DeviceFrame:
        type_byte, fc, seq, length = raw[0], raw[1], raw[2], raw[3]
        data = raw[4 : 4 + length]
        if fc & FrameControl.ENC:
            assert self.rx_cipher is not None
            plain = self.rx_cipher.decrypt(seq, data)
            assert plain is not None
            data = plain
        crc_ok = None
        if fc & FrameControl.CHECK:
            crc_ok = int.from_bytes(raw[4 + length : 6 + length], "little") == frame_checksum(
                seq, data
            )
        return DeviceFrame(type_byte, fc, seq, data, crc_ok)

    def messages(self, raws: list[bytes] | None = None) -> list[tuple[int, bytes]]:
        """Reassembled ``(type_byte, payload)`` of new notifications (or of ``raws``)."""
        out: list[tuple[int, bytes]] = []
        buf = b""
        for raw in self.new() if raws is None else raws:
            frame = self.parse(raw)
            assert frame.crc_ok is not False, "device frame with a bad CRC"
            if frame.fc & FrameControl.FRAG:
                buf += frame.data[2:]
                continue
            out.append((frame.type_byte, buf + frame.data))
            buf = b""
        return out

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait (bounded, not timed) until ``predicate()`` holds."""
        async with asyncio.timeout(timeout):
            while not predicate():  # noqa: ASYNC110 - polling emulator state
                await asyncio.sleep(0.002)

    # ------------------------------------------------------------------ security

    async def negotiate(self, security: int, private: int = 0x1234567) -> bytes:
        """Run a V1 (legacy group) or V2 negotiation and set both ciphers; return the key."""
        p = V1_DH_P if security == 1 else V2_DH_P
        size = 128 if security == 1 else 384
        public = pow(DH_G, private, p).to_bytes(size, "big")
        await self.send_params(param_blob(p, size, public))
        neg = data_type(DataSubtype.NEG)
        replies = [m for m in self.messages() if m[0] == neg]
        assert replies, "no device key"
        shared = pow(int.from_bytes(replies[-1][1], "big"), private, p)
        if security == 1:
            secret = shared.to_bytes((shared.bit_length() + 7) // 8, "big")
            key = hashlib.md5(secret).digest()
            self.tx_cipher = self.rx_cipher = CfbFrameCipher(key)
        else:
            secret = shared.to_bytes(384, "big")
            key = hashlib.sha256(secret).digest()
            to_phone = hashlib.sha256(b"blufi_enc" + secret).digest()[:16]
            to_device = hashlib.sha256(b"blufi_dec" + secret).digest()[:16]
            self.tx_cipher = CtrStreamCipher(key, to_device, to_phone)
            self.rx_cipher = self.tx_cipher
            # one object: its "encrypt" stream is the phone's, its "decrypt" the device's
        await self.write(self.frame(ctrl(ControlSubtype.SET_SEC_MODE), b"\x03", check=True))
        return key
