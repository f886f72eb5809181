"""Read one recorded connection: counts, the protocol part, and who kept the link waiting.

:func:`analyse` takes the PDUs of one connection (:class:`~.recorder.AirRecorder`) and names
every request (the handle's name, and for BluFi the frame's type and subtype, which travel in
clear). Under the link model a request can go out at the event right after the answer it
follows; every further event it waits is time the *client* spent (CPU, a deliberate sleep, an
extra request). A device push that comes more than one event after the request it answers is
time the *device* spent. Those waits, in milliseconds, are the critical path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from custom_components.ble_provisioning.protocol.blufi.const import ControlSubtype, DataSubtype

from .recorder import DISCOVERY, PUSHES, READS, WRITES, Att, Pdu

BLUFI_CHARS = ("FF01", "FF02")


def blufi_label(value: bytes) -> str:
    """Name a BluFi frame from its clear header: ``CTRL GET_VERSION`` / ``DATA NEG (frag)``."""
    if len(value) < 4:
        return "BluFi ?"
    frame_type, subtype = value[0] & 0x03, value[0] >> 2
    try:
        if frame_type == 0:
            name = f"CTRL {ControlSubtype(subtype).name}"
        else:
            name = f"DATA {DataSubtype(subtype).name}"
    except ValueError:
        name = f"type {frame_type} subtype 0x{subtype:02x}"
    return f"{name} (frag)" if value[1] & 0x10 else name


@dataclass(slots=True)
class Step:
    """One PDU on the critical path with the wait before it."""

    time: float
    event: int
    label: str
    by: str
    """"client" (a request) or "device" (a push)."""
    wait_events: int
    """Events since the PDU it follows (1 is the model's minimum)."""
    wait_ms: float
    """Time since the PDU it follows."""


@dataclass(slots=True)
class Connection:
    """What one connection carried."""

    anchor: float
    interval: float
    pdus: list[Pdu]
    names: Mapping[int, str]
    mtu: int = 23
    writes: int = 0
    reads: int = 0
    pushes: int = 0
    discovery: int = 0
    mtu_exchanges: int = 0
    subscriptions: int = 0
    steps: list[Step] = field(default_factory=list)
    protocol_start: float | None = None
    protocol_end: float | None = None
    end: float | None = None
    """Delivery of LL_TERMINATE_IND (None: the link was still up)."""

    @property
    def session(self) -> float | None:
        """Seconds from CONNECT_IND to LL_TERMINATE_IND."""
        return None if self.end is None else self.end - self.anchor

    @property
    def protocol(self) -> float | None:
        """Seconds from the first protocol request to the outcome's delivery."""
        if self.protocol_start is None or self.protocol_end is None:
            return None
        return self.protocol_end - self.protocol_start

    def label(self, pdu: Pdu) -> str:
        """Name a PDU: opcode, characteristic, BluFi frame."""
        name = self.names.get(pdu.handle or -1, "")
        try:
            opcode = Att(pdu.opcode or 0).name
        except ValueError:
            opcode = f"0x{pdu.opcode or 0:02x}"
        if pdu.opcode in WRITES | PUSHES and name in BLUFI_CHARS:
            return f"{blufi_label(pdu.value)}"
        return f"{opcode} {name}".strip()

    def waits(self, by: str, top: int = 6) -> list[dict[str, Any]]:
        """Return the longest waits of ``by`` ("client" / "device") beyond the model's one event."""
        extra = [step for step in self.steps if step.by == by and step.wait_events > 1]
        extra.sort(key=lambda step: step.wait_ms, reverse=True)
        return [
            {
                "before": step.label,
                "events": step.wait_events,
                "gap_ms": round(step.wait_ms, 1),
                "beyond_model_ms": round((step.wait_events - 1) * self.interval * 1000, 1),
            }
            for step in extra[:top]
        ]

    def wait_total(self, by: str) -> float:
        """Seconds ``by`` kept the link waiting beyond the model's minimum."""
        return sum(
            (step.wait_events - 1) * self.interval
            for step in self.steps
            if step.by == by and step.wait_events > 1
        )

    def summary(self) -> dict[str, Any]:
        """JSON-friendly figures."""

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 1)

        return {
            "mtu": self.mtu,
            "att_writes": self.writes,
            "att_reads": self.reads,
            "notifications": self.pushes,
            "discovery_requests": self.discovery,
            "mtu_exchanges": self.mtu_exchanges,
            "cccd_writes": self.subscriptions,
            "session_ms": ms(self.session),
            "protocol_ms": ms(self.protocol),
            "client_wait_ms": ms(self.wait_total("client")),
            "device_wait_ms": ms(self.wait_total("device")),
            "client_waits": self.waits("client"),
            "device_waits": self.waits("device"),
            "requests": [step.label for step in self.steps if step.by == "client"],
        }


def analyse(pdus: list[Pdu], names: Mapping[int, str], interval: float) -> Connection:
    """Read one connection (see the module)."""
    connection = Connection(
        anchor=pdus[0].anchor if pdus else 0.0, interval=interval, pdus=pdus, names=names
    )
    last_to_central: Pdu | None = None
    last_request: Pdu | None = None
    pending: Pdu | None = None
    for pdu in pdus:
        if pdu.terminate:
            connection.end = connection.end or pdu.time
            continue
        if pdu.opcode is None:
            continue
        name = names.get(pdu.handle or -1, "")
        cccd = name.startswith("CCCD")
        if pdu.to_peripheral:
            _count_request(connection, pdu, cccd)
            follows = last_to_central
            events = pdu.event - follows.event if follows is not None else pdu.event
            wait = pdu.time - (follows.time if follows is not None else connection.anchor)
            connection.steps.append(
                Step(pdu.time, pdu.event, connection.label(pdu), "client", events, wait)
            )
            if pdu.is_request:
                pending = pdu
            last_request = pdu
            if connection.protocol_start is None and _is_protocol(pdu, cccd):
                connection.protocol_start = pdu.time
            continue
        # From the peripheral: a response, or a push.
        answered = pending
        if pdu.opcode in PUSHES:
            connection.pushes += 1
            if last_request is not None:
                events = pdu.event - last_request.event
                wait = pdu.time - last_request.time
                connection.steps.append(
                    Step(pdu.time, pdu.event, connection.label(pdu), "device", events, wait)
                )
        else:
            if pdu.opcode == Att.MTU_RSP and len(pdu.value) >= 2:
                connection.mtu = max(23, int.from_bytes(pdu.value[:2], "little"))
            pending = None
        last_to_central = pdu
        answered_cccd = answered is not None and names.get(answered.handle or -1, "").startswith(
            "CCCD"
        )
        if connection.protocol_start is not None and (pdu.opcode in PUSHES or not answered_cccd):
            connection.protocol_end = pdu.time
    _clamp_mtu(connection)
    return connection


def _count_request(connection: Connection, pdu: Pdu, cccd: bool) -> None:
    if pdu.opcode in WRITES:
        connection.writes += 1
        connection.subscriptions += cccd
    elif pdu.opcode in READS:
        connection.reads += 1
    elif pdu.opcode in DISCOVERY:
        connection.discovery += 1
    elif pdu.opcode == Att.MTU_REQ:
        connection.mtu_exchanges += 1


def _is_protocol(pdu: Pdu, cccd: bool) -> bool:
    return not cccd and (pdu.opcode in WRITES or pdu.opcode in READS)


def _clamp_mtu(connection: Connection) -> None:
    """Take the smaller of the two MTU proposals as the ATT_MTU."""
    request = next(
        (pdu for pdu in connection.pdus if pdu.to_peripheral and pdu.opcode == Att.MTU_REQ), None
    )
    if request is not None and len(request.value) >= 2:
        connection.mtu = min(connection.mtu, max(23, int.from_bytes(request.value[:2], "little")))
