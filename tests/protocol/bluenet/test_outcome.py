"""Pure tests of the outcome rules (``protocol/bluenet/outcome.py``), with fuzzing."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.ble_provisioning.protocol.bluenet.const import BluenetState
from custom_components.ble_provisioning.protocol.bluenet.models import ConnectionState
from custom_components.ble_provisioning.protocol.bluenet.outcome import (
    OutcomeTracker,
    outcome_with_hostname,
)
from custom_components.ble_provisioning.protocol.models import ProvisionOutcome


def _s(state: int, ssid: str | None = None, *, cut: bool = False) -> ConnectionState:
    return ConnectionState(BluenetState(state), ssid, ssid_truncated=cut)


def _tracker() -> OutcomeTracker:
    return OutcomeTracker(ssid="home", connecting_timeout=10.0)


def _run(
    states: list[ConnectionState],
    *,
    baseline: ConnectionState | None = None,
    end: float = 100.0,
) -> ProvisionOutcome | None:
    tracker = _tracker()
    if baseline is not None:
        tracker.baseline(baseline, 0.0)
    for index, state in enumerate(states, start=1):
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
        ([_s(3, "other")], ProvisionOutcome.OTHER_UPLINK),  # unverified, after the timeout
        ([_s(3)], ProvisionOutcome.OTHER_UPLINK),
        ([_s(2, "home"), _s(3)], ProvisionOutcome.OTHER_UPLINK),
        ([_s(2, "home"), _s(3, "eth0")], ProvisionOutcome.OTHER_UPLINK),
        ([_s(3, "home")], ProvisionOutcome.OTHER_UPLINK),  # no 2: unverified after the timeout
        ([_s(3, "home"), _s(1)], None),  # an older join completing, then our deletion
        ([_s(1)], None),
        ([], None),
        # At ATT_MTU 23 a 20-byte SSID arrives as its first 19 bytes (item 7 (b), (c)).
        ([_s(2, "hom", cut=True), _s(3, "hom", cut=True)], ProvisionOutcome.CONNECTED),
        ([_s(2, "hom"), _s(3, "hom")], ProvisionOutcome.OTHER_UPLINK),  # not cut: another SSID
        ([_s(2, "home"), _s(3, "ho", cut=True)], ProvisionOutcome.CONNECTED),
        ([_s(2, "home"), _s(3, "homes", cut=True)], ProvisionOutcome.OTHER_UPLINK),
    ],
)
def test_transitions(states: list[ConnectionState], expected: ProvisionOutcome | None) -> None:
    assert _run(states) is expected


def test_a_stale_connected_never_makes_a_wrong_password_a_success() -> None:
    # Item 7 (a): already on "home", re-provisioned with a wrong password. The state from before
    # the join ("3home") is the baseline: it cannot outrank the join's "1", "2home", "1".
    tracker = _tracker()
    tracker.baseline(_s(3, "home"), 0.0)
    assert tracker.feed(_s(1), 1.0) is None
    assert tracker.feed(_s(2, "home"), 2.0) is None
    assert tracker.check_time(11.9) is None
    assert tracker.feed(_s(1), 3.0) is ProvisionOutcome.WRONG_PASSWORD


def test_baseline_never_decides() -> None:
    for state in (_s(0), _s(1), _s(2, "home"), _s(3, "home")):
        tracker = _tracker()
        tracker.baseline(state, 0.0)
        assert tracker.check_time(9.9) is None
    # A device that stays at 3 (Ethernet: no notification ever) is online elsewhere.
    tracker = _tracker()
    tracker.baseline(_s(3, "old"), 0.0)
    assert tracker.next_deadline() == 10.0
    assert tracker.check_time(10.0) is ProvisionOutcome.OTHER_UPLINK
    # The latest baseline counts: a "1" after the read means the device is offline.
    tracker = _tracker()
    tracker.baseline(_s(3, "old"), 0.0)
    tracker.baseline(_s(1), 0.5)
    assert tracker.next_deadline() is None
    tracker.baseline(_s(3, "old"), 1.0)
    tracker.baseline(_s(3, "old"), 2.0)
    assert tracker.next_deadline() == 11.0
    assert [state.state for state in tracker.states] == [3, 1, 3, 3]


def test_deletion_ends_an_unverified_connected() -> None:
    tracker = _tracker()
    tracker.baseline(_s(3, "old"), 0.0)
    assert tracker.feed(_s(1), 1.0) is None
    assert tracker.next_deadline() is None
    assert tracker.check_time(50.0) is None


def test_the_daemons_own_retry_during_the_write_is_not_a_failure() -> None:
    # After an earlier failed join the daemon re-activates its profile every 20 s on its own.
    # A "2home" of that retry received while the credentials were being written, then this
    # join's deletion ("1"): not a wrong password; the join's own activation decides.
    tracker = _tracker()
    tracker.baseline(_s(1), 0.0)
    assert tracker.feed(_s(2, "home"), 0.1, during_write=True) is None
    assert tracker.feed(_s(1), 0.2) is None
    assert tracker.next_deadline() == pytest.approx(2.2)  # unless an activation follows
    assert tracker.feed(_s(2, "home"), 0.3) is None
    assert tracker.check_time(5.0) is None
    assert tracker.feed(_s(3, "home"), 1.0) is ProvisionOutcome.CONNECTED
    # The same with a wrong password: the failure comes after the confirmed activation.
    tracker = _tracker()
    assert tracker.feed(_s(2, "home"), 0.1, during_write=True) is None
    assert tracker.feed(_s(1), 0.2) is None
    assert tracker.feed(_s(2, "home"), 0.3) is None
    assert tracker.feed(_s(1), 6.3) is ProvisionOutcome.WRONG_PASSWORD


def test_join_notified_before_the_write_answer_still_fails() -> None:
    # Under load the join's own "2home" can reach the client before it resumed after the
    # write's answer: provisional. Its failure "1" is not followed by a new activation.
    tracker = _tracker()
    assert tracker.feed(_s(2, "home"), 0.1, during_write=True) is None
    assert tracker.feed(_s(1), 6.1) is None
    assert tracker.next_deadline() == pytest.approx(8.1)
    assert tracker.check_time(8.0) is None
    assert tracker.check_time(8.1) is ProvisionOutcome.WRONG_PASSWORD
    # A "3" meanwhile (another uplink) is not a failure of this join.
    tracker = _tracker()
    tracker.feed(_s(2, "home"), 0.1, during_write=True)
    tracker.feed(_s(1), 0.2)
    assert tracker.feed(_s(3), 0.3) is None
    assert tracker.check_time(2.3) is None
    assert tracker.check_time(10.3) is ProvisionOutcome.OTHER_UPLINK


def test_activation_received_during_the_write_shows_progress() -> None:
    tracker = _tracker()
    assert tracker.feed(_s(1), 0.0, during_write=True) is None
    assert tracker.feed(_s(2, "home"), 0.1, during_write=True) is None
    assert tracker.next_deadline() == pytest.approx(10.1)
    assert tracker.feed(_s(3, "home"), 1.0) is ProvisionOutcome.CONNECTED
    tracker = _tracker()
    assert tracker.feed(_s(2, "home"), 0.1, during_write=True) is None
    assert tracker.check_time(10.1) is ProvisionOutcome.NO_INTERNET


def test_a_confirmed_activation_restarts_the_connecting_clock() -> None:
    tracker = _tracker()
    tracker.feed(_s(2, "home"), 0.0, during_write=True)
    tracker.feed(_s(2, "home"), 5.0)  # cannot come from the daemon without a change; robust
    assert tracker.next_deadline() == 15.0
    assert tracker.feed(_s(1), 6.0) is ProvisionOutcome.WRONG_PASSWORD


def test_ignores_connecting_of_another_profile() -> None:
    tracker = _tracker()
    # A late "2" of the old profile, then its deletion: not a wrong password.
    assert tracker.feed(_s(2, "old"), 0.0) is None
    assert tracker.feed(_s(1), 0.1) is None
    assert tracker.check_time(50.0) is None
    assert tracker.feed(_s(2, "home"), 1.0) is None
    assert tracker.feed(_s(3, "home"), 2.0) is ProvisionOutcome.CONNECTED


def test_no_internet_needs_the_full_connecting_timeout() -> None:
    tracker = _tracker()
    tracker.feed(_s(2, "home"), 0.0)
    assert tracker.check_time(9.9) is None
    assert tracker.check_time(10.0) is ProvisionOutcome.NO_INTERNET


def test_hostname_rule() -> None:
    assert outcome_with_hostname(ProvisionOutcome.CONNECTED, "") is ProvisionOutcome.OTHER_UPLINK
    assert outcome_with_hostname(ProvisionOutcome.CONNECTED, "http://x/") is (
        ProvisionOutcome.CONNECTED
    )
    assert outcome_with_hostname(ProvisionOutcome.CONNECTED, None) is ProvisionOutcome.CONNECTED
    assert outcome_with_hostname(ProvisionOutcome.NO_INTERNET, "") is ProvisionOutcome.NO_INTERNET


_STATE = st.builds(
    _s,
    st.integers(0, 3),
    st.sampled_from([None, "home", "other", "hom"]),
    cut=st.booleans(),
)


@given(
    st.lists(_STATE, max_size=3),
    st.lists(st.tuples(_STATE, st.booleans()), max_size=12),
)
def test_fuzz_success_and_failure_need_this_joins_activation(
    baseline: list[ConnectionState], steps: list[tuple[ConnectionState, bool]]
) -> None:
    tracker = _tracker()
    for state in baseline:
        tracker.baseline(state, 0.0)
    outcome = None
    fed: list[tuple[ConnectionState, bool]] = []
    for index, (state, during_write) in enumerate(steps, start=1):
        fed.append((state, during_write))
        outcome = tracker.feed(state, float(index), during_write=during_write)
        if outcome is not None:
            break
    activations = [
        index
        for index, (state, _) in enumerate(fed)
        if state.state is BluenetState.CONNECTING and state.carries("home")
    ]
    if outcome is ProvisionOutcome.CONNECTED:
        # Never from the baseline: a notified "2" + SSID came before the deciding "3" + SSID.
        assert activations
        assert fed[-1][0].state is BluenetState.CONNECTED
        assert fed[-1][0].carries("home")
    if outcome is ProvisionOutcome.WRONG_PASSWORD:
        # Only after an activation notified after the write, with no "1" between.
        confirmed = [index for index in activations if not fed[index][1]]
        assert confirmed
        assert all(
            fed[index][0].state not in (BluenetState.DISCONNECTED, BluenetState.DOWN)
            for index in range(confirmed[-1] + 1, len(fed) - 1)
        )
