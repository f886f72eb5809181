"""Immutable values returned by the Bluenet client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..models import ProvisionOutcome
from .const import BluenetState


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """Decoded connection state: the daemon's state and the SSID of its ``bluenet`` profile.

    ``ssid`` is ``None`` when the payload carries no SSID (always so for ``DISCONNECTED``).
    BlueZ cuts a notification at ``ATT_MTU - 3`` bytes and a read at ``ATT_MTU - 1``: at
    ATT_MTU 23 a 20-byte SSID arrives as its first 19 bytes (``ssid_truncated``).
    """

    state: BluenetState
    ssid: str | None = None
    ssid_truncated: bool = False
    """The payload filled a whole packet (at a small ATT MTU): ``ssid`` may be the start of a
    longer SSID, cut at a character boundary."""

    @property
    def is_connected(self) -> bool:
        """Return True when the daemon reports CONNECTED."""
        return self.state is BluenetState.CONNECTED

    def carries(self, ssid: str) -> bool:
        """Whether the state names ``ssid``: exactly, or as its start when the payload was cut."""
        if not self.ssid:
            return False
        return self.ssid == ssid or (self.ssid_truncated and ssid.startswith(self.ssid))


@dataclass(frozen=True, slots=True)
class ReadValue:
    """A UTF-8 value read from the daemon.

    ``truncated`` is True when the value filled a whole Read Response (``ATT_MTU - 1`` bytes) or,
    notified, a whole notification (``ATT_MTU - 3``): the daemon ignores read offsets, so
    anything beyond cannot be read and the value may be cut.
    """

    value: str
    truncated: bool

    def __iter__(self) -> Iterator[str | bool]:
        """Allow ``value, truncated = await client.read_hostname()``."""
        return iter((self.value, self.truncated))


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What a daemon tells about itself."""

    version: str
    hostname: str
    hostname_truncated: bool = False


@dataclass(frozen=True, slots=True)
class ProvisionResult:
    """Result of :meth:`BluenetClient.provision`. Never holds the password."""

    outcome: ProvisionOutcome
    ssid: str
    hostname: str | None = None
    states_seen: tuple[ConnectionState, ...] = ()
    hostname_truncated: bool = False

    @property
    def success(self) -> bool:
        """Return True only for a verified join of the requested SSID."""
        return self.outcome is ProvisionOutcome.CONNECTED
