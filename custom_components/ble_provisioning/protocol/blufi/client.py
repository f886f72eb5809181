"""Asynchronous BluFi client over bleak (via :class:`~..gatt.GattLink`).

One request at a time; every wait is bounded; a failed request closes the link (the device's
sequence numbers and, with V2, its keystreams cannot be resynchronised within a connection).
Logs name frame types and lengths only, never a payload.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass
import logging
import string
import time
from types import TracebackType
from typing import Self

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice

from ..errors import (
    InvalidInputError,
    MissingServiceError,
    ProvisioningConnectionError,
    ProvisioningError,
    ProvisioningTimeoutError,
)
from ..gatt import GattLink
from ..models import ProvisionOutcome
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
    MAX_MESSAGE_LEN,
    MAX_PASSWORD_LEN,
    MAX_SSID_LEN,
    NOTIFY_CHAR_UUID,
    SECRET_SUBTYPES,
    SERVICE_UUID,
    V2_MIN_VERSION,
    WRITE_CHAR_UUID,
    BlufiSecurity,
    ControlSubtype,
    DataSubtype,
    FrameControl,
    FrameType,
    OpMode,
    SecurityMode,
    SoftApAuthMode,
    StaConnState,
    WifiReason,
)
from .errors import (
    BlufiFrameError,
    BlufiSecurityError,
    BlufiTimeoutError,
    NotBlufiDeviceError,
    device_error,
)
from .models import (
    BlufiVersion,
    ProvisionResult,
    SoftApConfig,
    WifiNetwork,
    WifiStatus,
    outcome_for_reason,
    parse_bssid,
    parse_wifi_list,
)
from .security import BlufiSession, session_for

_LOGGER = logging.getLogger(__name__)

#: Security mode the official clients set after negotiation: data checksum + data encryption.
SEC_MODE_AFTER_NEGOTIATION = SecurityMode.DATA_CHECK | SecurityMode.DATA_ENC


@dataclass(slots=True)
class _Waiter:
    match: Callable[[Message], bool]
    future: asyncio.Future[Message]


def _is(frame_type: FrameType, subtype: int) -> Callable[[Message], bool]:
    return lambda msg: msg.frame_type == frame_type and msg.subtype == subtype


def _is_ack(seq: int) -> Callable[[Message], bool]:
    return (
        lambda msg: msg.frame_type == FrameType.CTRL
        and msg.subtype == ControlSubtype.ACK
        and msg.payload[:1] == bytes((seq,))
    )


def _to_bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise InvalidInputError(f"{what} must be str or bytes")


def validate_ssid(ssid: str | bytes, what: str = "SSID") -> bytes:
    """Return the SSID bytes; 1-32 bytes."""
    raw = _to_bytes(ssid, what)
    if not 1 <= len(raw) <= MAX_SSID_LEN:
        raise InvalidInputError(f"{what} must be 1-{MAX_SSID_LEN} bytes, got {len(raw)}")
    return raw


def validate_password(password: str | bytes | None, what: str = "password") -> bytes:
    """Return the password bytes: empty (open), 8-63 characters, or 64 hex digits."""
    if password is None:
        return b""
    raw = _to_bytes(password, what)
    if not raw:
        return raw
    if len(raw) == MAX_PASSWORD_LEN:
        if all(chr(b) in string.hexdigits for b in raw):
            return raw
        raise InvalidInputError(f"a 64-character {what} must be hexadecimal")
    if not 8 <= len(raw) < MAX_PASSWORD_LEN:
        raise InvalidInputError(f"{what} must be 8-63 bytes or 64 hex digits (length is wrong)")
    return raw


def validate_bssid(bssid: str | bytes) -> bytes:
    """Return 6 BSSID bytes from ``aa:bb:cc:dd:ee:ff`` or raw bytes."""
    try:
        return parse_bssid(bssid)
    except (ValueError, TypeError, AttributeError):
        raise InvalidInputError("BSSID must be 6 bytes or aa:bb:cc:dd:ee:ff") from None


def _validate_softap(config: SoftApConfig) -> list[tuple[DataSubtype, bytes]]:
    fields: list[tuple[DataSubtype, bytes]] = []
    if config.ssid is not None:
        fields.append((DataSubtype.SOFTAP_SSID, validate_ssid(config.ssid, "SoftAP SSID")))
    if config.password is not None:
        password = validate_password(config.password, "SoftAP password")
        if password:
            fields.append((DataSubtype.SOFTAP_PASSWD, password))
    if config.channel is not None:
        if isinstance(config.channel, bool) or not 1 <= int(config.channel) <= 14:
            raise InvalidInputError("SoftAP channel must be 1-14")
        fields.append((DataSubtype.SOFTAP_CHANNEL, bytes((config.channel,))))
    if config.max_connections is not None:
        if isinstance(config.max_connections, bool) or not 1 <= int(config.max_connections) <= 10:
            raise InvalidInputError("SoftAP max connections must be 1-10")
        fields.append((DataSubtype.SOFTAP_MAX_CONN_NUM, bytes((config.max_connections,))))
    if config.auth_mode is not None:
        try:
            mode = SoftApAuthMode(config.auth_mode)
        except ValueError:
            raise InvalidInputError("unknown SoftAP auth mode") from None
        fields.append((DataSubtype.SOFTAP_AUTH_MODE, bytes((mode,))))
    return fields


class AsyncBlufiClient:
    """Async BluFi client for one device."""

    def __init__(
        self,
        ble_device: BLEDevice,
        *,
        ble_device_callback: Callable[[], BLEDevice] | None = None,
        backend: type[BaseBleakClient] | None = None,
        slots: ConnectionSlots | None = None,
        timeout: float = 10.0,
        ack_timeout: float = 5.0,
        service_uuid: str = SERVICE_UUID,
        write_uuid: str = WRITE_CHAR_UUID,
        notify_uuid: str = NOTIFY_CHAR_UUID,
    ) -> None:
        """Describe the client; nothing happens on the radio until :meth:`connect`.

        The UUIDs default to the BluFi profile (0xFFFF / 0xFF01 / 0xFF02).
        """
        self._timeout = timeout
        self._ack_timeout = ack_timeout
        self._write_uuid = write_uuid
        self._notify_uuid = notify_uuid
        self._notifying = False
        self._link = GattLink(
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
        self._reassembler = Reassembler()
        self._cipher: FrameCipher | None = None
        self._security = BlufiSecurity.NONE
        self.version: BlufiVersion | None = None
        self._waiters: list[_Waiter] = []
        self._pending_error: ProvisioningError | None = None
        self._custom_data: deque[bytes] = deque()
        self._custom_callbacks: list[Callable[[bytes], None]] = []
        self._status_callbacks: list[Callable[[WifiStatus], None]] = []
        self._op_lock = asyncio.Lock()
        self._lost_event = asyncio.Event()
        self._session_factory: Callable[[BlufiSecurity], BlufiSession] = session_for
        #: Number of ATT writes made on the current connection (diagnostics / benchmarks).
        self.writes = 0

    # ------------------------------------------------------------------ connection

    @property
    def name(self) -> str:
        """Device name or address (for logs)."""
        return self._link.name

    @property
    def is_connected(self) -> bool:
        """Whether the BLE link is up."""
        return self._link.is_connected

    @property
    def mtu(self) -> int:
        """Negotiated ATT MTU (23 if unknown)."""
        return self._link.mtu

    @property
    def security(self) -> BlufiSecurity:
        """Security of the current session."""
        return self._security

    async def __aenter__(self) -> Self:
        """Connect."""
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Disconnect."""
        await self.disconnect()

    async def connect(self) -> None:
        """Connect, check the BluFi service and subscribe to FF02; sequence numbers restart."""
        if self.is_connected:
            return
        self._reset_session()
        try:
            await self._link.connect()
        except MissingServiceError as err:
            raise NotBlufiDeviceError(str(err)) from err
        self._lost_event.clear()
        try:
            await self.set_notify(enabled=True)
        except BaseException:
            await self._link.disconnect()
            raise

    async def set_notify(self, *, enabled: bool) -> None:
        """Subscribe to (or unsubscribe from) FF02; :meth:`connect` subscribes."""
        if enabled == self._notifying:
            return
        if enabled:
            await self._link.start_notify(self._notify_uuid, self._on_notify)
        else:
            await self._link.stop_notify(self._notify_uuid)
        self._notifying = enabled

    async def disconnect(self) -> None:
        """Close the link (never raises)."""
        await self._link.disconnect()
        self._fail_waiters(ProvisioningConnectionError(f"{self.name}: disconnected"))
        self._reset_session()

    def _reset_session(self) -> None:
        self._tx_seq.reset()
        self._rx_seq.reset()
        self._reassembler.reset()
        self._cipher = None
        self._security = BlufiSecurity.NONE
        self._pending_error = None
        self._custom_data.clear()
        self._notifying = False
        self.writes = 0

    def _on_link_lost(self) -> None:
        self._lost_event.set()
        self._fail_waiters(ProvisioningConnectionError(f"{self.name}: connection lost"))

    # ------------------------------------------------------------------ callbacks

    def register_custom_data_callback(self, cb: Callable[[bytes], None]) -> Callable[[], None]:
        """Call ``cb`` with every custom-data message; returns an unregister function."""
        self._custom_callbacks.append(cb)
        return lambda: self._custom_callbacks.remove(cb) if cb in self._custom_callbacks else None

    def register_status_callback(self, cb: Callable[[WifiStatus], None]) -> Callable[[], None]:
        """Call ``cb`` with every Wi-Fi report (solicited or not); returns an unregisterer."""
        self._status_callbacks.append(cb)
        return lambda: self._status_callbacks.remove(cb) if cb in self._status_callbacks else None

    # ------------------------------------------------------------------ receive path

    def _on_notify(self, raw: bytes) -> None:
        try:
            message = self._receive(raw)
        except ProvisioningError as err:
            _LOGGER.debug("%s: bad notification (%d bytes): %s", self.name, len(raw), err)
            self._reassembler.reset()
            self._fail_waiters(err)
            return
        if message is not None:
            self._dispatch(message)

    def _receive(self, raw: bytes) -> Message | None:
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
        return self._reassembler.feed(frame)

    def _dispatch(self, message: Message) -> None:
        if message.frame_type == FrameType.DATA:
            if message.subtype == DataSubtype.ERROR_INFO:
                code = message.payload[0] if message.payload else 0xFF
                err = device_error(code)
                _LOGGER.debug("%s: device error %s", self.name, err)
                self._fail_waiters(err)
                return
            if message.subtype == DataSubtype.WIFI_REP:
                try:
                    status = WifiStatus.parse(message.payload)
                except BlufiFrameError as perr:
                    self._fail_waiters(perr)
                    return
                for cb in list(self._status_callbacks):
                    cb(status)
            elif message.subtype == DataSubtype.CUSTOM_DATA:
                for cb_custom in list(self._custom_callbacks):
                    cb_custom(message.payload)
                if not self._deliver(message):
                    self._custom_data.append(message.payload)
                return
        if not self._deliver(message):
            _LOGGER.debug("%s: unsolicited %s ignored", self.name, message.name)

    def _deliver(self, message: Message) -> bool:
        for waiter in list(self._waiters):
            if not waiter.future.done() and waiter.match(message):
                waiter.future.set_result(message)
                self._waiters.remove(waiter)
                return True
        return False

    def _fail_waiters(self, err: ProvisioningError) -> None:
        waiters, self._waiters = self._waiters, []
        delivered = False
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(err)
                delivered = True
        if not delivered and self._pending_error is None and self.is_connected:
            self._pending_error = err

    def _expect(self, match: Callable[[Message], bool]) -> _Waiter:
        waiter = _Waiter(match, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        return waiter

    def _drop(self, waiter: _Waiter) -> None:
        """Forget a waiter nobody will await (its request was not sent).

        The link may have dropped first: ``_fail_waiters`` then already set the error on its
        future, which is marked retrieved here (no "exception was never retrieved").
        """
        if waiter in self._waiters:
            self._waiters.remove(waiter)
        if not waiter.future.done():
            waiter.future.cancel()
        elif not waiter.future.cancelled():
            waiter.future.exception()

    async def _wait(self, waiter: _Waiter, timeout: float, what: str) -> Message:
        try:
            return await self._link.wait(waiter.future, timeout, what)
        except BlufiTimeoutError:
            raise
        except ProvisioningTimeoutError as err:
            raise BlufiTimeoutError(str(err)) from err
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            if not waiter.future.done():
                waiter.future.cancel()
            elif not waiter.future.cancelled():
                waiter.future.exception()  # mark retrieved

    def _raise_pending(self) -> None:
        err, self._pending_error = self._pending_error, None
        if err is not None:
            raise err

    # ------------------------------------------------------------------ send path

    async def _send(
        self,
        frame_type: FrameType,
        subtype: int,
        payload: bytes = b"",
        *,
        encrypt: bool | None = None,
        checksum: bool | None = None,
        ack: bool = False,
    ) -> None:
        """Send one message, fragmented to the MTU; with ``ack`` wait for each fragment's ACK."""
        self._raise_pending()
        if not self.is_connected:
            raise ProvisioningConnectionError(f"{self.name}: not connected")
        secured = self._security != BlufiSecurity.NONE and self._cipher is not None
        if checksum is None:
            checksum = secured
        if encrypt is None:
            encrypt = secured
        limit = max_data_len(self.mtu, checksum=checksum)
        secret = frame_type == FrameType.DATA and subtype in SECRET_SUBTYPES
        name = subtype_name(frame_type, subtype)
        for more, chunk in fragment(payload, limit):
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
            waiter = self._expect(_is_ack(seq)) if ack else None
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
                await self._link.write(self._write_uuid, raw, response=True)
            except BaseException:
                if waiter is not None:
                    self._drop(waiter)
                raise
            self.writes += 1
            if waiter is not None:
                await self._wait(waiter, self._ack_timeout, f"ACK of {name} seq {seq}")

    async def _request(
        self,
        frame_type: FrameType,
        subtype: int,
        reply: Callable[[Message], bool],
        what: str,
        payload: bytes = b"",
        timeout: float | None = None,
    ) -> Message:
        waiter = self._expect(reply)
        try:
            await self._send(frame_type, subtype, payload)
        except BaseException:
            self._drop(waiter)
            raise
        return await self._wait(waiter, self._timeout if timeout is None else timeout, what)

    @contextlib.asynccontextmanager
    async def _operation(self) -> AsyncIterator[None]:
        """Serialise requests; on failure close the link (the session cannot be resynced)."""
        async with self._op_lock:
            try:
                self._raise_pending()
                yield
            except InvalidInputError:
                raise
            except (ProvisioningError, asyncio.CancelledError):
                await self.disconnect()
                raise

    # ------------------------------------------------------------------ public requests

    async def get_version(self) -> BlufiVersion:
        """Ask the device for its BluFi version (GET_VERSION → REPLY_VERSION)."""
        async with self._operation():
            return await self._get_version()

    async def _get_version(self) -> BlufiVersion:
        msg = await self._request(
            FrameType.CTRL,
            ControlSubtype.GET_VERSION,
            _is(FrameType.DATA, DataSubtype.REPLY_VERSION),
            "version",
        )
        self.version = BlufiVersion.parse(msg.payload)
        return self.version

    async def negotiate_security(self, security: BlufiSecurity | None = None) -> BlufiSecurity:
        """Run the DH negotiation; ``None`` picks V2 for BluFi ≥ 1.4, else V1."""
        async with self._operation():
            return await self._negotiate(security)

    async def _negotiate(self, security: BlufiSecurity | None) -> BlufiSecurity:
        if security is None:
            version = self.version or await self._get_version()
            security = BlufiSecurity.V2 if version.as_tuple >= V2_MIN_VERSION else BlufiSecurity.V1
        if security == BlufiSecurity.NONE:
            return self._security
        loop = asyncio.get_running_loop()
        session = await loop.run_in_executor(None, self._session_factory, security)
        len_packet, data_packet = session.neg_packets()
        waiter = self._expect(_is(FrameType.DATA, DataSubtype.NEG))
        try:
            await self._send(
                FrameType.DATA, DataSubtype.NEG, len_packet, encrypt=False, checksum=False
            )
            await self._send(
                FrameType.DATA, DataSubtype.NEG, data_packet, encrypt=False, checksum=False
            )
        except BaseException:
            self._drop(waiter)
            raise
        # A V2 device without hardware MPI needs seconds of DH: allow twice the timeout.
        msg = await self._wait(waiter, self._timeout * 2, "device public key")
        try:
            cipher = await loop.run_in_executor(None, session.derive, msg.payload)
        except ProvisioningError:
            raise
        except Exception as err:  # pragma: no cover - defensive
            raise BlufiSecurityError("key derivation failed") from err
        self._cipher = cipher
        self._security = session.security
        await self._send(
            FrameType.CTRL,
            ControlSubtype.SET_SEC_MODE,
            bytes((SEC_MODE_AFTER_NEGOTIATION,)),
            encrypt=False,
            checksum=True,
        )
        _LOGGER.debug("%s: security %s negotiated", self.name, session.security.name)
        return session.security

    async def get_wifi_status(self) -> WifiStatus:
        """Ask for the Wi-Fi report (GET_WIFI_STATUS → WIFI_REP)."""
        async with self._operation():
            return await self._get_status(self._timeout)

    async def _get_status(self, timeout: float) -> WifiStatus:
        msg = await self._request(
            FrameType.CTRL,
            ControlSubtype.GET_WIFI_STATUS,
            _is(FrameType.DATA, DataSubtype.WIFI_REP),
            "Wi-Fi status",
            timeout=timeout,
        )
        return WifiStatus.parse(msg.payload)

    async def scan_wifi(self, timeout: float = 15.0) -> list[WifiNetwork]:
        """Ask the device to scan (GET_WIFI_LIST).

        The ESP-IDF example sends nothing when it finds no access point, so silence until
        ``timeout`` returns ``[]``. Error 0x0B raises :class:`BlufiWifiScanError`.
        """
        async with self._operation():
            waiter = self._expect(_is(FrameType.DATA, DataSubtype.WIFI_LIST))
            try:
                await self._send(FrameType.CTRL, ControlSubtype.GET_WIFI_LIST)
            except BaseException:
                self._drop(waiter)
                raise
            try:
                msg = await self._wait(waiter, timeout, "Wi-Fi list")
            except BlufiTimeoutError:
                _LOGGER.debug("%s: no Wi-Fi list within %g s: empty scan", self.name, timeout)
                return []
            return parse_wifi_list(msg.payload)

    async def set_opmode(self, mode: OpMode | int) -> None:
        """Set the Wi-Fi mode (with ACK request, waits for the ACK)."""
        mode = self._check_opmode(mode)
        async with self._operation():
            await self._send(
                FrameType.CTRL, ControlSubtype.SET_WIFI_OPMODE, bytes((mode,)), ack=True
            )

    @staticmethod
    def _check_opmode(mode: OpMode | int) -> OpMode:
        try:
            return OpMode(mode)
        except ValueError:
            raise InvalidInputError(f"unknown opmode {mode!r}") from None

    async def set_sta_config(
        self,
        ssid: str | bytes,
        password: str | bytes | None = None,
        bssid: str | bytes | None = None,
    ) -> None:
        """Send STA BSSID (optional), SSID and password (empty for an open network)."""
        fields = self._sta_fields(ssid, password, bssid)
        async with self._operation():
            for subtype, value in fields:
                await self._send(FrameType.DATA, subtype, value)

    @staticmethod
    def _sta_fields(
        ssid: str | bytes, password: str | bytes | None, bssid: str | bytes | None
    ) -> list[tuple[DataSubtype, bytes]]:
        fields: list[tuple[DataSubtype, bytes]] = []
        if bssid is not None:
            fields.append((DataSubtype.STA_BSSID, validate_bssid(bssid)))
        fields.append((DataSubtype.STA_SSID, validate_ssid(ssid)))
        fields.append((DataSubtype.STA_PASSWD, validate_password(password)))
        return fields

    async def connect_ap(self) -> None:
        """CONN_TO_AP: "credentials sent, connect now" (sent plain, as the official clients)."""
        async with self._operation():
            await self._send(
                FrameType.CTRL, ControlSubtype.CONN_TO_AP, encrypt=False, checksum=False
            )

    async def disconnect_ap(self) -> None:
        """DISCONN_FROM_AP."""
        async with self._operation():
            await self._send(FrameType.CTRL, ControlSubtype.DISCONN_FROM_AP)

    async def set_softap_config(self, config: SoftApConfig) -> None:
        """Send the SoftAP fields that are set (SSID, password, channel, max conn, auth)."""
        fields = _validate_softap(config)
        async with self._operation():
            for subtype, value in fields:
                await self._send(FrameType.DATA, subtype, value)

    async def send_enterprise(
        self,
        *,
        username: str | bytes | None = None,
        ca_cert: bytes | None = None,
        client_cert: bytes | None = None,
        server_cert: bytes | None = None,
        client_private_key: bytes | None = None,
        server_private_key: bytes | None = None,
    ) -> None:
        """Send WPA-Enterprise fields (send-only; the stock example ignores them)."""
        fields: list[tuple[DataSubtype, bytes]] = []
        for subtype, value in (
            (DataSubtype.USERNAME, username),
            (DataSubtype.CA_CERT, ca_cert),
            (DataSubtype.CLIENT_CERT, client_cert),
            (DataSubtype.SERVER_CERT, server_cert),
            (DataSubtype.CLIENT_PRIV_KEY, client_private_key),
            (DataSubtype.SERVER_PRIV_KEY, server_private_key),
        ):
            if value is None:
                continue
            raw = _to_bytes(value, subtype.name.lower())
            if len(raw) > MAX_MESSAGE_LEN:
                raise InvalidInputError(f"{subtype.name} longer than {MAX_MESSAGE_LEN} bytes")
            fields.append((subtype, raw))
        async with self._operation():
            for subtype, raw in fields:
                await self._send(FrameType.DATA, subtype, raw)

    async def send_custom_data(self, data: bytes) -> None:
        """Send custom data (≤ 65 535 bytes, fragmented)."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError("custom data must be bytes")
        data = bytes(data)
        if len(data) > MAX_MESSAGE_LEN:
            raise InvalidInputError(f"custom data longer than {MAX_MESSAGE_LEN} bytes")
        async with self._operation():
            await self._send(FrameType.DATA, DataSubtype.CUSTOM_DATA, data)

    async def wait_custom_data(self, timeout: float) -> bytes:
        """Return the next custom-data message from the device (queued ones first)."""
        async with self._operation():
            if self._custom_data:
                return self._custom_data.popleft()
            if not self.is_connected:
                raise ProvisioningConnectionError(f"{self.name}: not connected")
            waiter = self._expect(_is(FrameType.DATA, DataSubtype.CUSTOM_DATA))
            msg = await self._wait(waiter, timeout, "custom data")
            return msg.payload

    async def disconnect_ble(self) -> None:
        """Ask the device to drop the link (CTRL 0x08) and wait, bounded, until it does."""
        async with self._op_lock:
            try:
                if self.is_connected:
                    await self._send(
                        FrameType.CTRL,
                        ControlSubtype.DISCONNECT_BLE,
                        encrypt=False,
                        checksum=False,
                    )
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._timeout):
                            await self._lost_event.wait()
            except ProvisioningConnectionError:
                pass  # the link went down while writing: that is what was asked for
            finally:
                await self.disconnect()

    # ------------------------------------------------------------------ provisioning

    async def provision(
        self,
        ssid: str | bytes | None,
        password: str | bytes | None = None,
        *,
        bssid: str | bytes | None = None,
        mode: OpMode = OpMode.STA,
        softap: SoftApConfig | None = None,
        require_security: bool = True,
        timeout: float = 30.0,
        poll_interval: float = 1.0,
    ) -> ProvisionResult:
        """Provision Wi-Fi and return what the device really did.

        version → negotiate → opmode (ACK) → [BSSID] → SSID → password → [SoftAP fields] →
        CONN_TO_AP → wait for the unsolicited success report, polling GET_WIFI_STATUS every
        ``poll_interval`` (failures are only reported when polled). Connects first (and
        disconnects afterwards) when not connected.
        """
        mode = self._check_opmode(mode)
        sta = mode in (OpMode.STA, OpMode.SOFTAP_STA)
        sta_fields: list[tuple[DataSubtype, bytes]] = []
        if sta:
            if ssid is None:
                raise InvalidInputError("SSID required in STA mode")
            sta_fields = self._sta_fields(ssid, password, bssid)
        ap_fields = _validate_softap(softap) if softap is not None else []
        if mode == OpMode.SOFTAP and softap is None:
            raise InvalidInputError("SoftAP mode needs a SoftAPConfig")
        if timeout <= 0 or poll_interval <= 0:
            raise InvalidInputError("timeout and poll_interval must be positive")
        opened = not self.is_connected
        if opened:
            await self.connect()
        try:
            return await self._provision(
                mode, sta_fields, ap_fields, require_security, timeout, poll_interval
            )
        finally:
            if opened:
                await self.disconnect()

    async def _provision(
        self,
        mode: OpMode,
        sta_fields: list[tuple[DataSubtype, bytes]],
        ap_fields: list[tuple[DataSubtype, bytes]],
        require_security: bool,
        timeout: float,
        poll_interval: float,
    ) -> ProvisionResult:
        reports: asyncio.Queue[WifiStatus] = asyncio.Queue()
        unregister = self.register_status_callback(reports.put_nowait)
        try:
            async with self._operation():
                await self._get_version()
                if self._security == BlufiSecurity.NONE:
                    try:
                        await self._negotiate(None)
                    except ProvisioningConnectionError:
                        raise
                    except ProvisioningError as err:
                        if require_security:
                            raise BlufiSecurityError(
                                f"security negotiation failed ({err}); credentials not sent"
                            ) from err
                        _LOGGER.warning("%s: negotiation failed, sending in plaintext", self.name)
                        if not self.is_connected:
                            raise
                await self._send(
                    FrameType.CTRL, ControlSubtype.SET_WIFI_OPMODE, bytes((mode,)), ack=True
                )
                for subtype, value in (*sta_fields, *ap_fields):
                    await self._send(FrameType.DATA, subtype, value)
                while not reports.empty():
                    reports.get_nowait()  # reports from before CONN_TO_AP are stale
                if mode == OpMode.SOFTAP:
                    status = await self._get_status(self._timeout)
                    return ProvisionResult(ProvisionOutcome.SOFTAP_STARTED, status=status)
                await self._send(
                    FrameType.CTRL, ControlSubtype.CONN_TO_AP, encrypt=False, checksum=False
                )
                return await self._await_outcome(reports, timeout, poll_interval)
        finally:
            unregister()

    async def _await_outcome(
        self, reports: asyncio.Queue[WifiStatus], timeout: float, poll_interval: float
    ) -> ProvisionResult:
        deadline = time.monotonic() + timeout
        last: WifiStatus | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            status: WifiStatus | None = None
            self._raise_pending()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(poll_interval, remaining)):
                    status = await reports.get()
            self._raise_pending()
            if status is None:
                if not self.is_connected:
                    raise ProvisioningConnectionError(f"{self.name}: connection lost")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                status = await self._get_status(min(self._timeout, max(remaining, 0.5)))
                while not reports.empty():  # the reply also went through the callback
                    reports.get_nowait()
            last = status
            result = self._result_for(status)
            if result is not None:
                return result
        return ProvisionResult(
            ProvisionOutcome.TIMEOUT,
            ssid=last.ssid if last else None,
            end_reason=last.end_reason if last else None,
            status=last,
        )

    @staticmethod
    def _result_for(status: WifiStatus) -> ProvisionResult | None:
        if status.sta_state == StaConnState.CONNECTED:
            return ProvisionResult(
                ProvisionOutcome.CONNECTED,
                ssid=status.ssid,
                bssid=status.bssid,
                rssi=status.rssi,
                end_reason=None,
                status=status,
            )
        if status.sta_state == StaConnState.FAIL:
            reason = status.end_reason
            return ProvisionResult(
                outcome_for_reason(reason),
                ssid=status.ssid,
                bssid=status.bssid,
                rssi=None if status.rssi in (None, -128) else status.rssi,
                end_reason=reason if reason is not None else WifiReason.NONE,
                status=status,
            )
        return None  # connecting, or connected without IP yet: keep waiting
