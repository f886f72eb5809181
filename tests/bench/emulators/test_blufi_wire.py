"""BluFi stack behaviours of the emulated ESP32 (wire, sequence, security), model level."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bench.emulators.blufi import PROFILES, BlufiDeviceConfig, BlufiFaults, crc_of, wire
from bench.emulators.blufi.dh import modexp
from custom_components.ble_provisioning.protocol.blufi.const import (
    DH_G,
    V2_DH_P,
    ControlSubtype,
    DataSubtype,
    ErrorCode,
    FrameControl,
)

from .blufi_phone import Phone, ctrl, data_type, param_blob

NEG = data_type(DataSubtype.NEG)
ERROR = data_type(DataSubtype.ERROR_INFO)
CUSTOM = data_type(DataSubtype.CUSTOM_DATA)
VERSION = ctrl(ControlSubtype.GET_VERSION)
ACK = ctrl(ControlSubtype.ACK)


@pytest.fixture
async def v1() -> AsyncIterator[Phone]:
    config = BlufiDeviceConfig(profile=PROFILES["v5.5"], seed=2, custom_reply=lambda _d: None)
    phone = Phone(config)
    phone.connect()
    yield phone
    await phone.close()


# ---------------------------------------------------------------- CRC and small frames


def test_crc_is_esp_crc16_be() -> None:
    assert crc_of(b"123456789") == 0xD64E  # CRC-16/GENIBUS check value
    assert wire.frame_checksum(0, b"") == 0xE2F0  # GET_VERSION, seq 0 (spec §2.7)
    assert wire.crc16_be(wire.crc16_be(0, b"1234"), b"56789") == 0xD64E  # continues a CRC


async def test_spec_frames(v1: Phone) -> None:
    """Byte-exact frames from the spec's table (§2.7)."""
    await v1.write(bytes.fromhex("080800" + "0101"))  # SET_OPMODE STA, REQ_ACK, seq 0
    assert v1.new() == [bytes.fromhex("0004000100")]  # device ACK of seq 0, device seq 0
    v1.model.env.frag_size = 12  # MTU 23
    await v1.model.send_custom_data(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123")
    assert v1.new() == [
        bytes.fromhex("4d14010e1e00") + b"ABCDEFGHIJKL",
        bytes.fromhex("4d14020e1200") + b"MNOPQRSTUVWX",  # the *remaining* length
        bytes.fromhex("4d040306") + b"YZ0123",
    ]


# ---------------------------------------------------------------- sequence numbers


async def test_every_frame_advances_the_sequence_a_wrong_one_does_not(v1: Phone) -> None:
    await v1.send(CUSTOM, bytes(600), limit=100)  # 7 frames: seq 0..6
    assert v1.model.env.recv_seq == 7
    await v1.write(v1.frame(VERSION, seq=9))  # wrong sequence
    assert v1.messages() == [(ERROR, bytes((ErrorCode.SEQUENCE_ERROR,)))]
    assert v1.model.env.recv_seq == 7  # not advanced
    await v1.write(v1.frame(VERSION, seq=7))
    assert v1.messages() == [(data_type(DataSubtype.REPLY_VERSION), b"\x01\x03")]


async def test_length_check_refuses_without_advancing(v1: Phone) -> None:
    frame = v1.frame(VERSION, check=True)
    await v1.write(frame + b"\x00")  # one byte too many (ESP-IDF >= 5.0.9 ...)
    assert v1.messages() == [(ERROR, bytes((ErrorCode.DATA_FORMAT_ERROR,)))]
    await v1.write(frame)
    assert v1.messages() == [(data_type(DataSubtype.REPLY_VERSION), b"\x01\x03")]


async def test_reassembly_errors(v1: Phone) -> None:
    frag = FrameControl.FRAG
    await v1.write(v1.frame(CUSTOM, b"\x00\x00abc", fc=frag))  # total 0
    await v1.write(v1.frame(CUSTOM, b"\x04\x00abc", fc=frag), v1.frame(CUSTOM, b"de"))  # 5 != 4
    await v1.write(v1.frame(CUSTOM, b"\x01", fc=frag))  # shorter than the length prefix
    assert [p for _k, p in v1.messages()] == [b"\x09"] * 3
    assert "custom_data" not in v1.model.fields


# ---------------------------------------------------------------- fragments


async def test_device_fragments_carry_at_most_246_data_bytes_and_accept_255() -> None:
    phone = Phone(BlufiDeviceConfig(profile=PROFILES["v6.0"], seed=3, dh_private_bits=256))
    try:
        phone.connect(mtu=517)
        await phone.negotiate(2)
        phone.new()
        big = bytes(range(256)) * 8
        await phone.send(CUSTOM, big, limit=255, check=True, encrypt=True)  # echoed back
        frames = phone.new()
        assert max(raw[3] for raw in frames) == 246  # frag_size 244 + the 2-byte length
        assert all(len(raw) <= 4 + 246 + 2 for raw in frames)
        assert phone.messages(frames) == [(CUSTOM, big)]
        writes = phone.model.writes[-len(big) // 253 - 1 :]
        assert max(raw[3] for raw in writes) == 255
    finally:
        await phone.close()


async def test_fragment_size_survives_links(v1: Phone) -> None:
    """frag_size changes only on an MTU exchange: a link without one keeps the old one."""
    v1.model.on_mtu(517)
    v1.disconnect()
    v1.connect(mtu=None)  # no MTU exchange: ATT_MTU 23
    assert v1.model.frag_size == 244
    await v1.negotiate(1)
    (key_frame,) = [raw for raw in v1.sent if raw[0] == NEG]
    assert len(key_frame) == 132  # one frame; a 20-byte link cuts it (the bench does, at MTU-3)


# ---------------------------------------------------------------- control frames, security


async def test_device_control_frames_are_never_encrypted(v1: Phone) -> None:
    await v1.negotiate(1)
    await v1.write(v1.frame(ctrl(ControlSubtype.SET_SEC_MODE), b"\x33", check=True))
    await v1.write(v1.frame(ctrl(ControlSubtype.SET_WIFI_OPMODE), b"\x01", fc=0x08))
    (ack,) = v1.new()
    assert ack[0] == ACK
    assert ack[1] == FrameControl.DIR | FrameControl.CHECK  # checksummed, not encrypted
    assert ack[4] == v1.seq - 1


@pytest.mark.parametrize("encrypt", [True, False])
async def test_plain_or_encrypted_control_frames_are_accepted(v1: Phone, encrypt: bool) -> None:
    await v1.negotiate(1)
    opmode = v1.frame(ctrl(ControlSubtype.SET_WIFI_OPMODE), b"\x01", check=True, encrypt=encrypt)
    await v1.write(opmode)
    assert v1.model.fields["opmode"] == [1]
    assert v1.model.errors_sent == []


async def test_encrypted_frame_before_negotiation_is_a_decrypt_error(v1: Phone) -> None:
    await v1.write(bytes.fromhex("0d010003") + b"abc")  # STA_PASSWD, ENC set, no key yet
    await v1.write(bytes.fromhex("1c010100"))  # GET_VERSION, ENC set, no data: nothing to do
    assert [p for _k, p in v1.messages()] == [b"\x02", b"\x01\x03"]


@pytest.mark.parametrize(("key_bytes", "error"), [(128, 0x06), (383, 0x06), (384, None)])
async def test_v2_needs_a_384_byte_public_key(key_bytes: int, error: int | None) -> None:
    phone = Phone(BlufiDeviceConfig(profile=PROFILES["v6.0"], seed=4, dh_private_bits=256))
    try:
        phone.connect()
        public = pow(DH_G, 0x1234567, V2_DH_P).to_bytes(384, "big")[-key_bytes:]
        await phone.send_params(param_blob(V2_DH_P, 384, public))
        kinds = [kind for kind, _payload in phone.messages()]
        assert kinds == ([ERROR] if error else [NEG])
        assert phone.model.errors_sent == ([error] if error else [])
    finally:
        await phone.close()


@pytest.mark.parametrize(
    ("p_bytes", "error"),
    [(96, ErrorCode.MAKE_PUBLIC_ERROR), (256, ErrorCode.DH_PARAM_ERROR)],
)
async def test_v1_group_must_be_1024_bit(v1: Phone, p_bytes: int, error: int) -> None:
    p = (1 << (8 * p_bytes - 1)) | 0xC5  # odd, of that size
    await v1.send_params(param_blob(p, p_bytes, pow(DH_G, 5, p).to_bytes(p_bytes, "big")))
    assert v1.messages() == [(ERROR, bytes((error,)))]


async def test_neg_without_length_packet_and_bad_length(v1: Phone) -> None:
    await v1.send(NEG, b"\x01\x00\x00\x00")
    await v1.send(NEG, b"\x00\x04\x01")  # 1025 > DH_PARAM_LEN_MAX
    await v1.send(NEG, b"\x00")  # shorter than 3 bytes
    assert [p for _k, p in v1.messages()] == [b"\x06", b"\x06", b"\x09"]


# ---------------------------------------------------------------- pre-computation, faults


async def test_neg_during_key_precomputation_is_answered_when_it_is_done() -> None:
    config = BlufiDeviceConfig(profile=PROFILES["v6.0"], seed=5, dh_precompute=0.2)
    phone = Phone(config)
    try:
        phone.model.boot()
        pregen = phone.model.pregen
        assert pregen is not None
        assert pregen.running
        phone.connect()
        neg_done = asyncio.get_running_loop().create_task(phone.negotiate(2))
        for _ in range(20):
            await asyncio.sleep(0)
        assert pregen.running
        assert not [raw for raw in phone.sent if raw[0] == NEG]  # no key before it is ready
        await neg_done
        assert pregen.runs == 1
        assert phone.model.negotiations == 1
        # A second negotiation on the same link: the pair was used, it is computed inline.
        await phone.negotiate(2)
        assert pregen.runs == 1
        assert phone.model.negotiations == 2
        phone.disconnect()
        assert pregen.running  # recomputed after every disconnect
    finally:
        await phone.close()


async def test_write_and_notification_faults(v1: Phone) -> None:
    v1.model.config.faults = BlufiFaults(
        error_at_write={0: 0x0C}, drop_notifications={1}, corrupt_crc_notifications={2}
    )
    await v1.write(v1.frame(VERSION))  # write 0: answered by the error instead
    v1.seq = 0  # the device never handled it: its sequence did not advance
    await v1.write(v1.frame(VERSION, check=True))  # notification 1: dropped
    await v1.write(v1.frame(ctrl(ControlSubtype.SET_SEC_MODE), b"\x10", check=True))
    await v1.write(v1.frame(ctrl(ControlSubtype.SET_WIFI_OPMODE), b"\x01", fc=0x08))
    sent = v1.new()
    assert sent[0] == bytes.fromhex("490400010c")
    assert len(sent) == 2  # the dropped version reply is recorded, not sent
    assert len(v1.model.notifications) == 3
    assert v1.parse(sent[1]).crc_ok is False  # the ACK's CRC corrupted
    v1.model.config.faults = BlufiFaults(disconnect_at_write=4)
    await v1.write(v1.frame(VERSION))
    assert v1.drops == 1


async def test_modexp_matches_pow() -> None:
    for base, exponent in ((2, 0), (2, 1), (3, (1 << 3071) + 12345), (V2_DH_P - 2, 977)):
        assert await modexp(base, exponent, V2_DH_P) == pow(base, exponent, V2_DH_P)
