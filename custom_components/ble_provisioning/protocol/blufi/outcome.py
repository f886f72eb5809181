"""What happened after CONN_TO_AP: the provisioning state machine and its status polling.

ESP-IDF's example pushes a Wi-Fi report only on success (``IP_EVENT_STA_GOT_IP``); a failure
shows only in the answer to GET_WIFI_STATUS, so the client polls, with a back-off from
``poll_interval`` (0.2 s) by x1.5 up to ``max_poll_interval`` (0.5 s): a failure is seen at
most one interval after the device gave up.

The example answers GET_WIFI_STATUS from cached state: after a new CONN_TO_AP it still reports
the *previous* association as connected until that association's disconnect event arrives. So
a "connected" report is trusted only when it is **fresh**, and the rule is:

* a report is fresh once, since CONN_TO_AP, the device reported "connecting" or "failed" (its
  state left the old association), or sent a report nobody asked for (more reports than
  GET_WIFI_STATUS requests: the example pushes one when the new association got its IP);
* "failed" (state 1) decides at once, from the end reason (wrong password, network not
  found, connection failed): the example reports it only after the new attempt's retries;
* a fresh "connected" (state 0) decides: ``CONNECTED`` when the SSID (and the BSSID, when one
  was pinned) is the requested one, ``OTHER_NETWORK`` otherwise;
* "connecting" (2), "connected without IP" (3) and a "connected" that is not fresh: keep
  waiting and polling;
* at the timeout: ``OTHER_NETWORK`` when the last report said connected to another network,
  else ``TIMEOUT`` (a device that still reports the requested network without fresh proof is
  never called a success: it may be the old association, before a wrong new password). A poll
  sent just before the timeout gets up to ``ANSWER_GRACE`` (0.5 s) for its answer, which still
  counts; a poll that is never answered is a :class:`BlufiTimeoutError` (the device stopped
  answering), not a result.

Caveat: in SoftAP+STA mode the example also pushes a report when its access point starts; one
that arrives after CONN_TO_AP counts as fresh.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..models import ProvisionOutcome
from .const import ControlSubtype, FrameType, StaConnState, WifiReason
from .errors import BlufiTimeoutError
from .link import BlufiLink, Inbox
from .models import NO_RSSI, ProvisionResult, WifiStatus, format_bssid, outcome_for_reason

POLL_INTERVAL = 0.2
"""Seconds from CONN_TO_AP to the first GET_WIFI_STATUS (and the first poll interval)."""
MAX_POLL_INTERVAL = 0.5
"""Longest interval between two polls."""
ANSWER_GRACE = 0.5
"""Seconds a poll sent just before the deadline may take to be answered after it."""
POLL_BACKOFF = 1.5
"""Factor applied to the poll interval after every answered poll."""


@dataclass(slots=True)
class OutcomeTracker:
    """Decides the outcome from the reports that follow CONN_TO_AP (rule: module docstring)."""

    ssid: bytes
    bssid: bytes | None = None
    polls: int = 0
    reports: int = 0
    fresh: bool = False
    last: WifiStatus | None = None

    def polled(self) -> None:
        """Count a GET_WIFI_STATUS sent."""
        self.polls += 1

    @property
    def answered(self) -> bool:
        """Every GET_WIFI_STATUS sent so far has been followed by a report."""
        return self.reports >= self.polls

    def _requested(self, status: WifiStatus) -> bool:
        if status.ssid_raw != self.ssid:
            return False
        return self.bssid is None or status.bssid == format_bssid(self.bssid)

    def feed(self, status: WifiStatus) -> ProvisionResult | None:
        """Take one report; return the result when it decides."""
        self.reports += 1
        self.last = status
        if self.reports > self.polls:
            self.fresh = True  # pushed: the new association got its IP
        match status.sta_state:
            case StaConnState.FAIL:
                return failure_result(status)
            case StaConnState.CONNECTING:
                self.fresh = True
            case StaConnState.CONNECTED if self.fresh:
                outcome = (
                    ProvisionOutcome.CONNECTED
                    if self._requested(status)
                    else ProvisionOutcome.OTHER_NETWORK
                )
                return connected_result(outcome, status)
        return None

    def expired(self) -> ProvisionResult:
        """Return the result when the time is up."""
        last = self.last
        if last is not None and last.is_connected and not self._requested(last):
            return connected_result(ProvisionOutcome.OTHER_NETWORK, last)
        return ProvisionResult(
            ProvisionOutcome.TIMEOUT,
            ssid=last.ssid if last else None,
            end_reason=last.end_reason if last else None,
            status=last,
        )


def _rssi(status: WifiStatus) -> int | None:
    return None if status.rssi in (None, NO_RSSI) else status.rssi


def connected_result(outcome: ProvisionOutcome, status: WifiStatus) -> ProvisionResult:
    """Return the result for a device that reports being connected."""
    return ProvisionResult(
        outcome,
        ssid=status.ssid,
        bssid=status.bssid,
        rssi=_rssi(status),
        end_reason=None,
        status=status,
    )


def failure_result(status: WifiStatus) -> ProvisionResult:
    """Return the result for a device that reports a failed join."""
    reason = status.end_reason
    return ProvisionResult(
        outcome_for_reason(reason),
        ssid=status.ssid,
        bssid=status.bssid,
        rssi=_rssi(status),
        end_reason=reason if reason is not None else WifiReason.NONE,
        status=status,
    )


async def await_outcome(
    link: BlufiLink,
    reports: Inbox,
    tracker: OutcomeTracker,
    *,
    timeout: float,
    poll_interval: float = POLL_INTERVAL,
    max_poll_interval: float = MAX_POLL_INTERVAL,
) -> ProvisionResult:
    """Wait for the decisive report, polling GET_WIFI_STATUS with back-off (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    interval = poll_interval
    cap = max(poll_interval, max_poll_interval)
    next_poll = loop.time() + interval
    answer_due: float | None = None
    while True:
        now = loop.time()
        if answer_due is None:
            if now >= deadline:
                return tracker.expired()
            if now >= next_poll:
                await link.send(FrameType.CTRL, ControlSubtype.GET_WIFI_STATUS)
                tracker.polled()
                sent = loop.time()
                answer_due = sent + min(link.timeout, max(deadline - sent, ANSWER_GRACE))
        until = min(deadline, next_poll) if answer_due is None else answer_due
        try:
            message = await link.receive(reports, max(until - loop.time(), 0.0), "Wi-Fi status")
        except BlufiTimeoutError:
            if answer_due is not None and loop.time() >= answer_due:
                raise  # the device stopped answering
            continue
        result = tracker.feed(WifiStatus.parse(message.payload))
        if result is not None:
            return result
        if answer_due is not None and tracker.answered:
            answer_due = None
            interval = min(interval * POLL_BACKOFF, cap)
            next_poll = loop.time() + interval
