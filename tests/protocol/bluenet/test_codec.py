"""Pure tests of the Bluenet codec, with property-based fuzzing.

The input limits are :data:`BLUENET_LIMITS` (``tests/protocol/test_limits.py``).
"""

from __future__ import annotations

import contextlib

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ble_provisioning.protocol.bluenet.codec import (
    check_fits,
    decode_connection_state,
    decode_network,
    decode_text,
    encode_connection_state,
    notification_capacity,
    read_capacity,
    read_value,
)
from custom_components.ble_provisioning.protocol.bluenet.const import BluenetState
from custom_components.ble_provisioning.protocol.bluenet.errors import (
    BluenetDecodeError,
    BluenetError,
    BluenetStillScanningError,
    ValueTooLongError,
)
from custom_components.ble_provisioning.protocol.bluenet.models import (
    ConnectionState,
    ReadValue,
)
from custom_components.ble_provisioning.protocol.errors import (
    InvalidInputError,
    ProtocolDecodeError,
)

# ---------------------------------------------------------------- state decoder


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"\x00", ConnectionState(BluenetState.DOWN, None)),
        (b"\x01", ConnectionState(BluenetState.DISCONNECTED, None)),
        (b"\x02home", ConnectionState(BluenetState.CONNECTING, "home")),
        (b"\x03home", ConnectionState(BluenetState.CONNECTED, "home")),
        (b"\x03", ConnectionState(BluenetState.CONNECTED, None)),
        (b"\x03caf\xc3\xa9", ConnectionState(BluenetState.CONNECTED, "café")),
    ],
)
def test_decode_state(payload: bytes, expected: ConnectionState) -> None:
    assert decode_connection_state(payload) == expected


@pytest.mark.parametrize("payload", [b"", b"\x04", b"\xff", b"\x03\xff\xfe", b"\x02caf\xc3"])
def test_decode_state_rejects(payload: bytes) -> None:
    with pytest.raises(BluenetDecodeError) as info:
        decode_connection_state(payload)
    assert isinstance(info.value, ProtocolDecodeError)


def test_decode_state_rejects_non_bytes() -> None:
    with pytest.raises(BluenetDecodeError):
        decode_connection_state("\x03x")  # type: ignore[arg-type]


@settings(max_examples=400)
@given(st.binary(max_size=80))
def test_fuzz_state_decoder_raises_only_own_errors(payload: bytes) -> None:
    try:
        state = decode_connection_state(payload)
    except BluenetDecodeError:
        return
    assert payload[0] <= 3
    assert state.state == payload[0]
    assert state.ssid == (payload[1:].decode() or None)


@given(
    st.sampled_from(list(BluenetState)),
    st.text(min_size=1, max_size=32).filter(lambda s: len(s.encode()) <= 32),
)
def test_state_round_trip(state: BluenetState, ssid: str) -> None:
    encoded = encode_connection_state(ConnectionState(state, ssid))
    decoded = decode_connection_state(encoded)
    assert decoded.state is state
    # The daemon drops the SSID for DISCONNECTED.
    assert decoded.ssid == (None if state is BluenetState.DISCONNECTED else ssid)


# ---------------------------------------------------------------- list decoder


def test_decode_network() -> None:
    assert decode_network(b"home") == "home"
    assert decode_network(b"") == ""
    assert decode_network("Café ☕".encode()) == "Café ☕"


@pytest.mark.parametrize("payload", [b"\xc3", b"\xff" * 3, b"x" * 33])
def test_decode_network_rejects(payload: bytes) -> None:
    with pytest.raises(BluenetDecodeError):
        decode_network(payload)


@settings(max_examples=400)
@given(st.binary(max_size=64))
def test_fuzz_list_decoder_raises_only_own_errors(payload: bytes) -> None:
    try:
        ssid = decode_network(payload)
    except BluenetDecodeError:
        return
    assert ssid.encode() == payload
    assert len(payload) <= 32


@given(st.text(max_size=32).filter(lambda s: len(s.encode()) <= 32))
def test_list_decoder_round_trip(ssid: str) -> None:
    assert decode_network(ssid.encode()) == ssid


def test_decode_text_truncated_drops_cut_character() -> None:
    raw = "ab€".encode()[:-1]
    with pytest.raises(BluenetDecodeError):
        decode_text(raw)
    assert decode_text(raw, truncated=True) == "ab"
    with pytest.raises(BluenetDecodeError):
        decode_text(b"\xff\xffab", truncated=True)


@given(st.binary(max_size=40), st.booleans())
def test_fuzz_decode_text(payload: bytes, truncated: bool) -> None:
    with contextlib.suppress(BluenetDecodeError):
        decode_text(payload, truncated=truncated)


def test_check_fits() -> None:
    check_fits(b"x" * 20, 20, "SSID")
    with pytest.raises(ValueTooLongError) as info:
        check_fits(b"secret-password-xx", 17, "password")
    assert "secret" not in str(info.value)
    assert "17" in str(info.value)
    assert isinstance(info.value, InvalidInputError)


def test_read_value_unpacks() -> None:
    value, truncated = ReadValue("http://x/", True)
    assert (value, truncated) == ("http://x/", True)


def test_errors_share_base() -> None:
    assert issubclass(BluenetDecodeError, BluenetError)
    assert issubclass(BluenetStillScanningError, BluenetError)
    assert BluenetStillScanningError.error_key == "still_scanning"


# ---------------------------------------------------------------- what BlueZ cuts


def test_capacities() -> None:
    assert notification_capacity(23) == 20
    assert read_capacity(23) == 22
    assert notification_capacity(517) == 514
    assert notification_capacity(2) == 0


@pytest.mark.parametrize(
    ("payload", "ssid"),
    [
        (b"\x03twenty-byte-ssid-ab", "twenty-byte-ssid-ab"),  # 1 + 19 bytes: the start of 20
        (b"\x02" + "é".encode() * 9 + b"\xc3", "é" * 9),  # cut inside the tenth character
    ],
)
def test_truncated_state_keeps_the_valid_start(payload: bytes, ssid: str) -> None:
    with pytest.raises(BluenetDecodeError):
        decode_connection_state(payload[:1] + b"\xc3")  # not cut: invalid UTF-8 is malformed
    state = decode_connection_state(payload, truncated=True)
    assert state.ssid == ssid
    assert state.ssid_truncated


def test_state_carries_the_requested_ssid() -> None:
    cut = ConnectionState(BluenetState.CONNECTED, "twenty-byte-ssid-ab", ssid_truncated=True)
    assert cut.carries("twenty-byte-ssid-abc")
    assert cut.carries("twenty-byte-ssid-ab")
    assert not cut.carries("twenty-byte-ssid-a")  # shorter than what was received
    assert not cut.carries("other")
    whole = ConnectionState(BluenetState.CONNECTED, "twenty-byte-ssid-ab")
    assert not whole.carries("twenty-byte-ssid-abc")  # not cut: only the exact SSID
    assert whole.carries("twenty-byte-ssid-ab")
    assert not ConnectionState(BluenetState.CONNECTED, None, ssid_truncated=True).carries("x")
    assert not decode_connection_state(b"\x01", truncated=True).ssid_truncated


@pytest.mark.parametrize("truncated", [False, True])
def test_state_ssid_over_32_bytes_is_malformed(truncated: bool) -> None:
    decode_connection_state(b"\x03" + b"x" * 32, truncated=truncated)
    with pytest.raises(BluenetDecodeError, match="33 bytes"):
        decode_connection_state(b"\x03" + b"x" * 33, truncated=truncated)


def test_truncated_network_keeps_the_valid_start() -> None:
    raw = "é".encode() * 9 + b"\xc3"
    with pytest.raises(BluenetDecodeError):
        decode_network(raw)
    assert decode_network(raw, truncated=True) == "é" * 9


URL = b"http://192.168.178.100:6543/-/"


@pytest.mark.parametrize(
    ("raw", "mtu", "expected"),
    [
        (URL, 517, (URL, False)),  # one Read Response
        (URL[:22] * 24, 23, (URL[:22], True)),  # the daemon's long read: the prefix again
        (URL[:22] + URL[:5], 23, (URL[:22], True)),  # a long read cut short
        (URL[:22], 23, (URL[:22], True)),  # exactly one full packet: may be cut
        (URL, 23, (URL, False)),  # a device that honours offsets: the whole value
        (b"", 23, (b"", False)),
        (b"x" * 512, 517, (b"x" * 512, True)),  # BlueZ's largest value
    ],
)
def test_read_value(raw: bytes, mtu: int, expected: tuple[bytes, bool]) -> None:
    assert read_value(raw, mtu) == expected


@given(st.binary(max_size=600), st.integers(23, 517))
def test_fuzz_read_value_is_a_prefix(raw: bytes, mtu: int) -> None:
    value, truncated = read_value(raw, mtu)
    assert raw.startswith(value)
    assert truncated or value == raw
