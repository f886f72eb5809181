"""The timed link (bench.link.air) with stand-in controllers: events, ordering, drops.

The stand-ins record what the link hands them; PDUs are L2CAP frames on the ATT channel. No
wall clock is asserted: only which connection event carried what, and in which order.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bumble import core, hci, ll
import pytest

from bench.link.air import CONNECTION_TIMEOUT, LinkConditions, Sender, TimedLink

CENTRAL = hci.Address("C0:00:00:00:00:01")
PERIPHERAL = hci.Address("AA:BB:CC:DD:EE:01")
LE = core.PhysicalTransport.LE

WRITE_REQUEST = 0x12
WRITE_RESPONSE = 0x13
WRITE_COMMAND = 0x52
NOTIFICATION = 0x1B


def att(opcode: int, payload: bytes = b"\x01\x00") -> bytes:
    """An L2CAP frame on the ATT channel."""
    body = bytes([opcode]) + payload
    return len(body).to_bytes(2, "little") + (0x0004).to_bytes(2, "little") + body


@dataclass
class _Connection:
    role: hci.Role
    self_address: hci.Address
    peer_address: hci.Address


@dataclass(eq=False)
class _Controller:
    """What TimedLink uses of a Bumble controller."""

    address: hci.Address
    role: hci.Role
    received: list[bytes] = field(default_factory=list)
    disconnected: list[int] = field(default_factory=list)
    le_connections: dict[hci.Address, _Connection] = field(default_factory=dict)
    on_receive: Any = None

    @property
    def random_address(self) -> hci.Address:
        return self.address

    @property
    def public_address(self) -> hci.Address:
        return self.address

    def on_ll_advertising_pdu(self, packet: Any) -> None:
        if isinstance(packet, ll.ConnectInd) and self.role == hci.Role.PERIPHERAL:
            self.le_connections[packet.initiator_address] = _Connection(
                hci.Role.PERIPHERAL, self.address, packet.initiator_address
            )

    def on_link_acl_data(self, _sender: hci.Address, _transport: Any, data: bytes) -> None:
        self.received.append(data)
        if self.on_receive is not None:
            self.on_receive(data)

    def on_le_disconnected(self, connection: _Connection, reason: int) -> None:
        self.disconnected.append(reason)
        del self.le_connections[connection.peer_address]


@pytest.fixture
def pair() -> tuple[TimedLink, _Controller, _Controller]:
    link = TimedLink()
    central = _Controller(CENTRAL, hci.Role.CENTRAL)
    peripheral = _Controller(PERIPHERAL, hci.Role.PERIPHERAL)
    link.add_controller(central)  # type: ignore[arg-type]
    link.add_controller(peripheral)  # type: ignore[arg-type]
    return link, central, peripheral


def _connect(link: TimedLink, central: _Controller) -> None:
    central.le_connections[PERIPHERAL] = _Connection(hci.Role.CENTRAL, CENTRAL, PERIPHERAL)
    link.send_advertising_pdu(
        central,  # type: ignore[arg-type]
        ll.ConnectInd(
            initiator_address=CENTRAL,
            advertiser_address=PERIPHERAL,
            interval=24,
            latency=0,
            timeout=42,
        ),
    )


async def _until(predicate: Any) -> None:
    async with asyncio.timeout(30):
        while not predicate():  # noqa: ASYNC110 - the link has no event to await
            await asyncio.sleep(0.001)


async def test_interval_zero_delivers_at_once_without_timers(
    pair: tuple[TimedLink, _Controller, _Controller],
) -> None:
    link, central, peripheral = pair
    link.trace = []
    _connect(link, central)
    for _ in range(3):
        link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_REQUEST))  # type: ignore[arg-type]
    await asyncio.sleep(0)  # one loop turn: call_soon, as Bumble's LocalLink
    assert len(peripheral.received) == 3
    assert link.stats.events_scheduled == 0
    assert link.stats.delayed_pdus == 0
    assert link.stats.pdus == 3
    assert {delivery.event for delivery in link.trace} == {0}


async def test_pdus_queued_before_an_event_share_it_and_answers_go_later(
    pair: tuple[TimedLink, _Controller, _Controller],
) -> None:
    link, central, peripheral = pair
    link.conditions = LinkConditions(interval=0.02)
    link.trace = []
    _connect(link, central)

    def answer(data: bytes) -> None:
        # The peripheral's host answers at once: the answer still waits for the next event.
        if data[4] == WRITE_REQUEST:
            link.send_acl_data(peripheral, CENTRAL, LE, att(NOTIFICATION))  # type: ignore[arg-type]
            link.send_acl_data(peripheral, CENTRAL, LE, att(WRITE_RESPONSE, b""))  # type: ignore[arg-type]

    peripheral.on_receive = answer
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_COMMAND))  # type: ignore[arg-type]
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_COMMAND))  # type: ignore[arg-type]
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_REQUEST))  # type: ignore[arg-type]
    assert peripheral.received == []  # nothing before the first connection event
    await _until(lambda: len(central.received) == 2)

    trace = [(d.sender, d.att_opcode, d.event) for d in link.trace]
    first = trace[0][2]
    assert trace == [
        (Sender.CENTRAL, WRITE_COMMAND, first),
        (Sender.CENTRAL, WRITE_COMMAND, first),
        (Sender.CENTRAL, WRITE_REQUEST, first),
        (Sender.PERIPHERAL, NOTIFICATION, trace[3][2]),
        (Sender.PERIPHERAL, WRITE_RESPONSE, trace[3][2]),
    ]
    assert first >= 1
    assert trace[3][2] > first  # the answer goes out at a later event
    assert link.stats.delayed_pdus == 5
    assert link.stats.events_scheduled == 2  # one timer per event that carried PDUs


async def test_drop_after_n_exchanges_loses_the_next_one(
    pair: tuple[TimedLink, _Controller, _Controller],
) -> None:
    link, central, peripheral = pair
    link.conditions = LinkConditions(drop_after=2)
    _connect(link, central)
    state = link.link("AA:BB:CC:DD:EE:01")
    assert state is not None
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_REQUEST))  # type: ignore[arg-type]
    link.send_acl_data(peripheral, CENTRAL, LE, att(NOTIFICATION))  # type: ignore[arg-type]
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_COMMAND))  # type: ignore[arg-type]
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_REQUEST))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    # Two exchanges carried (notifications do not count); the third is lost with the link.
    assert [data[4] for data in peripheral.received] == [WRITE_REQUEST, WRITE_COMMAND]
    assert [data[4] for data in central.received] == [NOTIFICATION]
    assert central.disconnected == [CONNECTION_TIMEOUT]
    assert peripheral.disconnected == [CONNECTION_TIMEOUT]
    assert state.closed
    assert link.stats.drops == 1
    assert link.stats.exchanges == 2


async def test_drop_keeps_what_was_queued_before_it(
    pair: tuple[TimedLink, _Controller, _Controller],
) -> None:
    """With an interval, PDUs queued before the lost one still go out, then the link drops."""
    link, central, peripheral = pair
    link.conditions = LinkConditions(interval=0.01, drop_after=1)
    _connect(link, central)
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_COMMAND))  # type: ignore[arg-type]
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_COMMAND))  # type: ignore[arg-type]
    await _until(lambda: bool(central.disconnected))
    assert [data[4] for data in peripheral.received] == [WRITE_COMMAND]
    assert peripheral.disconnected == [CONNECTION_TIMEOUT]


async def test_conditions_per_peripheral_and_arming_a_drop(
    pair: tuple[TimedLink, _Controller, _Controller],
) -> None:
    link, central, peripheral = pair
    address = "AA:BB:CC:DD:EE:01"
    link.set_conditions(address, LinkConditions(interval=0.5))
    assert link.conditions_for(address).interval == 0.5
    assert link.conditions_for("AA:BB:CC:DD:EE:02").interval == 0.0
    link.set_conditions(address, None)
    assert link.conditions_for(address).interval == 0.0
    _connect(link, central)
    assert link.connection_count(address) == 1
    state = link.link(address)
    assert state is not None
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_REQUEST))  # type: ignore[arg-type]
    state.arm_drop(1)
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_REQUEST))  # type: ignore[arg-type]
    link.send_acl_data(central, PERIPHERAL, LE, att(WRITE_REQUEST))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert len(peripheral.received) == 2
    assert central.disconnected == [CONNECTION_TIMEOUT]
    assert link.link(address) is None


def test_conditions_reject_impossible_values() -> None:
    with pytest.raises(ValueError, match="interval"):
        LinkConditions(interval=-1)
    with pytest.raises(ValueError, match="drop_after"):
        LinkConditions(drop_after=-1)
