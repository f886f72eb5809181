"""The state machine after CONN_TO_AP, on a simulated clock (no radio, no wall-clock bounds).

A fake link plays the ESP-IDF example: GET_WIFI_STATUS is answered from the device's state at
that moment (a cached "connected" included), success is pushed, failure only answered. The
event loop's clock is simulated, so the timing figures below are exact, not measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
import itertools

import pytest

from custom_components.ble_provisioning.protocol.blufi.codec import Message
from custom_components.ble_provisioning.protocol.blufi.const import (
    ControlSubtype,
    DataSubtype,
    FrameType,
    StaConnState,
)
from custom_components.ble_provisioning.protocol.blufi.errors import BlufiTimeoutError
from custom_components.ble_provisioning.protocol.blufi.link import BlufiLink, Inbox
from custom_components.ble_provisioning.protocol.blufi.models import WifiStatus
from custom_components.ble_provisioning.protocol.blufi.outcome import (
    MAX_POLL_INTERVAL,
    POLL_INTERVAL,
    OutcomeTracker,
    await_outcome,
)
from custom_components.ble_provisioning.protocol.models import ProvisionOutcome

HOME = b"HomeNet"
OFFICE = b"Office-5G"
HOME_BSSID = "a4:cf:12:34:56:78"
ANSWER_DELAY = 0.03
"""Simulated seconds from a GET_WIFI_STATUS to its answer (one connection event each way)."""


def report(
    state: int, ssid: bytes | None = None, bssid: str | None = None, reason: int = 0
) -> bytes:
    """A Wi-Fi report as the example encodes it: opmode STA, state, 0 stations, TLVs."""
    out = bytearray((1, state, 0))
    if bssid is not None:
        out += bytes((0x01, 6)) + bytes.fromhex(bssid.replace(":", ""))
    if ssid is not None:
        out += bytes((0x02, len(ssid))) + ssid
    if state == StaConnState.FAIL:
        out += bytes((0x15, 1, reason, 0x16, 1, 0x80))
    return bytes(out)


CONNECTING = report(StaConnState.CONNECTING)


@dataclass
class FakeExample:
    """The example's answers over simulated time: ``state(t)`` and pushes at given times."""

    state: Callable[[float], bytes]
    pushes: list[tuple[float, bytes]] = field(default_factory=list)
    silent_from: float | None = None
    timeout: float = 10.0
    name: str = "fake"
    now: float = 0.0
    polls: list[float] = field(default_factory=list)
    _answers: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    async def send(self, frame_type: FrameType, subtype: int, payload: bytes = b"") -> None:
        assert (frame_type, subtype) == (FrameType.CTRL, ControlSubtype.GET_WIFI_STATUS)
        self.polls.append(self.now)
        if self.silent_from is None or self.now < self.silent_from:
            self._answers.append(self.now + ANSWER_DELAY)

    async def receive(self, inbox: Inbox, timeout: float, what: str) -> Message:
        events = [(due, None) for due in self._answers] + [
            (at, payload) for at, payload in self.pushes
        ]
        limit = self.now + timeout
        due, pushed = min(events, default=(float("inf"), None), key=lambda e: e[0])
        if due > limit:
            self.now = limit
            raise BlufiTimeoutError(f"no answer to {what}")
        self.now = max(self.now, due)
        if pushed is None:
            self._answers.remove(due)
            payload = self.state(self.now)
        else:
            self.pushes.remove((due, pushed))
            payload = pushed
        return Message(FrameType.DATA, DataSubtype.WIFI_REP, payload)


def run(
    example: FakeExample,
    ssid: bytes = HOME,
    bssid: bytes | None = None,
    timeout: float = 30.0,
) -> tuple[ProvisionOutcome, float, OutcomeTracker]:
    """Run :func:`await_outcome` on a loop whose clock is the example's; (outcome, time)."""
    loop = asyncio.new_event_loop()
    loop.time = example.time  # type: ignore[method-assign]
    tracker = OutcomeTracker(ssid, bssid)
    link: BlufiLink = example  # type: ignore[assignment]
    try:
        result = loop.run_until_complete(
            await_outcome(link, Inbox(lambda _m: True), tracker, timeout=timeout)
        )
    finally:
        loop.close()
    return result.outcome, example.now, tracker


def test_wrong_password_is_reported_within_one_poll_interval_of_the_failure() -> None:
    """Issue 10 item 8: the device gives up at t = 5 s; main polled every 1 s."""
    failed_at = 5.0
    example = FakeExample(
        lambda t: CONNECTING if t < failed_at else report(StaConnState.FAIL, reason=15)
    )
    outcome, reported_at, _ = run(example)
    assert outcome is ProvisionOutcome.WRONG_PASSWORD
    assert example.polls[0] == pytest.approx(POLL_INTERVAL)
    assert reported_at - failed_at <= MAX_POLL_INTERVAL + ANSWER_DELAY
    gaps = [b - a for a, b in itertools.pairwise(example.polls)]
    assert max(gaps) <= MAX_POLL_INTERVAL + ANSWER_DELAY + 1e-9
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(gaps))  # back-off


def test_fast_failure_is_seen_at_the_first_poll() -> None:
    example = FakeExample(
        lambda t: report(StaConnState.FAIL, reason=201) if t > 0.06 else CONNECTING
    )
    outcome, reported_at, _ = run(example)
    assert outcome is ProvisionOutcome.NETWORK_NOT_FOUND
    assert reported_at == pytest.approx(POLL_INTERVAL + ANSWER_DELAY)


def test_pushed_success_needs_no_poll() -> None:
    example = FakeExample(lambda t: CONNECTING, pushes=[(0.1, report(0, HOME, HOME_BSSID))])
    outcome, _, tracker = run(example)
    assert outcome is ProvisionOutcome.CONNECTED
    assert example.polls == []
    assert tracker.fresh


def test_moving_between_networks_waits_for_the_fresh_report() -> None:
    """The example answers "connected to HomeNet" (cached) for 3 s after CONN_TO_AP."""
    example = FakeExample(
        lambda t: report(0, HOME, HOME_BSSID) if t < 3.0 else CONNECTING,
        pushes=[(3.4, report(0, OFFICE, "a4:cf:12:00:00:01"))],
    )
    outcome, reported_at, _ = run(example, ssid=OFFICE)
    assert outcome is ProvisionOutcome.CONNECTED
    assert reported_at == pytest.approx(3.4)


def test_same_network_wrong_password_is_never_the_cached_success() -> None:
    example = FakeExample(
        lambda t: report(0, HOME, HOME_BSSID)
        if t < 3.0
        else (CONNECTING if t < 4.0 else report(StaConnState.FAIL, reason=15))
    )
    outcome, _, _ = run(example)
    assert outcome is ProvisionOutcome.WRONG_PASSWORD


def test_cached_success_alone_is_a_timeout_not_a_success() -> None:
    example = FakeExample(lambda t: report(0, HOME, HOME_BSSID))
    outcome, reported_at, tracker = run(example, timeout=4.0)
    assert outcome is ProvisionOutcome.TIMEOUT
    assert reported_at == pytest.approx(4.0)
    assert not tracker.fresh


def test_cached_other_network_until_the_timeout_is_other_network() -> None:
    example = FakeExample(lambda t: report(0, HOME, HOME_BSSID))
    outcome, _, _ = run(example, ssid=OFFICE, timeout=4.0)
    assert outcome is ProvisionOutcome.OTHER_NETWORK


def test_fresh_report_of_another_network_decides_at_once() -> None:
    example = FakeExample(
        lambda t: CONNECTING if t < 1.0 else report(0, HOME, HOME_BSSID),
    )
    outcome, reported_at, _ = run(example, ssid=OFFICE)
    assert outcome is ProvisionOutcome.OTHER_NETWORK
    assert reported_at < 2.0


def test_pinned_bssid_must_match() -> None:
    pinned = bytes.fromhex("a4cf12000099")
    example = FakeExample(lambda t: CONNECTING, pushes=[(0.5, report(0, HOME, HOME_BSSID))])
    outcome, _, _ = run(example, bssid=pinned)
    assert outcome is ProvisionOutcome.OTHER_NETWORK
    example = FakeExample(lambda t: CONNECTING, pushes=[(0.5, report(0, HOME, HOME_BSSID))])
    outcome, _, _ = run(example, bssid=bytes.fromhex(HOME_BSSID.replace(":", "")))
    assert outcome is ProvisionOutcome.CONNECTED


def test_connected_without_ip_keeps_waiting() -> None:
    example = FakeExample(
        lambda t: CONNECTING if t < 0.5 else report(StaConnState.CONNECTED_NO_IP, HOME),
        pushes=[(2.0, report(0, HOME, HOME_BSSID))],
    )
    outcome, reported_at, _ = run(example)
    assert outcome is ProvisionOutcome.CONNECTED
    assert reported_at == pytest.approx(2.0)


def test_a_device_that_stops_answering_polls_times_out_typed() -> None:
    example = FakeExample(lambda t: CONNECTING, silent_from=1.0, timeout=2.0)
    with pytest.raises(BlufiTimeoutError):
        run(example, timeout=30.0)
    assert example.now < 30.0


def test_silence_near_the_deadline_is_a_timeout_error() -> None:
    """The deadline does not turn a device that stopped answering into a result."""
    example = FakeExample(lambda t: CONNECTING, silent_from=1.0, timeout=10.0)
    with pytest.raises(BlufiTimeoutError):
        run(example, timeout=3.0)
    assert example.now == pytest.approx(3.0)  # the unanswered poll is given up at the deadline


def test_an_answer_in_flight_at_the_deadline_still_counts() -> None:
    """The first poll goes out at 0.2 s; the deadline is 0.21 s; the answer (0.23 s) says the
    join failed: that is the outcome, not a timeout."""
    example = FakeExample(lambda t: report(StaConnState.FAIL, reason=15))
    outcome, reported_at, _ = run(example, timeout=0.21)
    assert outcome is ProvisionOutcome.WRONG_PASSWORD
    assert reported_at == pytest.approx(POLL_INTERVAL + ANSWER_DELAY)


def test_an_indecisive_answer_after_the_deadline_is_a_timeout_result() -> None:
    example = FakeExample(lambda t: CONNECTING)
    outcome, reported_at, tracker = run(example, timeout=0.21)
    assert outcome is ProvisionOutcome.TIMEOUT
    assert reported_at == pytest.approx(POLL_INTERVAL + ANSWER_DELAY)
    assert tracker.last is not None


def test_tracker_counts_pushes_as_fresh() -> None:
    tracker = OutcomeTracker(HOME)
    stale = WifiStatus.parse(report(0, HOME))
    tracker.polled()
    assert tracker.feed(stale) is None  # an answer to our poll: may be cached
    assert tracker.answered
    result = tracker.feed(stale)  # one more report than polls: pushed
    assert result is not None
    assert result.outcome is ProvisionOutcome.CONNECTED
    assert result.rssi is None
