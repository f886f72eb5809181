"""Fault hooks of the Bluenet daemon emulator: a broken link, a dying stream, a lying device."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Faults:
    """Fault hooks of one daemon.

    Each ``..._after_...`` counter is checked after the matching event and fires once (it is
    reset to None when it fires).

    The last two model a hostile or broken device rather than the daemon's code: the client
    must survive them (issue 10 item 5).
    """

    #: Device-initiated disconnect right after the Nth accepted write (1-based).
    disconnect_after_writes: int | None = None
    #: Device-initiated disconnect after the Nth connection-state notification.
    disconnect_after_state_notifications: int | None = None
    #: Device-initiated disconnect after the Nth network notification.
    disconnect_after_network_notifications: int | None = None
    #: The network timer chain dies (``dict changed size``) after the Nth network notification.
    stop_stream_after_network_notifications: int | None = None
    #: Reads / writes never get an answer (until the emulator is closed).
    hang_reads: bool = False
    hang_writes: bool = False
    #: Every connection-state payload (read or notified) carries this SSID instead of the
    #: ``bluenet`` profile's, e.g. 40 bytes, which NetworkManager never stores.
    state_ssid: str | None = None
    #: While the network list is subscribed, notify a new, never repeated SSID back to back,
    #: as fast as the link carries them (the daemon's own timer chain is not used).
    endless_networks: bool = False


def fire_once(faults: Faults, name: str, count: int) -> bool:
    """Return True (and disarm the hook) when counter ``name`` is set and ``count`` reached it."""
    threshold: int | None = getattr(faults, name)
    if threshold is None or count < threshold:
        return False
    setattr(faults, name, None)
    return True
