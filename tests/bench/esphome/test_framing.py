"""Plaintext framing of ESPHome's native API: varints, frames, preamble errors (no HA)."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from bench.esphome.framing import (
    MAX_VARINT_BYTES,
    Frame,
    FrameDecoder,
    FramingError,
    NoiseFrameError,
    PreambleError,
    VarintError,
    decode_varint,
    encode_frame,
    encode_varint,
)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (1, b"\x01"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (300, b"\xac\x02"),
        (16383, b"\xff\x7f"),
        (16384, b"\x80\x80\x01"),
        (2**32 - 1, b"\xff\xff\xff\xff\x0f"),
    ],
)
def test_varint_known_values(value: int, encoded: bytes) -> None:
    assert encode_varint(value) == encoded
    assert decode_varint(encoded) == (value, len(encoded))
    assert decode_varint(b"\xaa" + encoded + b"\xbb", 1) == (value, 1 + len(encoded))


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_varint_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert len(encoded) <= MAX_VARINT_BYTES
    assert decode_varint(encoded) == (value, len(encoded))


def test_varint_incomplete_and_too_long() -> None:
    assert decode_varint(b"") is None
    assert decode_varint(b"\x80") is None
    assert decode_varint(b"\xff\xff\xff\xff") is None
    with pytest.raises(VarintError):
        decode_varint(b"\xff\xff\xff\xff\xff\x01")
    with pytest.raises(ValueError, match="non-negative"):
        encode_varint(-1)


def test_empty_message_is_three_bytes() -> None:
    assert encode_frame(7, b"") == b"\x00\x00\x07"
    # type ids above 127 take two varint bytes (DeviceCapabilitiesRequest is 149)
    assert encode_frame(149, b"") == b"\x00\x00\x95\x01"
    assert encode_frame(2, b"\x08\x01") == b"\x00\x02\x02\x08\x01"


def test_decoder_several_frames_in_one_chunk() -> None:
    decoder = FrameDecoder()
    stream = encode_frame(1, b"hello") + encode_frame(7, b"") + encode_frame(300, b"x" * 200)
    assert decoder.feed(stream) == [
        Frame(1, b"hello"),
        Frame(7, b""),
        Frame(300, b"x" * 200),
    ]
    assert decoder.pending == 0


@given(
    st.lists(st.tuples(st.integers(0, 200), st.binary(max_size=300)), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=17),
)
def test_decoder_any_split(messages: list[tuple[int, bytes]], chunk: int) -> None:
    stream = b"".join(encode_frame(t, p) for t, p in messages)
    decoder = FrameDecoder()
    frames: list[Frame] = []
    for start in range(0, len(stream), chunk):
        frames += decoder.feed(stream[start : start + chunk])
    assert frames == [Frame(t, p) for t, p in messages]
    assert decoder.pending == 0


def test_decoder_waits_for_the_whole_payload() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(9, b"abcdef")
    assert decoder.feed(frame[:-1]) == []
    assert decoder.pending == len(frame) - 1
    assert decoder.feed(frame[-1:]) == [Frame(9, b"abcdef")]


def test_noise_preamble_is_refused() -> None:
    with pytest.raises(NoiseFrameError) as err:
        FrameDecoder().feed(b"\x01\x00\x05hello")
    assert err.value.byte == 0x01


def test_other_preamble_is_refused() -> None:
    with pytest.raises(PreambleError) as err:
        FrameDecoder().feed(b"GET / HTTP/1.1\r\n")
    assert not isinstance(err.value, NoiseFrameError)
    assert err.value.byte == ord("G")


def test_bad_preamble_after_a_good_frame() -> None:
    decoder = FrameDecoder()
    with pytest.raises(PreambleError):
        decoder.feed(encode_frame(7, b"") + b"\x02")


def test_oversized_frame_is_refused() -> None:
    decoder = FrameDecoder(max_payload=10)
    with pytest.raises(FramingError, match="exceeds"):
        decoder.feed(b"\x00" + encode_varint(11))
