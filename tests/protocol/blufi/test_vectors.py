"""Known-answer vectors recorded from ESP-IDF v5.5.5 (V1) and v6.0.2 (V2): exact bytes."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from custom_components.ble_provisioning.protocol.blufi import (
    BlufiChecksumError,
    DataSubtype,
    Frame,
    FrameControl,
    FrameType,
    OpMode,
    Reassembler,
    StaConnState,
    V1Session,
    V2Session,
    WifiStatus,
    decode_frame,
    encode_frame,
    fragment,
)
from custom_components.ble_provisioning.protocol.blufi.codec import parse_header
from custom_components.ble_provisioning.protocol.blufi.dh import (
    V1_LEGACY_GROUP,
    V2_GROUP,
    DhGroup,
    group_for,
)
from custom_components.ble_provisioning.protocol.blufi.models import parse_wifi_list
from custom_components.ble_provisioning.protocol.blufi.security import strip_leading_zeros

from .vectors import load_annotated, load_leading_zero, load_session

FLAG_LETTERS = {
    "E": FrameControl.ENC,
    "C": FrameControl.CHECK,
    "D": FrameControl.DIR,
    "A": FrameControl.REQ_ACK,
    "F": FrameControl.FRAG,
}


def recorded_group(data: dict[str, Any]) -> DhGroup:
    """The DH group the recorded client offered: p and g read from its NEG DATA message."""
    reassembler = Reassembler()
    for entry in data["wire"]:
        if entry["dir"] != "W":
            continue
        message = reassembler.feed(decode_frame(bytes.fromhex(entry["hex"])))
        if message is not None and message.subtype == DataSubtype.NEG and message.payload[0] == 1:
            blob, fields = message.payload[1:], []
            while blob:
                size = int.from_bytes(blob[:2], "big")
                fields.append(int.from_bytes(blob[2 : 2 + size], "big"))
                blob = blob[2 + size :]
            return group_for(fields[0], fields[1])
    raise AssertionError("no NEG DATA in the recording")


def _session(variant: str) -> tuple[V1Session | V2Session, dict[str, Any]]:
    data = load_session(variant)
    cls = V1Session if variant == "v1" else V2Session
    private = int(data["client"]["private_key_hex"], 16)
    return cls(private, group=recorded_group(data)), data


def test_recorded_groups() -> None:
    """V1 was recorded with the legacy group (today's client offers RFC 2409 group 2 first)."""
    assert recorded_group(load_session("v1")) is V1_LEGACY_GROUP
    assert recorded_group(load_session("v2")) is V2_GROUP


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_keys_from_recorded_private_key(variant: str) -> None:
    session, data = _session(variant)
    assert session.public_key.hex() == data["client"]["public_key_hex"]
    device_pub = bytes.fromhex(data["derived"]["device_public_key"])
    session.derive(device_pub)
    assert session.key is not None
    assert session.key.hex() == data["derived"]["key"]
    assert session.secret_padded is not None
    used = data["derived"]["shared_secret_used_by_device"]
    if variant == "v1":
        assert strip_leading_zeros(session.secret_padded).hex() == used
        assert len(session.key) == 16
    else:
        assert session.secret_padded.hex() == used
        assert len(session.key) == 32
        iv_enc = hashlib.sha256(b"blufi_enc" + session.secret_padded).digest()[:16]
        iv_dec = hashlib.sha256(b"blufi_dec" + session.secret_padded).digest()[:16]
        assert iv_enc.hex() == data["derived"]["iv_device_to_phone"]
        assert iv_dec.hex() == data["derived"]["iv_phone_to_device"]


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_whole_session_wire(variant: str) -> None:
    """Decrypt+check every notification; re-encrypt every client frame to the same bytes."""
    data = load_session(variant)
    annotated = load_annotated(variant)
    wire = data["wire"]
    assert len(annotated) == len(wire) > 25
    device_pub = bytes.fromhex(data["derived"]["device_public_key"])
    priv = int(data["client"]["private_key_hex"], 16)
    cls = V1Session if variant == "v1" else V2Session
    group = recorded_group(data)
    phone = cls(priv, group=group).derive(device_pub, "phone")  # encrypts W, decrypts N
    device_view = cls(priv, group=group).derive(device_pub, "device")  # decrypts W
    if variant == "v1":
        device_view = phone  # V1: one key, IV per frame, both directions
    negotiated = False
    phone_rx_seq = phone_tx_seq = 0
    custom_out = Reassembler()
    notified = Reassembler()
    messages = []
    checked_n = checked_w = 0
    for entry, note in zip(wire, annotated, strict=True):
        raw = bytes.fromhex(entry["hex"])
        assert entry["dir"] == note.direction
        tbyte, fc, seq, length = parse_header(raw)
        flags = FrameControl.NONE
        for letter in note.flags:
            flags |= FLAG_LETTERS[letter]
        assert fc == flags, note
        assert seq == note.seq
        assert length == note.length
        cipher = phone if negotiated else None
        if note.direction == "N":
            assert seq == phone_rx_seq
            phone_rx_seq += 1
            frame = decode_frame(raw, cipher)  # checks the CRC when C is set
            plain = frame.data
            if note.truncated:
                assert plain.startswith(note.plain)
                assert len(plain) == length
            else:
                assert plain == note.plain
            msg = notified.feed(frame)
            if msg is not None:
                messages.append(msg)
                if msg.frame_type == FrameType.DATA and msg.subtype == DataSubtype.NEG:
                    assert msg.payload == device_pub
                    negotiated = True
            checked_n += 1
            continue
        assert seq == phone_tx_seq
        phone_tx_seq += 1
        dev_cipher = device_view if negotiated else None
        if note.crc_bad:
            with pytest.raises(BlufiChecksumError):
                decode_frame(raw, dev_cipher)
            # The client corrupted the CRC on purpose: everything but the CRC must match.
            frame_bytes = raw[:-2]
            plain = note.plain
        else:
            decoded = decode_frame(raw, dev_cipher)
            plain = decoded.data
            if note.truncated:
                assert plain.startswith(note.plain)
            else:
                assert plain == note.plain
            frame_bytes = raw
        frame = Frame(FrameType(tbyte & 3), tbyte >> 2, fc, seq, plain)
        encoded = encode_frame(frame, phone if (fc & FrameControl.ENC) else None)
        if note.crc_bad:
            assert encoded[:-2] == frame_bytes
            assert encoded[-2:] != raw[-2:]
        else:
            assert encoded == frame_bytes, note
        if frame.subtype == DataSubtype.CUSTOM_DATA and frame.frame_type == FrameType.DATA:
            msg = custom_out.feed(frame)
            if msg is not None and not note.crc_bad:
                received = data["device_summary"]["custom_data_received"][0]
                assert msg.payload == received.encode()
                # our fragmenter, at the recorder's 255-byte frame limit, gives the same frames
                frags = list(fragment(msg.payload, 255 - 4 - 2))
                assert len(frags) == 2
                assert frags[0][0] is True
        checked_w += 1
    assert checked_n == sum(1 for w in wire if w["dir"] == "N")
    assert checked_w == sum(1 for w in wire if w["dir"] == "W")
    by_subtype = {(m.frame_type, m.subtype): m for m in messages}
    version = by_subtype[(FrameType.DATA, DataSubtype.REPLY_VERSION)].payload
    assert list(version) == data["results"]["version"]
    status = WifiStatus.parse(by_subtype[(FrameType.DATA, DataSubtype.WIFI_REP)].payload)
    assert status.opmode == OpMode.STA
    assert status.sta_state == StaConnState.CONNECTED
    assert status.bssid == "a4:cf:12:34:56:78"
    assert status.ssid == "MySSID"
    networks = parse_wifi_list(by_subtype[(FrameType.DATA, DataSubtype.WIFI_LIST)].payload)
    assert [(n.ssid, n.rssi) for n in networks] == [
        (s, r) for s, r in data["device_setup"]["scan_results"]
    ]
    custom = by_subtype[(FrameType.DATA, DataSubtype.CUSTOM_DATA)].payload
    assert custom.decode() == data["results"]["custom_from_device"]
    error = by_subtype[(FrameType.DATA, DataSubtype.ERROR_INFO)].payload
    assert error.hex() == data["results"]["error_after_bad_crc"]


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_client_fragmentation_matches_recording(variant: str) -> None:
    """The recorded client split at 255-byte frames; ours, at that limit, writes the same."""
    data = load_session(variant)
    session, _ = _session(variant)
    len_packet, data_packet = session.neg_packets()
    writes = [bytes.fromhex(w["hex"]) for w in data["wire"] if w["dir"] == "W"]
    ours = [encode_frame(Frame(FrameType.DATA, DataSubtype.NEG, FrameControl.NONE, 0, len_packet))]
    for seq, (more, chunk) in enumerate(fragment(data_packet, 251), start=1):
        fc = FrameControl.FRAG if more else FrameControl.NONE
        ours.append(encode_frame(Frame(FrameType.DATA, DataSubtype.NEG, fc, seq, chunk)))
    assert ours == writes[: len(ours)]


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_leading_zero_cases(variant: str) -> None:
    case = load_leading_zero()[variant]
    cls = V1Session if variant == "v1" else V2Session
    group = V1_LEGACY_GROUP if variant == "v1" else V2_GROUP  # the recording's groups
    session = cls(int(case["client_private_key"], 16), group=group)
    session.derive(bytes.fromhex(case["device_public_key"]))
    assert session.secret_padded is not None
    for behaviour in ("client_strips_zeros", "client_pads_secret"):
        prefix = case[behaviour]["secret_first_bytes_padded"]
        assert session.secret_padded.hex().startswith(prefix)
    assert session.secret_padded[0] == 0
    stripped_key = (
        hashlib.md5(strip_leading_zeros(session.secret_padded)).digest()
        if variant == "v1"
        else hashlib.sha256(strip_leading_zeros(session.secret_padded)).digest()
    )
    padded_key = (
        hashlib.md5(session.secret_padded).digest()
        if variant == "v1"
        else hashlib.sha256(session.secret_padded).digest()
    )
    accepted = "client_strips_zeros" if variant == "v1" else "client_pads_secret"
    rejected = "client_pads_secret" if variant == "v1" else "client_strips_zeros"
    # the recorded device accepted exactly one behaviour and rejected the other
    assert case[accepted]["device_errors_reported"] == []
    assert case[rejected]["device_errors_reported"] == ["CHECKSUM_ERROR"]
    # ours is the accepted one
    assert session.key == (stripped_key if variant == "v1" else padded_key)
    assert session.key != (padded_key if variant == "v1" else stripped_key)
