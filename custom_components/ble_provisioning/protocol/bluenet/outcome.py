"""How :meth:`~.client.BluenetClient.provision` decides its outcome (pure logic, no I/O).

What the daemon tells
=====================

The connection state is NetworkManager's *global* state mapped to 1 disconnected, 2 connecting,
3 connected, followed by the SSID of the daemon's ``bluenet`` profile. The daemon notifies it
**only when the number changes**, and answers the credentials write at once while a thread does
the join: delete the ``bluenet`` profile (a "1" when the state was 2 or 3), add and activate
the new one ("2" + the new SSID), then "3" + SSID (joined) or "1" (failed: wrong password,
network gone). BlueZ delivers the daemon's notifications and answers in the order the daemon
produced them, but a read answer's *value* may have been taken before notifications that
reach the client first (the daemon's threads race its main loop): a read is never newer than
the notifications received before its answer.

Evidence, and how far each piece is trusted
===========================================

* **Baseline** (:meth:`OutcomeTracker.baseline`): the state read *before* the credentials are
  written, or the last notification received before they are, which is at least as new. It
  predates the join by construction: it never decides success or failure. It only says that
  a device already at 3 is online; if no transition ever follows (another interface, e.g.
  Ethernet, keeps NetworkManager at CONNECTED_GLOBAL, so the daemon never notifies),
  the outcome is ``OTHER_UPLINK`` after ``connecting_timeout``: the Wi-Fi join cannot be
  verified.
* **Transitions** (:meth:`OutcomeTracker.feed`): notifications received after the credentials
  write was sent. Those received before the client saw the write's answer
  (``during_write=True``) may have been produced before the daemon took the write (its 20 s
  reconnect attempt after an earlier failed join sends "2" + SSID on its own), or they are the
  join's own first steps reaching the client before it resumed after the answer (the client
  cannot tell which from where it stands).

Rules
=====

* "2" carrying the requested SSID is **this join's activation** (*provisional* when received
  during the write). "2" with another SSID or none belongs to the profile being replaced and is
  ignored.
* After an activation, "3" carrying the requested SSID → ``CONNECTED``; "3" carrying another
  SSID or none → ``OTHER_UPLINK`` (connectivity that is not the ``bluenet`` profile's).
* After a *confirmed* activation, "1" (or "0") → ``WRONG_PASSWORD`` (the join failed; the
  daemon then retries every 20 s, which the client does not wait for).
* After a *provisional* activation, "1" is either the join's deletion of the profile that the
  daemon's own retry was activating (then the join's activation follows at once: the join
  thread deletes and activates back to back) or the join's failure: it becomes
  ``WRONG_PASSWORD`` only if no new activation follows within ``settle`` (2 s).
* Any other "1" is the deletion of the old profile (or an older attempt failing): it ends an
  unverified "3", and is not a failure.
* "3" before any activation is unverified (an older activation completing, or another uplink):
  ``OTHER_UPLINK`` if nothing else happens within ``connecting_timeout``.
* An activation without a result for ``connecting_timeout`` → ``NO_INTERNET``
  (NetworkManager is connected to the local network or site only, or stuck connecting).
* Nothing decisive within the caller's ``timeout`` → ``TIMEOUT`` (for example the frozen join of
  a daemon that received an invalid PSK, which this client never sends).
* After ``CONNECTED`` the client reads the host name (:func:`outcome_with_hostname`): the
  daemon fills ``%IP`` from the Wi-Fi interface's IPv4 address when it turns CONNECTED, so an
  empty host name means Wi-Fi has no address and the connectivity comes from elsewhere →
  ``OTHER_UPLINK`` (an IPv6-only Wi-Fi would look the same).

At a small ATT MTU the SSID in a state is cut (a notification carries ``ATT_MTU - 3`` bytes):
a cut SSID that is the start of the requested one counts as the requested one
(:meth:`~.models.ConnectionState.carries`). Two SSIDs that share those first bytes cannot be
told apart there; the order of the transitions above still decides.

Every decision is taken when the deciding notification arrives (:meth:`OutcomeTracker.feed`
returns it) or at the instant a time limit is reached (:meth:`OutcomeTracker.next_deadline`):
nothing is polled. Only the ambiguous failure above waits (``settle``) after its notification.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import ProvisionOutcome
from .const import BluenetState
from .models import ConnectionState

#: The daemon's join thread activates the new profile right after deleting the old one (two
#: D-Bus calls; 0.2 s in the emulator's model): a "1" after a provisional activation that is
#: not followed by an activation within this time is the join's failure.
DEFAULT_SETTLE = 2.0


@dataclass(slots=True)
class OutcomeTracker:
    """The rules of the module docstring for one provisioning of ``ssid``.

    Feed it the baseline with :meth:`baseline`, each later state with :meth:`feed` and the clock
    with :meth:`check_time`; the last two return an outcome once one is decided.
    :meth:`next_deadline` tells when a time-based outcome is due. Times are any monotonic clock.
    """

    ssid: str
    connecting_timeout: float
    settle: float = DEFAULT_SETTLE
    """How long a "1" after a provisional activation waits for the join's own activation."""
    activated_since: float | None = None
    """When this join's activation ("2" + SSID) was seen; None before (or after a "1")."""
    activation_confirmed: bool = False
    """The activation was notified after the credentials write (not provisional)."""
    unverified_since: float | None = None
    """When a "3" that this join cannot be credited with was seen."""
    failure_since: float | None = None
    """When a "1" ended a provisional activation (a failure unless an activation follows)."""
    states: list[ConnectionState] = field(default_factory=list)
    """Every state considered, in order (baseline first)."""

    def baseline(self, state: ConnectionState, now: float) -> None:
        """Account for a state from before the credentials write (the latest one counts)."""
        self.states.append(state)
        if state.state is not BluenetState.CONNECTED:
            self.unverified_since = None
        elif self.unverified_since is None:
            self.unverified_since = now

    def feed(
        self, state: ConnectionState, now: float, *, during_write: bool = False
    ) -> ProvisionOutcome | None:
        """Account for one notified state; return an outcome when decided."""
        self.states.append(state)
        if state.state is BluenetState.CONNECTING:
            if state.carries(self.ssid):
                if self.activated_since is None or (
                    not during_write and not self.activation_confirmed
                ):
                    self.activated_since = now
                self.activation_confirmed = self.activation_confirmed or not during_write
                self.unverified_since = None
                self.failure_since = None
            return None
        if state.state in (BluenetState.DISCONNECTED, BluenetState.DOWN):
            if self.activated_since is not None and self.activation_confirmed:
                return ProvisionOutcome.WRONG_PASSWORD
            if self.activated_since is not None:
                self.failure_since = now
            self.activated_since = None
            self.unverified_since = None
            return None
        # CONNECTED
        if self.activated_since is not None:
            if state.carries(self.ssid):
                return ProvisionOutcome.CONNECTED
            return ProvisionOutcome.OTHER_UPLINK
        self.failure_since = None
        if self.unverified_since is None:
            self.unverified_since = now
        return None

    def next_deadline(self) -> float | None:
        """Monotonic time at which :meth:`check_time` may decide, or None."""
        due = [
            since + self.connecting_timeout
            for since in (self.activated_since, self.unverified_since)
            if since is not None
        ]
        if self.failure_since is not None:
            due.append(self.failure_since + self.settle)
        return min(due) if due else None

    def check_time(self, now: float) -> ProvisionOutcome | None:
        """Return the time-based outcome that is due at ``now``, if any."""
        if self.failure_since is not None and now - self.failure_since >= self.settle:
            return ProvisionOutcome.WRONG_PASSWORD
        if (
            self.unverified_since is not None
            and now - self.unverified_since >= self.connecting_timeout
        ):
            return ProvisionOutcome.OTHER_UPLINK
        if (
            self.activated_since is not None
            and now - self.activated_since >= self.connecting_timeout
        ):
            return ProvisionOutcome.NO_INTERNET
        return None


def outcome_with_hostname(outcome: ProvisionOutcome, hostname: str | None) -> ProvisionOutcome:
    """Apply the host name rule: CONNECTED with an empty host name is ``OTHER_UPLINK``.

    ``hostname`` None means it could not be read: the state's verdict stands.
    """
    if outcome is ProvisionOutcome.CONNECTED and hostname == "":
        return ProvisionOutcome.OTHER_UPLINK
    return outcome
