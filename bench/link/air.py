"""The air between the bench's Bumble controllers: connection events and link drops.

:class:`TimedLink` replaces Bumble's ``LocalLink``. Every LE connection of the radio goes through
it, whatever drives the central (the bench's bleak backends, the emulated ESPHome proxy): the
timing and the drops below apply to every connection path alike.

The model
---------
Bumble's ``LocalLink`` hands each PDU to the peer controller at once (``call_soon``), so a GATT
round trip costs a few turns of the event loop. A real LE link carries PDUs only at connection
events, one every *connection interval* (7.5 ms to 4 s; 30 to 50 ms is typical for a phone or
BlueZ, 7.5 ms is the minimum). Here, with an interval ``I > 0``:

* the central's CONNECT_IND sets the connection's anchor ``t0``; its connection events fall at
  ``t0 + k·I`` (k = 1, 2, ...);
* a PDU (ACL data or an LL control PDU such as LL_TERMINATE_IND) handed to the air waits in the
  connection's queue and goes out at the first connection event *after* the one in progress:
  whatever a controller receives during event k is answered at event k+1 at the earliest, as a
  host-based stack (BlueZ, ESP-IDF's Bluedroid) does;
* every PDU queued before an event goes out in that event, both directions, in queue order:
  several PDUs share an event (the number per event is not limited; ATT traffic of this size
  fits in one event of a real link with data length extension);
* so an isolated request waits up to 1 interval for the next event and its response arrives one
  interval after the request: 1 to 2 intervals; back-to-back exchanges (the next request sent as
  soon as the response arrived) cost 2 intervals each; a write response and the notification
  the write triggered arrive in the same event.

With ``I == 0`` every PDU is delivered with ``call_soon``, exactly as Bumble's ``LocalLink``
does: no timer is armed and nothing waits (``stats.events_scheduled`` stays 0).

Drops
-----
``drop_after = N`` lets a connection carry N *exchanges*: ATT requests and commands sent by the
central (MTU exchange and service discovery included; responses, notifications, indications
and confirmations are not counted). The central's next request or command is lost and the link
drops: both controllers report Disconnection Complete with reason 0x08 (connection timeout),
after the PDUs queued before it have been delivered. So N operations succeed, the N+1th fails
and the central's host sees the disconnection. :meth:`TimedLink.drop` drops a link at once.

Not modelled: link-layer fragmentation and data length, a limit of PDUs per event, peripheral
latency, the transmit window at connection set-up, packet loss and retransmission, and the
supervision timeout's duration (a drop is reported at once, not seconds later).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
import enum
import logging
import math
from typing import TYPE_CHECKING, Any

from bumble import core, hci, ll
from bumble.link import LocalLink

if TYPE_CHECKING:
    from bumble.controller import Controller

_LOGGER = logging.getLogger(__name__)

L2CAP_HEADER = 4
ATT_CID = 0x0004
CONNECTION_TIMEOUT = int(hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR)
"""HCI reason 0x08: what a controller reports when the supervision timeout expires."""

_ATT_REQUESTS = frozenset({0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x0E, 0x10, 0x12, 0x16, 0x18, 0x20})
_ATT_COMMANDS = frozenset({0x52, 0xD2})


@dataclass(frozen=True, slots=True)
class LinkConditions:
    """How the air treats one connection.

    ``interval`` is the connection interval in seconds (0: no delay at all); ``drop_after``
    the number of central-initiated ATT exchanges the connection carries before it drops
    (None: never).
    """

    interval: float = 0.0
    drop_after: int | None = None

    def __post_init__(self) -> None:
        """Reject impossible values."""
        if self.interval < 0:
            msg = f"interval must be >= 0, not {self.interval}"
            raise ValueError(msg)
        if self.drop_after is not None and self.drop_after < 0:
            msg = f"drop_after must be >= 0, not {self.drop_after}"
            raise ValueError(msg)


class Sender(enum.StrEnum):
    """Which end of a connection sent a PDU."""

    CENTRAL = "central"
    PERIPHERAL = "peripheral"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One PDU handed to a controller (recorded while :attr:`TimedLink.trace` is a list)."""

    peripheral: str
    sender: Sender
    event: int
    """Connection event that carried it (0 when the interval is 0: no events)."""
    att_opcode: int | None
    """ATT opcode of an ATT PDU; None for other L2CAP channels and LL control PDUs."""


@dataclass(slots=True)
class AirStats:
    """Counters over the whole air (deterministic: counts, never durations)."""

    pdus: int = 0
    """ACL PDUs and LL control PDUs delivered."""
    delayed_pdus: int = 0
    """Of those, delivered at a connection event (interval > 0)."""
    events_scheduled: int = 0
    """Connection-event timers armed (0 as long as every interval is 0)."""
    exchanges: int = 0
    """Central-initiated ATT requests and commands carried."""
    drops: int = 0
    """Links dropped by the air (``drop_after`` or :meth:`TimedLink.drop`)."""


@dataclass(slots=True)
class LinkState:
    """One LE connection as the air sees it."""

    central: str
    peripheral: str
    conditions: LinkConditions
    anchor: float
    central_controller: Controller
    peripheral_controller: Controller | None
    central_address: hci.Address
    peripheral_address: hci.Address
    drop_after: int | None = None
    """Exchanges this connection carries before it drops (from ``conditions``; adjustable)."""
    exchanges: int = 0
    """Central-initiated ATT requests and commands carried so far."""
    event: int = 0
    """Index of the last connection event that carried PDUs."""
    closed: bool = False
    _queue: list[Callable[[], None]] = field(default_factory=list)
    _timer: asyncio.TimerHandle | None = None
    _next_event: int = 0

    def arm_drop(self, after: int) -> None:
        """Let this connection carry ``after`` more exchanges, then drop."""
        self.drop_after = self.exchanges + after


def _address(address: hci.Address) -> str:
    return address.to_string(with_type_qualifier=False)


def _att_opcode(data: bytes) -> int | None:
    if len(data) <= L2CAP_HEADER or int.from_bytes(data[2:4], "little") != ATT_CID:
        return None
    return data[L2CAP_HEADER]


class TimedLink(LocalLink):
    """Bumble's in-process link with connection events and drops (see the module docstring).

    ``conditions`` apply to every new connection unless :meth:`set_conditions` gave the
    peripheral its own.
    """

    def __init__(self, conditions: LinkConditions | None = None) -> None:
        """Start with no connection; ``conditions`` default to an ideal link."""
        super().__init__()  # type: ignore[no-untyped-call]
        self.conditions = conditions or LinkConditions()
        self.stats = AirStats()
        self.trace: list[Delivery] | None = None
        """Set to a list to record every delivery (tests)."""
        self._overrides: dict[str, LinkConditions] = {}
        self._links: dict[tuple[str, str], LinkState] = {}
        self._connections: Counter[str] = Counter()

    # ------------------------------------------------------------------ configuration
    def set_conditions(self, peripheral: str, conditions: LinkConditions | None) -> None:
        """Give new connections to ``peripheral`` their own conditions (None: the default)."""
        if conditions is None:
            self._overrides.pop(peripheral.upper(), None)
        else:
            self._overrides[peripheral.upper()] = conditions

    def conditions_for(self, peripheral: str) -> LinkConditions:
        """Return the conditions a new connection to ``peripheral`` gets."""
        return self._overrides.get(peripheral.upper(), self.conditions)

    # ------------------------------------------------------------------ inspection
    def link(self, peripheral: str) -> LinkState | None:
        """Return the open connection to ``peripheral`` (None when there is none)."""
        wanted = peripheral.upper()
        for state in self._links.values():
            if state.peripheral == wanted and not state.closed:
                return state
        return None

    @property
    def idle(self) -> bool:
        """True when no PDU waits for a connection event."""
        return all(state._timer is None for state in self._links.values())

    def connection_count(self, peripheral: str) -> int:
        """How many connections to ``peripheral`` were set up so far."""
        return self._connections[peripheral.upper()]

    # ------------------------------------------------------------------ drops
    def drop(self, peripheral: str, reason: int = CONNECTION_TIMEOUT) -> bool:
        """Drop the connection to ``peripheral`` now (both ends report ``reason``)."""
        state = self.link(peripheral)
        if state is None:
            return False
        self._drop(state, reason)
        return True

    def _drop(self, state: LinkState, reason: int) -> None:
        if state.closed:
            return
        self._close(state)
        self.stats.drops += 1
        _LOGGER.debug("air: %s dropped after %s exchanges", state.peripheral, state.exchanges)
        ends = [(state.central_controller, state.peripheral_address)]
        if state.peripheral_controller is not None:
            ends.append((state.peripheral_controller, state.central_address))
        for controller, peer in ends:
            connection = controller.le_connections.get(peer)
            if connection is not None:
                controller.on_le_disconnected(connection, reason)

    def close(self) -> None:
        """Forget every connection and cancel the pending events (the radio is stopping)."""
        for state in list(self._links.values()):
            self._close(state)

    def _close(self, state: LinkState) -> None:
        state.closed = True
        state._queue.clear()
        if state._timer is not None:
            state._timer.cancel()
            state._timer = None
        if self._links.get((state.central, state.peripheral)) is state:
            del self._links[(state.central, state.peripheral)]

    # ------------------------------------------------------------------ LocalLink overrides
    def send_advertising_pdu(
        self, sender_controller: Controller, packet: ll.AdvertisingPdu
    ) -> None:
        """Note every CONNECT_IND: it opens a connection (and anchors its events)."""
        if isinstance(packet, ll.ConnectInd):
            self._open(sender_controller, packet)
        super().send_advertising_pdu(sender_controller, packet)

    def send_acl_data(
        self,
        sender_controller: Controller,
        destination_address: hci.Address,
        transport: core.PhysicalTransport,
        data: bytes,
    ) -> None:
        """Deliver one L2CAP PDU at the connection's next event; count and drop exchanges."""
        if transport != core.PhysicalTransport.LE:
            super().send_acl_data(sender_controller, destination_address, transport, data)
            return
        connection = sender_controller.le_connections.get(destination_address)
        state = self._state_of(connection)
        if state is None:
            super().send_acl_data(sender_controller, destination_address, transport, data)
            return
        assert connection is not None  # _state_of found its link
        sender = Sender.CENTRAL if connection.role == hci.Role.CENTRAL else Sender.PERIPHERAL
        opcode = _att_opcode(data)
        if (
            sender is Sender.CENTRAL
            and opcode is not None
            and (opcode in _ATT_REQUESTS or opcode in _ATT_COMMANDS)
        ):
            if state.drop_after is not None and state.exchanges >= state.drop_after:
                self._schedule(state, lambda: self._drop(state, CONNECTION_TIMEOUT))
                return
            state.exchanges += 1
            self.stats.exchanges += 1
        destination = self.find_le_controller(destination_address)
        if destination is None:
            return
        source_address = sender_controller.random_address

        def deliver() -> None:
            self._record(state, sender, opcode)
            destination.on_link_acl_data(source_address, transport, data)

        self._schedule(state, deliver)

    def send_ll_control_pdu(
        self, sender_address: hci.Address, receiver_address: hci.Address, packet: ll.ControlPdu
    ) -> None:
        """Carry LL control PDUs at connection events too (LL_TERMINATE_IND after the data)."""
        key = (_address(sender_address), _address(receiver_address))
        state = self._links.get(key) or self._links.get((key[1], key[0]))
        if state is None:
            super().send_ll_control_pdu(sender_address, receiver_address, packet)
            return
        receiver = self.find_le_controller(receiver_address)
        if receiver is None:
            msg = f"Unable to find controller for address {receiver_address}"
            raise core.InvalidArgumentError(msg)
        sender = Sender.CENTRAL if key[0] == state.central else Sender.PERIPHERAL

        def deliver() -> None:
            terminate = isinstance(packet, ll.TerminateInd)
            if terminate and receiver.le_connections.get(sender_address) is None:
                self._close(state)  # both ends terminated: their LL_TERMINATE_INDs crossed
                return
            self._record(state, sender, None)
            receiver.on_ll_control_pdu(sender_address, packet)
            if terminate:
                self._close(state)

        self._schedule(state, deliver)

    # ------------------------------------------------------------------ internals
    def _open(self, central_controller: Controller, packet: ll.ConnectInd) -> None:
        central, peripheral = (
            _address(packet.initiator_address),
            _address(packet.advertiser_address),
        )
        previous = self._links.get((central, peripheral))
        if previous is not None:
            self._close(previous)
        conditions = self.conditions_for(peripheral)
        state = LinkState(
            central=central,
            peripheral=peripheral,
            conditions=conditions,
            anchor=asyncio.get_running_loop().time(),
            central_controller=central_controller,
            peripheral_controller=self.find_le_controller(packet.advertiser_address),
            central_address=packet.initiator_address,
            peripheral_address=packet.advertiser_address,
            drop_after=conditions.drop_after,
        )
        self._links[(central, peripheral)] = state
        self._connections[peripheral] += 1

    def _state_of(self, connection: Any) -> LinkState | None:
        if connection is None:
            return None
        ends = (_address(connection.self_address), _address(connection.peer_address))
        if connection.role != hci.Role.CENTRAL:
            ends = (ends[1], ends[0])
        return self._links.get(ends)

    def _schedule(self, state: LinkState, action: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()

        def run() -> None:
            if not state.closed:
                action()

        interval = state.conditions.interval
        if interval <= 0:
            loop.call_soon(run)
            return
        state._queue.append(run)
        if state._timer is not None:
            return
        elapsed = loop.time() - state.anchor
        event = max(math.floor(elapsed / interval) + 1, state.event + 1)
        state._next_event = event
        state._timer = loop.call_at(state.anchor + event * interval, self._flush, state)
        self.stats.events_scheduled += 1

    def _flush(self, state: LinkState) -> None:
        state._timer = None
        state.event = state._next_event
        queue, state._queue = state._queue, []
        for action in queue:
            action()
            if state.closed:
                break

    def _record(self, state: LinkState, sender: Sender, opcode: int | None) -> None:
        self.stats.pdus += 1
        timed = state.conditions.interval > 0
        if timed:
            self.stats.delayed_pdus += 1
        if self.trace is not None:
            event = state.event if timed else 0
            self.trace.append(Delivery(state.peripheral, sender, event, opcode))
