"""Pure tests of the network-list logic (``protocol/bluenet/networks.py``)."""

from __future__ import annotations

import math

import pytest

from custom_components.ble_provisioning.protocol.bluenet.networks import (
    SCAN_CAP,
    DaemonTimings,
    NetworkCollector,
    NetworkStreamGuard,
)

TIMINGS = DaemonTimings()  # the daemon's 0.3 s and 3 s, a 0.1 s margin


def test_default_timings_are_the_daemons() -> None:
    assert (TIMINGS.notify_interval, TIMINGS.list_pause) == (0.3, 3.0)
    assert TIMINGS.restart_gap == pytest.approx(0.4)
    # The longest silence inside a stream (last SSID of a round to the next round's first) is
    # 2 intervals and the pause: a stall timeout within it, or a first-network wait within one
    # interval, would end every scan early; such timings are refused.
    with pytest.raises(ValueError, match="stall_timeout"):
        DaemonTimings(stall_timeout=2 * 0.3 + 3.0)
    with pytest.raises(ValueError, match="first_network_timeout"):
        DaemonTimings(first_network_timeout=0.3)


def test_guard_starts_open() -> None:
    guard = NetworkStreamGuard()
    assert guard.quiet_at == -math.inf
    assert guard.delay(0.0) == 0.0


def test_guard_new_link_waits_one_restart_gap() -> None:
    guard = NetworkStreamGuard(TIMINGS)
    guard.link_up(10.0)
    assert guard.delay(10.0) == pytest.approx(0.4)
    assert guard.delay(10.4) == pytest.approx(0.0)
    assert guard.delay(11.0) == 0.0


def test_guard_after_a_scan_that_ended_at_a_repeat() -> None:
    guard = NetworkStreamGuard(TIMINGS)
    guard.stopped(10.0, 9.95, mid_round=True)  # the next tick finds an SSID not sent: dies
    assert guard.quiet_at == pytest.approx(10.4)


def test_guard_after_a_scan_that_may_have_ended_in_the_pause() -> None:
    guard = NetworkStreamGuard(TIMINGS)
    # Last SSID at 9.0: round complete at 9.3, pause to 12.3, next tick at 12.6.
    guard.stopped(10.0, 9.0, mid_round=False)
    assert guard.quiet_at == pytest.approx(12.7)
    # A later, shorter bound never shortens the wait.
    guard.stopped(10.5, None, mid_round=False)
    guard.link_up(11.0)
    assert guard.quiet_at == pytest.approx(12.7)


def test_guard_after_a_stream_that_sent_nothing() -> None:
    guard = NetworkStreamGuard(TIMINGS)
    guard.stopped(10.0, None, mid_round=False)  # the chain polls the empty list: next tick
    assert guard.quiet_at == pytest.approx(10.4)
    guard = NetworkStreamGuard(TIMINGS)
    guard.stopped(10.0, 2.0, mid_round=False)  # long stalled: only the next tick
    assert guard.quiet_at == pytest.approx(10.4)


def _collector(cap: int = SCAN_CAP) -> tuple[NetworkCollector, list[str]]:
    malformed: list[str] = []
    return NetworkCollector(capacity=20, malformed=malformed.append, cap=cap), malformed


async def test_collector_round_ends_at_the_first_repeat() -> None:
    collector, malformed = _collector()
    for index, ssid in enumerate([b"home", b"", b"cafe", b"\xff", b"x" * 33, b"home", b"late"]):
        collector.feed(ssid, float(index))
    assert collector.found == ["home", "cafe"]
    assert collector.complete.is_set()
    assert collector.mid_round
    assert collector.last_at == 6.0  # also after the end: the stream's timing
    assert len(malformed) == 2


async def test_collector_one_network_round_is_not_mid_round() -> None:
    collector, _ = _collector()
    collector.feed(b"home", 0.0)
    collector.feed(b"home", 3.6)
    assert collector.found == ["home"]
    assert collector.complete.is_set()
    assert not collector.mid_round  # the next tick ends the round: the pause follows


async def test_collector_new_round_after_resubscribing() -> None:
    collector, _ = _collector()
    collector.feed(b"a", 0.0)
    collector.feed(b"b", 0.3)
    collector.new_round()
    collector.feed(b"a", 5.0)  # the new chain starts from the top: not a repeat
    assert not collector.complete.is_set()
    collector.feed(b"b", 5.3)
    collector.feed(b"c", 5.6)
    collector.feed(b"a", 9.2)
    assert collector.found == ["a", "b", "c"]
    assert collector.complete.is_set()


async def test_collector_cap() -> None:
    collector, _ = _collector(cap=3)
    for index in range(10):
        collector.feed(f"n{index}".encode(), float(index))
    assert collector.found == ["n0", "n1", "n2"]
    assert collector.complete.is_set()


async def test_collector_cut_notification_keeps_the_valid_start() -> None:
    collector, malformed = _collector()  # a notification carries 20 bytes
    collector.feed("é".encode() * 9 + b"\xc3", 0.0)  # 19 bytes: not cut, so malformed
    collector.feed("é".encode() * 10, 0.1)  # 20 bytes of whole characters
    collector.feed(b"a" + "é".encode() * 9 + b"\xc3", 0.2)  # 20 bytes, cut in a character
    assert collector.found == ["é" * 10, "a" + "é" * 9]
    assert len(malformed) == 1
