"""Pure tests of the Bluenet codec, validation and outcome logic, with property-based fuzzing."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ble_provisioning.protocol.bluenet.client import OutcomeTracker
from custom_components.ble_provisioning.protocol.bluenet.codec import (
    check_fits,
    decode_connection_state,
    decode_network,
    decode_text,
    encode_connection_state,
    encode_password,
    encode_ssid,
    validate_credentials,
)
from custom_components.ble_provisioning.protocol.bluenet.const import BluenetState
from custom_components.ble_provisioning.protocol.bluenet.errors import (
    BluenetDecodeError,
    BluenetError,
    InvalidCredentialsError,
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
from custom_components.ble_provisioning.protocol.models import ProvisionOutcome

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


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("password", [None, "", "12345678", "x" * 63, "a1" * 32, "pässwörd!"])
def test_valid_passwords(password: str | None) -> None:
    raw = encode_password(password)
    assert raw == (password or "").encode()


@pytest.mark.parametrize(
    "password",
    [
        "1234567",
        "x" * 64,
        "g" * 64,
        "x" * 65,
        "é" * 40,  # 40 characters but 80 bytes
        "pass\x00word",
        "pass\nword",
        "\ud800" * 9,
    ],
)
def test_invalid_passwords(password: str) -> None:
    with pytest.raises(InvalidCredentialsError) as info:
        encode_password(password)
    assert isinstance(info.value, InvalidInputError)
    assert isinstance(info.value, ValueError)
    if len(password) > 3:
        assert password not in str(info.value)


@pytest.mark.parametrize("ssid", ["a", "x" * 32, "é" * 16, "Café ☕"])
def test_valid_ssids(ssid: str) -> None:
    assert encode_ssid(ssid) == ssid.encode()


@pytest.mark.parametrize("ssid", ["", "x" * 33, "é" * 17, "a\x00b", "\udcff"])
def test_invalid_ssids(ssid: str) -> None:
    with pytest.raises(InvalidCredentialsError):
        encode_ssid(ssid)


@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=80)))
def test_fuzz_validation_raises_only_own_errors(ssid: str, password: str | None) -> None:
    try:
        ssid_raw, password_raw = validate_credentials(ssid, password)
    except InvalidCredentialsError as err:
        message = str(err)
    else:
        assert 1 <= len(ssid_raw) <= 32
        assert password_raw == b"" or 8 <= len(password_raw) <= 64
        return
    if password and len(password.strip()) >= 12:
        assert password not in message


def test_check_fits() -> None:
    check_fits(b"x" * 20, 23, "SSID")
    with pytest.raises(ValueTooLongError) as info:
        check_fits(b"secret-password-xx", 20, "password")
    assert "secret" not in str(info.value)
    assert isinstance(info.value, InvalidInputError)


def test_read_value_unpacks() -> None:
    value, truncated = ReadValue("http://x/", True)
    assert (value, truncated) == ("http://x/", True)


def test_errors_share_base() -> None:
    assert issubclass(BluenetDecodeError, BluenetError)


# ---------------------------------------------------------------- outcome logic


def _s(state: int, ssid: str | None = None) -> ConnectionState:
    return ConnectionState(BluenetState(state), ssid)


def _run(states: list[ConnectionState], *, end: float = 100.0) -> ProvisionOutcome | None:
    tracker = OutcomeTracker(ssid="home", connecting_timeout=10.0)
    for index, state in enumerate(states):
        if (outcome := tracker.feed(state, float(index))) is not None:
            return outcome
    return tracker.check_time(end)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([_s(2, "home"), _s(3, "home")], ProvisionOutcome.CONNECTED),
        ([_s(1), _s(2, "home"), _s(3, "home")], ProvisionOutcome.CONNECTED),
        ([_s(2, "home"), _s(1)], ProvisionOutcome.WRONG_PASSWORD),
        ([_s(1), _s(2, "home"), _s(0)], ProvisionOutcome.WRONG_PASSWORD),
        ([_s(2, "old"), _s(1)], None),
        ([_s(2)], None),
        ([_s(2, "home")], ProvisionOutcome.NO_INTERNET),
        ([_s(3, "other")], ProvisionOutcome.OTHER_UPLINK),
        ([_s(3)], ProvisionOutcome.OTHER_UPLINK),
        ([_s(2, "home"), _s(3)], ProvisionOutcome.OTHER_UPLINK),
        ([_s(3, "home")], ProvisionOutcome.OTHER_UPLINK),  # no 2: unverified after the timeout
        ([_s(1)], None),
        ([], None),
    ],
)
def test_outcome_tracker(states: list[ConnectionState], expected: ProvisionOutcome | None) -> None:
    assert _run(states) is expected


def test_tracker_leading_one_is_not_a_failure() -> None:
    tracker = OutcomeTracker(ssid="home", connecting_timeout=10.0)
    assert tracker.feed(_s(1), 0.0) is None
    assert tracker.check_time(50.0) is None


def test_tracker_stale_read_is_not_a_transition() -> None:
    tracker = OutcomeTracker(ssid="home", connecting_timeout=10.0)
    # A stale read of 2 (from before the join) followed by the profile deletion: not a failure.
    assert tracker.feed(_s(2, "old"), 0.0, from_read=True) is None
    assert tracker.feed(_s(1), 1.0) is None
    assert tracker.feed(_s(2, "home"), 2.0) is None
    assert tracker.feed(_s(3, "home"), 3.0) is ProvisionOutcome.CONNECTED
    # A stale read of 3 with the old SSID is only provisional.
    tracker = OutcomeTracker(ssid="home", connecting_timeout=10.0)
    assert tracker.feed(_s(3, "old"), 0.0, from_read=True) is None
    assert tracker.next_deadline() == 10.0
    assert tracker.feed(_s(1), 1.0) is None
    assert tracker.next_deadline() is None


def test_tracker_ignores_connecting_of_another_profile() -> None:
    tracker = OutcomeTracker(ssid="home", connecting_timeout=10.0)
    # A late "2" of the old profile, then its deletion: not a wrong password.
    assert tracker.feed(_s(2, "old"), 0.0) is None
    assert tracker.feed(_s(1), 0.1) is None
    assert tracker.check_time(50.0) is None
    assert tracker.feed(_s(2, "home"), 1.0) is None
    assert tracker.feed(_s(3, "home"), 2.0) is ProvisionOutcome.CONNECTED


def test_tracker_no_internet_needs_full_connecting_timeout() -> None:
    tracker = OutcomeTracker(ssid="home", connecting_timeout=10.0)
    tracker.feed(_s(2, "home"), 0.0)
    assert tracker.check_time(9.9) is None
    assert tracker.check_time(10.0) is ProvisionOutcome.NO_INTERNET


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from([None, "home", "other"]), st.booleans()),
        max_size=12,
    )
)
def test_fuzz_tracker_connected_only_after_connecting_with_ssid(
    steps: list[tuple[int, str | None, bool]],
) -> None:
    tracker = OutcomeTracker(ssid="home", connecting_timeout=5.0)
    outcome = None
    for index, (state, ssid, from_read) in enumerate(steps):
        outcome = tracker.feed(_s(state, ssid), float(index), from_read=from_read)
        if outcome is not None:
            break
    if outcome is ProvisionOutcome.CONNECTED:
        assert tracker.seen_connecting
        assert tracker.states[-1] == _s(3, "home")
    if outcome is ProvisionOutcome.WRONG_PASSWORD:
        assert tracker.seen_connecting
