"""The daemon's network list: collecting it, and when it is safe to subscribe to it again.

How the daemon sends the list (``AvailableNetworksCharacteristic``)
===================================================================

On ``StartNotify`` the daemon starts a GLib timer chain: every ``notify_interval`` (300 ms) it
sends the next SSID not yet sent in this round; when all are sent it waits ``list_pause``
(3 s) and starts a new round; with an empty list (no scan yet: the daemon scans for the first
time 20 s after it starts, or no network around) it keeps looking every 300 ms and sends
nothing. The chain notices an unsubscribe only at its next tick; a ``StartNotify`` before that
tick starts a *second* chain (two interleaved streams, for good). A subscribe while the daemon
believes it is still notifying (its chain died of an exception) is ignored.

When the old chain is certainly gone (:class:`NetworkStreamGuard`)
==================================================================

After an unsubscribe (or the link's loss, when the daemon stops notifying by itself) at time
``s``, with the last SSID received at ``t``, the old chain's last tick comes:

* at ``s + notify_interval`` at the latest when the scan ended at the first repeated SSID of a
  round of two or more (the next tick finds an SSID not sent yet, and dies), or when no SSID
  came at all (the chain polls the empty list);
* otherwise (the scan ended by its timeout, a stall or the cap, possibly in the 3 s pause or
  right after the last SSID of a round) at ``t + notify_interval + list_pause +
  notify_interval`` at the latest (the tick that finds the round complete, the pause, the first
  tick of the next round), and not before ``s + notify_interval``.

A new subscription waits until then, plus ``margin``. The guard belongs to a *device*, not to a
client object: :class:`~..device_bluenet.BluenetDevice` shares one across the clients of its
successive links. Another central's unsubscribe always came before our link was up, so every
connection also starts with one restart gap (``notify_interval + margin``) before the first
subscription; a scan by another program that ended in the daemon's pause just before our
connection is not known to the client and is not covered.

Collecting (:class:`NetworkCollector`)
======================================

A round is complete at the first SSID repeated within it. At most ``SCAN_CAP`` distinct SSIDs
are kept: a device that sends new SSIDs without end is cut off there, whatever the timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
import math

from ..errors import ProvisioningError, ProvisioningTimeoutError
from ..gatt import GattLink
from .codec import decode_network, notification_capacity
from .const import AVAILABLE_NETWORKS_UUID
from .errors import BluenetDecodeError, BluenetStillScanningError
from .logs import MalformedLog

#: Most SSIDs one scan returns (far above what a real environment shows).
SCAN_CAP = 100


@dataclass(frozen=True, slots=True)
class DaemonTimings:
    """The daemon's network-list timers as its code has them, and the client's margins.

    ``notify_interval`` (300 ms) and ``list_pause`` (3000 ms) are the daemon's constants. The
    rest are the client's choices: ``margin`` on every restart gap (the unsubscribe's trip to the
    daemon, timer jitter), ``first_network_timeout`` for the first SSID after a subscription (it
    comes one interval after it; the rest is for a slow link), ``stall_timeout`` for the longest
    silence inside a stream (last SSID of a round → first of the next: 2 intervals and the
    pause, 3.6 s, plus 0.9 s).
    """

    notify_interval: float = 0.3
    list_pause: float = 3.0
    margin: float = 0.1
    first_network_timeout: float = 1.5
    stall_timeout: float = 4.5

    def __post_init__(self) -> None:
        """Refuse waits that would take the daemon's own silences for the end of a stream."""
        if self.first_network_timeout <= self.notify_interval:
            msg = "first_network_timeout must exceed the notify interval"
            raise ValueError(msg)
        if self.stall_timeout <= 2 * self.notify_interval + self.list_pause:
            msg = "stall_timeout must exceed the longest silence in a stream (2 intervals + pause)"
            raise ValueError(msg)

    @property
    def restart_gap(self) -> float:
        """Wait between an unsubscribe (or a new link) and the next subscribe."""
        return self.notify_interval + self.margin


class NetworkStreamGuard:
    """When the daemon's network timer chain of earlier subscriptions is gone (module doc).

    Times are the event loop's clock.
    """

    def __init__(self, timings: DaemonTimings | None = None) -> None:
        """Nothing is known yet: a subscription may start at once."""
        self.timings = timings if timings is not None else DaemonTimings()
        self._quiet_at = -math.inf

    @property
    def quiet_at(self) -> float:
        """Loop time from which a new subscription cannot meet an old chain."""
        return self._quiet_at

    def _not_before(self, when: float) -> None:
        self._quiet_at = max(self._quiet_at, when + self.timings.margin)

    def link_up(self, now: float) -> None:
        """Account for a new link at ``now``: any other central's unsubscribe came before."""
        self._quiet_at = max(self._quiet_at, now + self.timings.restart_gap)

    def stopped(self, now: float, last_network_at: float | None, *, mid_round: bool) -> None:
        """Account for a stop at ``now``; ``mid_round``: it ended at a repeat in a round of 2+."""
        timings = self.timings
        end = now + timings.notify_interval
        if last_network_at is not None and not mid_round:
            end = max(end, last_network_at + 2 * timings.notify_interval + timings.list_pause)
        self._not_before(end)

    def delay(self, now: float) -> float:
        """Seconds to wait at ``now`` before subscribing."""
        return max(self._quiet_at - now, 0.0)


@dataclass(slots=True)
class NetworkCollector:
    """The SSIDs of one scan, fed one notification at a time (no I/O).

    ``complete`` is set at the first SSID repeated within a round, or when ``cap`` SSIDs were
    found. Undecodable values are reported through ``malformed`` and skipped; empty SSIDs
    (hidden networks) are skipped.
    """

    capacity: int
    """Bytes of value a notification carries: a fuller one may be cut."""
    malformed: Callable[[str], None]
    cap: int = SCAN_CAP
    found: list[str] = field(default_factory=list)
    last_at: float | None = None
    """Loop time of the last notification (even one that was skipped)."""
    complete: asyncio.Event = field(default_factory=asyncio.Event)
    mid_round: bool = False
    """The scan ended at a repeat within a round of two or more SSIDs."""
    _round: list[str] = field(default_factory=list)

    def feed(self, data: bytes, now: float) -> None:
        """Account for one notification received at ``now``."""
        self.last_at = now
        if self.complete.is_set():
            return
        try:
            ssid = decode_network(data, truncated=len(data) >= self.capacity)
        except BluenetDecodeError as err:
            self.malformed(str(err))
            return
        if not ssid:
            return
        if ssid in self._round:
            self.mid_round = len(self._round) > 1
            self.complete.set()
            return
        self._round.append(ssid)
        if ssid not in self.found:
            self.found.append(ssid)
            if len(self.found) >= self.cap:
                self.complete.set()

    def new_round(self) -> None:
        """Forget the current round (after a re-subscription the daemon starts a new one)."""
        self._round.clear()


class NetworkScanner:
    """Collect the daemon's network list over ``link`` (see :meth:`scan`)."""

    def __init__(self, link: GattLink, guard: NetworkStreamGuard, log: MalformedLog) -> None:
        """Scan over ``link``; ``guard`` is the device's, ``log`` the connection's."""
        self._link = link
        self._guard = guard
        self._log = log
        self._collector: NetworkCollector | None = None

    @property
    def streaming(self) -> bool:
        """Whether a subscription is active."""
        return self._collector is not None

    def link_lost(self) -> None:
        """End the stream: the daemon stops notifying on a remote disconnect."""
        collector, self._collector = self._collector, None
        if collector is not None:
            now = asyncio.get_running_loop().time()
            self._guard.stopped(now, collector.last_at, mid_round=collector.mid_round)

    async def scan(self, timeout: float, stall_timeout: float | None = None) -> list[str]:
        """Collect SSIDs for at most ``timeout`` seconds of subscription (see the client).

        Raises :class:`BluenetStillScanningError` when no SSID came (the link stays up).
        """
        timings = self._guard.timings
        stall = timings.stall_timeout if stall_timeout is None else stall_timeout
        first = min(stall, timings.first_network_timeout)
        loop = asyncio.get_running_loop()
        collector = NetworkCollector(
            capacity=notification_capacity(self._link.att_mtu),
            malformed=lambda message: self._log.report("network", f"skipping a network: {message}"),
        )
        try:
            started = await self._subscribe(collector)
            deadline = started + timeout
            resubscribed = False
            while not collector.complete.is_set():
                now = loop.time()
                if now >= deadline:
                    break
                last = collector.last_at
                if last is not None and last >= started:
                    quiet_until = last + stall
                else:
                    quiet_until = started + first
                if now < quiet_until:
                    await self._wait(collector.complete, min(quiet_until, deadline) - now)
                    continue
                if resubscribed:
                    break
                # Stalled: the daemon's chain died (or never sent); a new subscription restarts
                # it from the top of its list.
                resubscribed = True
                await self._unsubscribe()
                collector.new_round()
                started = await self._subscribe(collector)
        finally:
            if self._collector is not None:
                if self._link.is_connected:
                    with contextlib.suppress(ProvisioningError):
                        await self._unsubscribe()
                else:
                    self.link_lost()
        if not collector.found:
            raise BluenetStillScanningError(
                f"{self._link.name}: the device notified no network: it is still scanning (for "
                "the first time 20 s after it starts), or no network is in range"
            )
        return collector.found

    async def _subscribe(self, collector: NetworkCollector) -> float:
        """Wait until the guard allows it, subscribe; return the loop time after subscribing."""
        loop = asyncio.get_running_loop()
        delay = self._guard.delay(loop.time())
        if delay > 0:
            await self._link.wait(asyncio.sleep(delay), delay + 1.0, "restart gap")
        self._collector = collector
        await self._link.start_notify(
            AVAILABLE_NETWORKS_UUID, lambda data: collector.feed(data, loop.time())
        )
        return loop.time()

    async def _unsubscribe(self) -> None:
        collector = self._collector
        try:
            await self._link.stop_notify(AVAILABLE_NETWORKS_UUID)
        finally:
            self._collector = None
            if collector is not None:
                now = asyncio.get_running_loop().time()
                self._guard.stopped(now, collector.last_at, mid_round=collector.mid_round)

    async def _wait(self, event: asyncio.Event, timeout: float) -> None:
        """Wait for ``event`` up to ``timeout``; raise only when the link drops."""
        with contextlib.suppress(ProvisioningTimeoutError):
            await self._link.wait(event.wait(), timeout, "network list")
