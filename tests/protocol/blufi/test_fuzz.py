"""Property-based fuzzing: malformed input raises only the library's own error types."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings, strategies as st

from custom_components.ble_provisioning.protocol.blufi import (
    BlufiVersion,
    Frame,
    FrameControl,
    FrameType,
    Reassembler,
    V1Cipher,
    WifiStatus,
    decode_frame,
    encode_frame,
    fragment,
)
from custom_components.ble_provisioning.protocol.blufi.models import parse_wifi_list
from custom_components.ble_provisioning.protocol.errors import ProvisioningError

CIPHER = V1Cipher(bytes(range(16)))


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_decode_frame_only_raises_library_errors(raw: bytes, keyed: bool) -> None:
    try:
        frame = decode_frame(raw, CIPHER if keyed else None)
    except ProvisioningError:
        return
    assert len(frame.data) == raw[3]


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3), st.integers(0, 0x3F), st.integers(0, 0x1F), st.binary(max_size=40)
        ),
        max_size=12,
    )
)
def test_reassembler_only_raises_library_errors(frames: list[tuple[int, int, int, bytes]]) -> None:
    reasm = Reassembler()
    for ftype, subtype, fc, data in frames:
        try:
            frame = decode_frame(
                encode_frame(Frame(FrameType(ftype & 1), subtype, FrameControl(fc), 0, data))
            )
            reasm.feed(frame)
        except ProvisioningError:
            continue


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=200))
def test_payload_parsers_only_raise_library_errors(payload: bytes) -> None:
    for parser in (WifiStatus.parse, parse_wifi_list, BlufiVersion.parse):
        with contextlib.suppress(ProvisioningError):
            parser(payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.integers(3, 255))
def test_fragment_reassemble_roundtrip(payload: bytes, limit: int) -> None:
    reasm = Reassembler()
    out = None
    for seq, (more, chunk) in enumerate(fragment(payload, limit)):
        fc = FrameControl.FRAG if more else FrameControl.NONE
        raw = encode_frame(Frame(FrameType.DATA, 0x13, fc | FrameControl.CHECK, seq & 0xFF, chunk))
        out = reasm.feed(decode_frame(raw))
    assert out is not None
    assert out.payload == payload


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=4, max_size=40), st.integers(0, 39), st.integers(0, 255))
def test_corrupted_valid_frames(data: bytes, index: int, flip: int) -> None:
    raw = bytearray(
        encode_frame(
            Frame(FrameType.DATA, 0x0F, FrameControl.CHECK | FrameControl.ENC, 3, data), CIPHER
        )
    )
    raw[index % len(raw)] ^= flip or 1
    try:
        frame = decode_frame(bytes(raw), CIPHER)
        WifiStatus.parse(frame.data)
    except ProvisioningError:
        pass
