"""Codec unit tests: CRC, spec §2.7 frames, fragmentation, reassembly, sequence numbers."""

from __future__ import annotations

import hashlib

import pytest

from custom_components.ble_provisioning.protocol.blufi import (
    BlufiChecksumError,
    BlufiFrameError,
    BlufiSecurityError,
    BlufiSequenceError,
    ControlSubtype,
    DataSubtype,
    Frame,
    FrameControl,
    FrameType,
    OpMode,
    Reassembler,
    SequenceCounter,
    StaConnState,
    V1Session,
    V2Session,
    WifiReason,
    WifiStatus,
    crc16,
    decode_frame,
    encode_frame,
    fragment,
    frame_checksum,
    max_data_len,
)
from custom_components.ble_provisioning.protocol.blufi.codec import subtype_name
from custom_components.ble_provisioning.protocol.blufi.const import V1_DH_P, V2_DH_P
from custom_components.ble_provisioning.protocol.blufi.dh import V1_LEGACY_GROUP
from custom_components.ble_provisioning.protocol.blufi.errors import (
    BlufiDeviceChecksumError,
    BlufiDeviceError,
    BlufiDeviceSecurityError,
    BlufiWifiScanError,
    device_error,
)
from custom_components.ble_provisioning.protocol.blufi.models import (
    WifiNetwork,
    parse_wifi_list,
)

C, D = FrameType.CTRL, FrameType.DATA
CHK = FrameControl.CHECK


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_crc_check_value() -> None:
    assert crc16(b"123456789") == 0xD64E
    assert frame_checksum(0, b"") == 0xE2F0
    # continuing a CRC equals computing it in one go
    assert crc16(b"6789", crc16(b"12345")) == crc16(b"123456789")


@pytest.mark.parametrize(
    ("frame", "wire"),
    [
        (Frame(C, ControlSubtype.GET_VERSION, FrameControl.NONE, 0, b""), "1c 00 00 00"),
        (Frame(C, ControlSubtype.GET_VERSION, CHK, 0, b""), "1c 02 00 00 f0 e2"),
        (Frame(C, ControlSubtype.SET_SEC_MODE, CHK, 2, b"\x03"), "04 02 02 01 03 51 5e"),
        (
            Frame(C, ControlSubtype.SET_WIFI_OPMODE, FrameControl.REQ_ACK, 0, b"\x01"),
            "08 08 00 01 01",
        ),
        (Frame(C, ControlSubtype.ACK, FrameControl.DIR, 0, b"\x00"), "00 04 00 01 00"),
        (
            Frame(D, DataSubtype.STA_SSID, FrameControl.NONE, 1, b"Zebra_home"),
            "09 00 01 0a 5a656272615f686f6d65",
        ),
    ],
)
def test_spec_frames(frame: Frame, wire: str) -> None:
    assert encode_frame(frame) == h(wire)
    assert decode_frame(h(wire)) == frame


def test_real_device_report_4997() -> None:
    frame = decode_frame(h("3d 04 01 17 00 00 00 01 06 bcddc2d54e7c 02 0a 5a656272615f686f6d65"))
    status = WifiStatus.parse(frame.data)
    assert status.opmode == OpMode.NULL
    assert status.sta_state == StaConnState.CONNECTED
    assert status.bssid == "bc:dd:c2:d5:4e:7c"
    assert status.ssid == "Zebra_home"


def test_android_fragmentation_20_byte_limit() -> None:
    payload = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
    frames = [
        encode_frame(
            Frame(
                D,
                DataSubtype.CUSTOM_DATA,
                FrameControl.FRAG if more else FrameControl.NONE,
                5 + i,
                c,
            )
        )
        for i, (more, c) in enumerate(fragment(payload, 16))
    ]
    assert frames == [
        h("4d 10 05 10 1e00 4142434445464748494a4b4c4d4e"),
        h("4d 00 06 10 4f505152535455565758595a30313233"),
    ]


def test_device_fragmentation_mtu23_remaining_length() -> None:
    payload = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
    base = FrameControl.DIR
    raw = [
        encode_frame(
            Frame(D, DataSubtype.CUSTOM_DATA, base | (FrameControl.FRAG if more else 0), i, c)
        )
        for i, (more, c) in enumerate(fragment(payload, 23 - 11 + 2))
    ]
    assert raw == [
        h("4d 14 00 0e 1e00") + payload[:12],
        h("4d 14 01 0e 1200") + payload[12:24],
        h("4d 04 02 06 595a30313233"),
    ]
    reasm = Reassembler()
    out = [reasm.feed(decode_frame(r)) for r in raw]
    assert out[:2] == [None, None]
    assert out[2] is not None
    assert out[2].payload == payload


def _v1_vector_session(seed: bytes) -> V1Session:
    # The spec's vector uses the legacy Espressif group (the client's default is RFC 2409's).
    private = int.from_bytes(hashlib.sha256(seed).digest() * 4, "big") % V1_DH_P
    return V1Session(private, group=V1_LEGACY_GROUP)


def _v2_vector_session(seed: bytes) -> V2Session:
    return V2Session(int.from_bytes(hashlib.sha512(seed).digest() * 6, "big") % V2_DH_P)


def test_spec_v1_crypto_vector() -> None:
    client, device = _v1_vector_session(b"client-priv"), _v1_vector_session(b"device-priv")
    cipher = client.derive(device.public_key)
    assert client.secret_padded is not None
    assert client.secret_padded[:16].hex() == "aeb64ee25c91ce1449fd06c154e09b67"
    assert client.key is not None
    assert client.key.hex() == "bd82eaf1548ad0ef5dcd21cb5b08a9d6"
    enc = FrameControl.ENC | CHK
    ssid = Frame(D, DataSubtype.STA_SSID, enc, 3, b"MySSID")
    assert encode_frame(ssid, cipher) == h("09 03 03 06 28184f10b9de 55 60")
    version = h("41 07 04 02 184b fcdc")
    assert decode_frame(version, cipher).data == b"\x01\x03"


def test_spec_v2_crypto_vector() -> None:
    client = _v2_vector_session(b"client-priv-3072")
    device = _v2_vector_session(b"device-priv-3072")
    cipher = client.derive(device.public_key)
    assert client.secret_padded is not None
    assert client.secret_padded[:16].hex() == "ba7894b5976851f635d93c6583a7e55e"
    assert client.key is not None
    assert client.key.hex() == "5ab7648235e42fa3d8935d58de5d9f0ce5f40cd61799bffe8d387eb1cd99fd61"
    frame = Frame(D, DataSubtype.STA_PASSWD, FrameControl.ENC | CHK, 7, b"password1")
    assert encode_frame(frame, cipher) == h("0d 03 07 09 238bb0436deeaecb0e f631")
    # the device side decrypts the same stream
    fresh = client.derive(device.public_key)
    dev_cipher = device.derive(client.public_key, "device")
    assert decode_frame(encode_frame(frame, fresh), dev_cipher).data == b"password1"


def test_strict_length_and_crc() -> None:
    good = encode_frame(Frame(C, ControlSubtype.GET_VERSION, CHK, 0, b""))
    with pytest.raises(BlufiFrameError):
        decode_frame(good + b"\x00")  # CRC appended twice / padding
    with pytest.raises(BlufiFrameError):
        decode_frame(h("1c 00 00 00 f0 e2"))  # CRC without CHECK
    with pytest.raises(BlufiChecksumError):
        decode_frame(good[:-1] + bytes((good[-1] ^ 1,)))
    with pytest.raises(BlufiFrameError):
        decode_frame(b"\x1c\x00")


def test_sequence_counter_wraps_and_checks() -> None:
    tx = SequenceCounter()
    assert [tx.next() for _ in range(258)][-3:] == [255, 0, 1]
    rx = SequenceCounter()
    for i in range(300):
        rx.check(i & 0xFF)
    with pytest.raises(BlufiSequenceError):
        rx.check(5)
    rx.check(6)  # resynchronised to the received number + 1


@pytest.mark.parametrize("mtu", [23, 185, 517])
def test_fragment_sizes(mtu: int) -> None:
    limit = max_data_len(mtu, checksum=True)
    assert limit <= 255
    assert 4 + limit + 2 <= mtu - 3
    payload = bytes(range(256)) * 40
    frags = list(fragment(payload, limit))
    assert all(len(c) <= limit for _, c in frags)
    assert [m for m, _ in frags][-1] is False
    assert all(m for m, _ in frags[:-1])
    reasm = Reassembler()
    msg = None
    for seq, (more, chunk) in enumerate(fragment(payload, limit)):
        fc = FrameControl.FRAG if more else FrameControl.NONE
        msg = reasm.feed(Frame(D, DataSubtype.CUSTOM_DATA, fc, seq & 0xFF, chunk))
    assert msg is not None
    assert msg.payload == payload


def test_fragment_limits() -> None:
    assert max_data_len(517, checksum=False) == 255
    with pytest.raises(BlufiFrameError):
        list(fragment(bytes(65536), 200))
    assert list(fragment(b"", 20)) == [(False, b"")]


def test_reassembler_rejects_inconsistent_fragments() -> None:
    reasm = Reassembler()
    reasm.feed(Frame(D, DataSubtype.CUSTOM_DATA, FrameControl.FRAG, 0, b"\x0a\x00abcd"))
    with pytest.raises(BlufiFrameError):  # wrong remaining length
        reasm.feed(Frame(D, DataSubtype.CUSTOM_DATA, FrameControl.FRAG, 1, b"\x09\x00ef"))
    reasm.feed(Frame(D, DataSubtype.CUSTOM_DATA, FrameControl.FRAG, 0, b"\x06\x00abcd"))
    with pytest.raises(BlufiFrameError):  # another type mid-message
        reasm.feed(Frame(D, DataSubtype.WIFI_LIST, FrameControl.NONE, 1, b"ef"))
    reasm.feed(Frame(D, DataSubtype.CUSTOM_DATA, FrameControl.FRAG, 0, b"\x06\x00abcd"))
    with pytest.raises(BlufiFrameError):  # too short a tail
        reasm.feed(Frame(D, DataSubtype.CUSTOM_DATA, FrameControl.NONE, 1, b"e"))


def test_wifi_status_all_tlvs() -> None:
    status = WifiStatus(
        opmode=OpMode.SOFTAP_STA,
        sta_state=StaConnState.FAIL,
        softap_conn_count=2,
        bssid="01:02:03:04:05:06",
        ssid_raw=b"Net\xff",
        password=b"secretpw",
        softap_ssid_raw=b"AP",
        softap_password=b"appass12",
        softap_auth_mode=3,
        softap_max_conn=4,
        softap_channel=11,
        max_reconnects=2,
        end_reason=WifiReason.FOURWAY_HANDSHAKE_TIMEOUT,
        rssi=-70,
    )
    wire = bytes((OpMode.SOFTAP_STA, StaConnState.FAIL, 2)) + b"".join(
        bytes((kind, len(value))) + value
        for kind, value in (
            (0x01, bytes.fromhex("010203040506")),
            (0x02, b"Net\xff"),
            (0x03, b"secretpw"),
            (0x04, b"AP"),
            (0x05, b"appass12"),
            (0x07, b"\x03"),
            (0x06, b"\x04"),
            (0x08, b"\x0b"),
            (0x14, b"\x02"),
            (0x15, b"\x0f"),
            (0x16, bytes((-70 & 0xFF,))),
        )
    )
    parsed = WifiStatus.parse(wire)
    assert parsed == status
    assert parsed.ssid == "Net\ufffd"
    assert "secretpw" not in repr(parsed)
    assert "appass12" not in repr(parsed)
    unknown = WifiStatus.parse(b"\x01\x01\x00\x15\x01\x63\x30\x00")
    assert unknown.end_reason == 99
    assert unknown.unknown_tlvs == ((0x30, b""),)


def test_wifi_list() -> None:
    nets = [WifiNetwork(b"HomeNet", -45), WifiNetwork(b"\xe2\x82", -90)]
    wire = bytes((8, -45 & 0xFF)) + b"HomeNet" + bytes((3, -90 & 0xFF)) + b"\xe2\x82"
    assert parse_wifi_list(wire) == nets
    with pytest.raises(BlufiFrameError):
        parse_wifi_list(b"\x05\xd3ab")


def test_device_error_classes() -> None:
    assert isinstance(device_error(1), BlufiDeviceChecksumError)
    assert isinstance(device_error(6), BlufiDeviceSecurityError)
    assert device_error(6).error_key == "security_failed"  # not the generic device_error
    assert device_error(0x42).error_key == "device_error"
    assert isinstance(device_error(0x0B), BlufiWifiScanError)
    err = device_error(0x42)
    assert type(err) is BlufiDeviceError
    assert err.code == 0x42
    for code in range(14):
        assert device_error(code).code == code


def test_codec_refusals() -> None:
    """Frames the codec cannot write or read: typed errors, never a raw exception."""
    assert subtype_name(FrameType.CTRL, 0x3F) == "CTRL/0x3f"
    assert subtype_name(FrameType.DATA, 0x3F) == "DATA/0x3f"
    with pytest.raises(BlufiFrameError, match="too long"):
        encode_frame(
            Frame(FrameType.DATA, DataSubtype.CUSTOM_DATA, FrameControl.NONE, 0, bytes(256))
        )
    with pytest.raises(BlufiFrameError, match="out of range"):
        encode_frame(Frame(FrameType.CTRL, 0, FrameControl.NONE, 256, b""))
    with pytest.raises(BlufiSecurityError, match="no session key"):
        decode_frame(bytes((0x4D, FrameControl.ENC, 0, 1, 0x41)))
    with pytest.raises(BlufiFrameError, match="too small"):
        list(fragment(b"abcdef", 2))
    reasm = Reassembler()
    first = Frame(FrameType.DATA, DataSubtype.CUSTOM_DATA, FrameControl.FRAG, 0, b"\x06\x00abc")
    assert reasm.feed(first) is None
    assert reasm.in_progress
    wrong = Frame(FrameType.DATA, DataSubtype.CUSTOM_DATA, FrameControl.FRAG, 1, b"\x09\x00de")
    with pytest.raises(BlufiFrameError, match="remaining-length"):
        reasm.feed(wrong)
    assert not reasm.in_progress
