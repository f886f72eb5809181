"""What crossed the air: every ATT PDU and link termination, with its delivery time and event.

:class:`AirRecorder` watches a :class:`~bench.radio.Radio` from outside: it wraps the receive
methods of every Bumble controller on the radio's link (``on_link_acl_data`` for L2CAP PDUs,
``on_ll_control_pdu`` for LL_TERMINATE_IND), so each PDU is recorded when the air delivers it
(at its connection event, :mod:`bench.link.air`), whatever drives the central: the bench's
bleak backends or the emulated ESPHome proxy. Nothing in the radio or the link changes; stopping
the recorder restores the controllers.

Each :class:`Pdu` carries the connection's anchor (its CONNECT_IND time) and event index, the
ATT opcode, handle and value, so a session can be cut out (:meth:`AirRecorder.connections`) and
read as a timeline: which request waited how many connection events for the client or the
device (:mod:`bench.benchmarks.timeline`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass
import enum
from typing import TYPE_CHECKING, Any, Self

from bumble import ll

from bench.advertising import normalize_uuid

if TYPE_CHECKING:
    from bumble.controller import Controller

    from bench.device import EmulatedPeripheral
    from bench.radio import Radio

CCCD_UUID = normalize_uuid("2902")
ATT_CID = 0x0004
L2CAP_HEADER = 4


class Att(enum.IntEnum):
    """ATT opcodes the benchmarks name (Core 5.4 Vol 3 Part F 3.4.8)."""

    ERROR = 0x01
    MTU_REQ = 0x02
    MTU_RSP = 0x03
    FIND_INFO_REQ = 0x04
    FIND_BY_TYPE_REQ = 0x06
    READ_BY_TYPE_REQ = 0x08
    READ_REQ = 0x0A
    READ_RSP = 0x0B
    READ_BLOB_REQ = 0x0C
    READ_BLOB_RSP = 0x0D
    READ_BY_GROUP_REQ = 0x10
    WRITE_REQ = 0x12
    WRITE_RSP = 0x13
    PREPARE_WRITE_REQ = 0x16
    EXECUTE_WRITE_REQ = 0x18
    NOTIFY = 0x1B
    INDICATE = 0x1D
    CONFIRM = 0x1E
    WRITE_CMD = 0x52


DISCOVERY = frozenset(
    {Att.FIND_INFO_REQ, Att.FIND_BY_TYPE_REQ, Att.READ_BY_TYPE_REQ, Att.READ_BY_GROUP_REQ}
)
WRITES = frozenset({Att.WRITE_REQ, Att.WRITE_CMD, Att.PREPARE_WRITE_REQ, Att.EXECUTE_WRITE_REQ})
READS = frozenset({Att.READ_REQ, Att.READ_BLOB_REQ})
PUSHES = frozenset({Att.NOTIFY, Att.INDICATE})
REQUESTS = frozenset(
    {
        Att.MTU_REQ,
        *DISCOVERY,
        Att.READ_REQ,
        Att.READ_BLOB_REQ,
        Att.WRITE_REQ,
        Att.PREPARE_WRITE_REQ,
        Att.EXECUTE_WRITE_REQ,
    }
)
_HANDLED = frozenset(
    {Att.READ_REQ, Att.READ_BLOB_REQ, Att.WRITE_REQ, Att.WRITE_CMD, Att.PREPARE_WRITE_REQ} | PUSHES
)


@dataclass(frozen=True, slots=True)
class Pdu:
    """One PDU the air delivered."""

    time: float
    """Loop time of the delivery."""
    peripheral: str
    to_peripheral: bool
    """Sent by the central (a request, command or confirmation)."""
    anchor: float
    """The connection's CONNECT_IND time (identifies the connection)."""
    event: int
    """Connection event that carried it (0 when the interval is 0)."""
    opcode: int | None
    """ATT opcode; None for LL_TERMINATE_IND and non-ATT L2CAP PDUs."""
    handle: int | None = None
    value: bytes = b""
    terminate: bool = False

    @property
    def is_request(self) -> bool:
        """A central request that waits for a response (one ATT transaction)."""
        return self.to_peripheral and self.opcode in REQUESTS

    @property
    def is_push(self) -> bool:
        """A notification or indication from the peripheral."""
        return not self.to_peripheral and self.opcode in PUSHES


def _address(address: Any) -> str:
    return str(address.to_string(with_type_qualifier=False)).upper()


def parse_att(data: bytes) -> tuple[int | None, int | None, bytes]:
    """Return (opcode, handle, value) of an L2CAP PDU (None, None, b"" when not ATT)."""
    if len(data) <= L2CAP_HEADER or int.from_bytes(data[2:4], "little") != ATT_CID:
        return None, None, b""
    att = data[L2CAP_HEADER:]
    opcode = att[0]
    if opcode in _HANDLED and len(att) >= 3:
        value_start = 5 if opcode == Att.PREPARE_WRITE_REQ else 3
        return opcode, int.from_bytes(att[1:3], "little"), bytes(att[value_start:])
    return opcode, None, bytes(att[1:])


class AirRecorder:
    """Record what the air delivers on ``radio`` (a context manager; see the module)."""

    def __init__(self, radio: Radio) -> None:
        """Prepare; recording starts with :meth:`start` or ``with``."""
        self.radio = radio
        self.pdus: list[Pdu] = []
        self._restore: list[Callable[[], None]] = []
        self._wrapped: set[int] = set()

    def start(self) -> None:
        """Wrap every controller on the link, and the ones added later."""
        link = self.radio.link
        for controller in list(link.controllers):
            self._wrap(controller)
        original_add = link.add_controller

        def add_controller(controller: Controller) -> None:
            original_add(controller)
            self._wrap(controller)

        link.add_controller = add_controller  # type: ignore[method-assign]
        self._restore.append(lambda: delattr(link, "add_controller"))

    def stop(self) -> None:
        """Restore the controllers (the records stay)."""
        while self._restore:
            self._restore.pop()()
        self._wrapped.clear()

    def __enter__(self) -> Self:
        """Start recording."""
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop recording."""
        self.stop()

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.pdus.clear()

    def _wrap(self, controller: Controller) -> None:
        if id(controller) in self._wrapped:
            return
        self._wrapped.add(id(controller))
        central = controller is self.radio.central_controller
        own = _address(controller.public_address)
        on_acl = controller.on_link_acl_data
        on_control = controller.on_ll_control_pdu

        def on_link_acl_data(sender_address: Any, transport: Any, data: bytes) -> None:
            peripheral = _address(sender_address) if central else own
            opcode, handle, value = parse_att(bytes(data))
            self._record(peripheral, not central, opcode, handle, value, terminate=False)
            on_acl(sender_address, transport, data)

        def on_ll_control_pdu(sender_address: Any, packet: Any) -> None:
            if isinstance(packet, ll.TerminateInd):
                peripheral = _address(sender_address) if central else own
                self._record(peripheral, not central, None, None, b"", terminate=True)
            on_control(sender_address, packet)

        controller.on_link_acl_data = on_link_acl_data  # type: ignore[method-assign]
        controller.on_ll_control_pdu = on_ll_control_pdu  # type: ignore[method-assign]

        def restore() -> None:
            with contextlib.suppress(AttributeError):
                del controller.on_link_acl_data
            with contextlib.suppress(AttributeError):
                del controller.on_ll_control_pdu

        self._restore.append(restore)

    def _record(
        self,
        peripheral: str,
        to_peripheral: bool,
        opcode: int | None,
        handle: int | None,
        value: bytes,
        *,
        terminate: bool,
    ) -> None:
        link = self.radio.link
        state = link.link(peripheral)
        if state is None:
            return  # not on a connection the air knows (should not happen)
        timed = state.conditions.interval > 0
        self.pdus.append(
            Pdu(
                time=_now(),
                peripheral=peripheral,
                to_peripheral=to_peripheral,
                anchor=state.anchor,
                event=state.event if timed else 0,
                opcode=opcode,
                handle=handle,
                value=value,
                terminate=terminate,
            )
        )

    def connections(self, peripheral: str) -> list[list[Pdu]]:
        """Return the recorded PDUs of ``peripheral``, one list per connection, in order."""
        wanted = peripheral.upper()
        found: dict[float, list[Pdu]] = {}
        for pdu in self.pdus:
            if pdu.peripheral == wanted:
                found.setdefault(pdu.anchor, []).append(pdu)
        return [found[anchor] for anchor in sorted(found)]


def _now() -> float:
    import asyncio  # noqa: PLC0415 - only the running loop's clock is wanted

    return asyncio.get_running_loop().time()


def handle_names(emulator: EmulatedPeripheral, names: dict[str, str]) -> dict[int, str]:
    """Name the ATT handles of ``emulator``'s GATT table.

    ``names`` maps normalised characteristic UUIDs (as the emulator keys them) to short names;
    a CCCD is named ``"CCCD <name>"`` after the characteristic it follows.
    """
    device = emulator.device
    if device is None:
        return {}
    wanted = {normalize_uuid(key): name for key, name in names.items()}
    result: dict[int, str] = {}
    last = "?"
    for attribute in device.gatt_server.attributes:
        kind = type(attribute).__name__
        uuid = normalize_uuid(str(attribute.type.to_hex_str()))
        if kind == "Characteristic":
            last = wanted.get(uuid, uuid[:8])
            result[attribute.handle] = last
        elif kind == "Descriptor" and uuid == CCCD_UUID:
            result[attribute.handle] = f"CCCD {last}"
    return result


def iter_requests(pdus: list[Pdu]) -> Iterator[Pdu]:
    """Return the central's requests and commands in ``pdus``."""
    return (pdu for pdu in pdus if pdu.to_peripheral and pdu.opcode is not None)
