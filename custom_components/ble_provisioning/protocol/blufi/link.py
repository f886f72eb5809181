"""BluFi transport over one GATT link: frames, sequence numbers, fragments, encryption, inboxes.

:class:`BlufiLink` owns the :class:`~..gatt.GattLink` and everything that lives exactly as long as
one connection: both sequence counters, the reassembler, the session cipher, the inboxes that
wait for messages, and the error a device reported while nobody was waiting (raised by the next
request). Every wait is bounded and gives up at once when the link drops. Logs name frame types
and lengths only, never a payload; lines about malformed or unexpected notifications are
rate-limited (a device can send them endlessly).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
import logging
import time

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice

from ..errors import (
    MissingServiceError,
    ProvisioningConnectionError,
    ProvisioningError,
    ProvisioningTimeoutError,
)
from ..gatt import ATT_HEADER, GattLink
from ..slots import ConnectionSlots
from .codec import (
    Frame,
    FrameCipher,
    Message,
    Reassembler,
    SequenceCounter,
    decode_frame,
    encode_frame,
    fragment,
    max_data_len,
    subtype_name,
)
from .const import (
    SECRET_SUBTYPES,
    BlufiSecurity,
    ControlSubtype,
    DataSubtype,
    FrameControl,
    FrameType,
)
from .errors import BlufiTimeoutError, NotBlufiDeviceError, device_error

_LOGGER = logging.getLogger(__name__)

MessageMatch = Callable[[Message], bool]
MessageListener = Callable[[Message], None]

LOG_INTERVAL = 10.0
"""Seconds between two log lines about malformed or unexpected notifications."""


def is_message(frame_type: FrameType, subtype: int) -> MessageMatch:
    """Match messages of one type and subtype."""
    return lambda msg: msg.frame_type == frame_type and msg.subtype == subtype


def is_ack(seq: int) -> MessageMatch:
    """Match the device's ACK of the frame sent with ``seq``."""
    return (
        lambda msg: msg.frame_type == FrameType.CTRL
        and msg.subtype == ControlSubtype.ACK
        and msg.payload[:1] == bytes((seq,))
    )


class LogThrottle:
    """Allow one log line per ``interval`` seconds; count the lines it held back."""

    __slots__ = ("_interval", "_next", "suppressed")

    def __init__(self, interval: float = LOG_INTERVAL) -> None:
        """Allow the first line at once."""
        self._interval = interval
        self._next = 0.0
        self.suppressed = 0

    def allow(self) -> int | None:
        """Return how many lines were held back since the last one, or None to hold this one."""
        now = time.monotonic()
        if now < self._next:
            self.suppressed += 1
            return None
        held, self.suppressed = self.suppressed, 0
        self._next = now + self._interval
        return held


@dataclass(eq=False, slots=True)
class Inbox:
    """Messages that match, kept (up to ``limit``, oldest dropped) until they are received."""

    match: MessageMatch
    limit: int = 1
    items: deque[Message] = field(default_factory=deque)
    getter: asyncio.Future[None] | None = None
    dropped: int = 0

    def offer(self, message: Message) -> bool:
        """Keep ``message`` if it matches; wake the receiver."""
        if not self.match(message):
            return False
        self.items.append(message)
        while len(self.items) > self.limit:
            self.items.popleft()
            self.dropped += 1
        if self.getter is not None and not self.getter.done():
            self.getter.set_result(None)
        return True

    def fail(self, err: ProvisioningError) -> bool:
        """Hand ``err`` to a receiver waiting right now; False if none is."""
        if self.getter is None or self.getter.done():
            return False
        self.getter.set_exception(err)
        return True


class BlufiLink:
    """One BluFi connection: send frames, receive messages, wait for them (bounded)."""

    def __init__(
        self,
        ble_device: BLEDevice,
        *,
        service_uuid: str,
        write_uuid: str,
        notify_uuid: str,
        ble_device_callback: Callable[[], BLEDevice] | None = None,
        backend: type[BaseBleakClient] | None = None,
        slots: ConnectionSlots | None = None,
        timeout: float = 10.0,
        ack_timeout: float = 5.0,
    ) -> None:
        """Describe the link; nothing happens on the radio until :meth:`connect`."""
        self.timeout = timeout
        self.ack_timeout = ack_timeout
        self._write_uuid = write_uuid
        self._notify_uuid = notify_uuid
        self._gatt = GattLink(
            ble_device,
            service_uuid=service_uuid,
            characteristics=(write_uuid, notify_uuid),
            ble_device_callback=ble_device_callback,
            backend=backend,
            slots=slots,
            timeout=timeout,
            on_disconnect=self._on_link_lost,
        )
        self._tx_seq = SequenceCounter()
        self._rx_seq = SequenceCounter()
        self._rx_resync = False
        self._reassembler = Reassembler()
        self._cipher: FrameCipher | None = None
        self.security = BlufiSecurity.NONE
        self._inboxes: list[Inbox] = []
        self._listeners: list[MessageListener] = []
        self._pending_error: ProvisioningError | None = None
        self._lost = asyncio.Event()
        self._notifying = False
        self._bad_log = LogThrottle()
        self._unsolicited_log = LogThrottle()
        self.frame_limit: int | None = None
        """Largest frame to write, in bytes (None: one ATT write); lowers, never raises."""
        self.writes = 0
        """ATT writes on the current connection (diagnostics, benchmarks)."""

    # ------------------------------------------------------------------ connection

    @property
    def name(self) -> str:
        """Device name or address (for logs)."""
        return self._gatt.name

    @property
    def is_connected(self) -> bool:
        """Whether the BLE link is up."""
        return self._gatt.is_connected

    @property
    def mtu(self) -> int:
        """ATT MTU as the stack offers it (23 if unknown)."""
        return self._gatt.att_mtu

    async def connect(self) -> None:
        """Connect, check the BluFi service and subscribe; sequence numbers restart."""
        self.reset_session()
        try:
            await self._gatt.connect()
        except MissingServiceError as err:
            raise NotBlufiDeviceError(str(err)) from err
        self._lost.clear()
        # The device may push a frame (its Wi-Fi report, when it joins just then) between the
        # connection and our subscription: nobody hears it, but it advanced its counter. The
        # first frame heard sets the count (ESP-IDF's own app, too, does not fail on it).
        self.resync_rx()
        try:
            await self.set_notify(enabled=True)
        except BaseException:
            await self._gatt.disconnect()
            raise

    async def set_notify(self, *, enabled: bool) -> None:
        """Subscribe to (or unsubscribe from) the device's notifications."""
        if enabled == self._notifying:
            return
        if enabled:
            await self._gatt.start_notify(self._notify_uuid, self._on_notify)
            # Frames the device sent while nobody listened advanced its counter.
            if self._rx_seq.value != 0 or self.writes > 0:
                self.resync_rx()
        else:
            await self._gatt.stop_notify(self._notify_uuid)
        self._notifying = enabled

    async def disconnect(self) -> None:
        """Close the link (never raises); waiting receivers fail at once."""
        await self._gatt.disconnect()
        self.fail(ProvisioningConnectionError(f"{self.name}: disconnected"))
        self.reset_session()

    async def wait_lost(self, timeout: float) -> bool:
        """Wait until the link drops (True) or ``timeout`` passes (False)."""
        try:
            async with asyncio.timeout(timeout):
                await self._lost.wait()
        except TimeoutError:
            return False
        return True

    def reset_session(self) -> None:
        """Forget everything that belongs to one connection."""
        self._tx_seq.reset()
        self._rx_seq.reset()
        self._rx_resync = False
        self._reassembler.reset()
        self._cipher = None
        self.security = BlufiSecurity.NONE
        self._pending_error = None
        self._notifying = False
        for inbox in self._inboxes:
            inbox.items.clear()
        self.writes = 0

    def resync_rx(self) -> None:
        """Take the next notification's sequence number as the new start (frames were lost)."""
        self._rx_resync = True
        self._reassembler.reset()

    def set_cipher(self, cipher: FrameCipher, security: BlufiSecurity) -> None:
        """Encrypt and checksum from now on (after a negotiation)."""
        self._cipher = cipher
        self.security = security

    def _on_link_lost(self) -> None:
        self._lost.set()
        self.fail(ProvisioningConnectionError(f"{self.name}: connection lost"))

    # ------------------------------------------------------------------ receive path

    def add_listener(self, listener: MessageListener) -> Callable[[], None]:
        """Call ``listener`` with every complete message; returns a remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def open_inbox(self, match: MessageMatch, limit: int = 1) -> Inbox:
        """Start keeping messages that match (until :meth:`close_inbox`)."""
        inbox = Inbox(match, limit)
        self._inboxes.append(inbox)
        return inbox

    def close_inbox(self, inbox: Inbox) -> None:
        """Stop keeping messages for ``inbox``; a pending error on its receiver is retrieved."""
        if inbox in self._inboxes:
            self._inboxes.remove(inbox)
        getter, inbox.getter = inbox.getter, None
        if getter is not None:
            if not getter.done():
                getter.cancel()
            elif not getter.cancelled():
                getter.exception()  # mark retrieved

    def _on_notify(self, raw: bytes) -> None:
        try:
            if self._rx_resync and len(raw) >= 3:
                self._rx_seq.value = raw[2]
                self._rx_resync = False
            if len(raw) >= 3:
                self._rx_seq.check(raw[2])
            frame = decode_frame(raw, self._cipher)
            _LOGGER.debug(
                "%s: <- %s seq=%d len=%d fc=0x%02x",
                self.name,
                frame.name,
                frame.seq,
                len(frame.data),
                frame.fc,
            )
            message = self._reassembler.feed(frame)
        except ProvisioningError as err:
            held = self._bad_log.allow()
            if held is not None:
                _LOGGER.debug(
                    "%s: malformed notification (%d bytes): %s%s",
                    self.name,
                    len(raw),
                    err,
                    f" ({held} more not logged)" if held else "",
                )
            self._reassembler.reset()
            self.fail(err)
            return
        if message is not None:
            self._dispatch(message)

    def _dispatch(self, message: Message) -> None:
        if message.frame_type == FrameType.DATA and message.subtype == DataSubtype.ERROR_INFO:
            err = device_error(message.payload[0] if message.payload else 0xFF)
            _LOGGER.debug("%s: device error %s", self.name, err)
            self.fail(err)
            return
        for listener in list(self._listeners):
            try:
                listener(message)
            except ProvisioningError as err:
                self.fail(err)
                return
        taken = False
        for inbox in list(self._inboxes):
            taken = inbox.offer(message) or taken
        if not taken:
            held = self._unsolicited_log.allow()
            if held is not None:
                _LOGGER.debug(
                    "%s: unsolicited %s ignored%s",
                    self.name,
                    message.name,
                    f" ({held} more not logged)" if held else "",
                )

    def fail(self, err: ProvisioningError) -> None:
        """Hand ``err`` to every waiting receiver, or keep it for the next request."""
        delivered = False
        for inbox in list(self._inboxes):
            delivered = inbox.fail(err) or delivered
        if not delivered and self._pending_error is None and self.is_connected:
            self._pending_error = err

    def raise_pending(self) -> None:
        """Raise the error the device reported while nobody was waiting, if any."""
        err, self._pending_error = self._pending_error, None
        if err is not None:
            raise err

    async def receive(self, inbox: Inbox, timeout: float, what: str) -> Message:
        """Return the next message of ``inbox`` (kept ones first), waiting at most ``timeout``."""
        self.raise_pending()
        if inbox.items:
            return inbox.items.popleft()
        if not self.is_connected:
            raise ProvisioningConnectionError(f"{self.name}: not connected")
        getter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        inbox.getter = getter
        try:
            await self._gatt.wait(getter, timeout, what)
        except ProvisioningTimeoutError as err:
            raise BlufiTimeoutError(str(err)) from err
        finally:
            if inbox.getter is getter:
                inbox.getter = None
        if not inbox.items:  # the session was reset while the receiver was being woken
            raise ProvisioningConnectionError(f"{self.name}: disconnected")
        return inbox.items.popleft()

    # ------------------------------------------------------------------ send path

    def _max_data(self, checksum: bool) -> int:
        value = self._gatt.max_value_length
        if self.frame_limit is not None:
            value = min(value, self.frame_limit)
        return max_data_len(value + ATT_HEADER, checksum=checksum)

    async def send(
        self,
        frame_type: FrameType,
        subtype: int,
        payload: bytes = b"",
        *,
        encrypt: bool | None = None,
        checksum: bool | None = None,
        ack: bool = False,
    ) -> None:
        """Send one message, fragmented to fit; with ``ack`` wait for each fragment's ACK.

        ``encrypt`` and ``checksum`` default to "after a negotiation".
        """
        self.raise_pending()
        if not self.is_connected:
            raise ProvisioningConnectionError(f"{self.name}: not connected")
        secured = self.security != BlufiSecurity.NONE and self._cipher is not None
        checksum = secured if checksum is None else checksum
        encrypt = secured if encrypt is None else encrypt
        secret = frame_type == FrameType.DATA and subtype in SECRET_SUBTYPES
        name = subtype_name(frame_type, subtype)
        for more, chunk in fragment(payload, self._max_data(checksum)):
            fc = FrameControl.NONE
            if encrypt and chunk:
                fc |= FrameControl.ENC
            if checksum:
                fc |= FrameControl.CHECK
            if more:
                fc |= FrameControl.FRAG
            if ack:
                fc |= FrameControl.REQ_ACK
            seq = self._tx_seq.next()
            raw = encode_frame(Frame(frame_type, subtype, fc, seq, chunk), self._cipher)
            acked = self.open_inbox(is_ack(seq)) if ack else None
            _LOGGER.debug(
                "%s: -> %s seq=%d len=%d fc=0x%02x%s",
                self.name,
                name,
                seq,
                len(chunk),
                fc,
                " (secret payload)" if secret else "",
            )
            try:
                await self._gatt.write(self._write_uuid, raw, response=True)
                self.writes += 1
                if acked is not None:
                    await self.receive(acked, self.ack_timeout, f"ACK of {name} seq {seq}")
            finally:
                if acked is not None:
                    self.close_inbox(acked)

    async def request(
        self,
        frame_type: FrameType,
        subtype: int,
        reply: MessageMatch,
        what: str,
        payload: bytes = b"",
        timeout: float | None = None,
    ) -> Message:
        """Send a message and return the first reply that matches ``reply``."""
        inbox = self.open_inbox(reply)
        try:
            await self.send(frame_type, subtype, payload)
            return await self.receive(inbox, self.timeout if timeout is None else timeout, what)
        finally:
            self.close_inbox(inbox)
