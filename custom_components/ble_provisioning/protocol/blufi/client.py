"""Asynchronous BluFi client: the requests of the protocol and provisioning.

One request at a time; every wait is bounded; a failed request closes the link (the device's
sequence numbers and, with V2, its keystreams cannot be resynchronised within a connection).
The transport is :class:`~.link.BlufiLink`, the security negotiation
:class:`~.negotiation.Negotiator`, what happens after CONN_TO_AP :mod:`.outcome`, and the
checks of caller input :mod:`.fields`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import logging
from types import TracebackType
from typing import Self

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice

from ..errors import InvalidInputError, ProvisioningConnectionError, ProvisioningError
from ..models import ProvisionOutcome
from ..slots import ConnectionSlots
from .codec import Message
from .const import (
    NOTIFY_CHAR_UUID,
    SERVICE_UUID,
    WRITE_CHAR_UUID,
    BlufiSecurity,
    ControlSubtype,
    DataSubtype,
    FrameType,
    OpMode,
)
from .errors import BlufiDeviceSecurityError, BlufiSecurityError, BlufiTimeoutError
from .fields import Field, blob, check_opmode, softap_fields, sta_fields
from .link import BlufiLink, Inbox, is_message
from .models import (
    BlufiVersion,
    ProvisionResult,
    SoftApConfig,
    WifiNetwork,
    WifiStatus,
    parse_wifi_list,
)
from .negotiation import GROUP_REFUSED, Negotiator, SessionFactory, security_for_version
from .outcome import MAX_POLL_INTERVAL, POLL_INTERVAL, OutcomeTracker, await_outcome

_LOGGER = logging.getLogger(__name__)

CUSTOM_DATA_QUEUE = 16
"""Custom-data messages kept while nobody waits for one (the oldest are dropped)."""


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
        version: BlufiVersion | str | None = None,
    ) -> None:
        """Describe the client; nothing happens on the radio until :meth:`connect`.

        The UUIDs default to the BluFi profile (0xFFFF / 0xFF01 / 0xFF02). ``version`` is the
        device's BluFi version when already known ("1.4"): it is then not asked again, and the
        client's DH key pair is made while connecting.
        """
        self._link = BlufiLink(
            ble_device,
            service_uuid=service_uuid,
            write_uuid=write_uuid,
            notify_uuid=notify_uuid,
            ble_device_callback=ble_device_callback,
            backend=backend,
            slots=slots,
            timeout=timeout,
            ack_timeout=ack_timeout,
        )
        self._negotiator = Negotiator(self._link)
        self.version: BlufiVersion | None = (
            BlufiVersion.from_text(version) if isinstance(version, str) else version
        )
        self._version_read = False  # asked on this connection (not given by the caller)
        self._op_lock = asyncio.Lock()
        self._custom_inbox: Inbox | None = None
        self._custom_callbacks: list[Callable[[bytes], None]] = []
        self._status_callbacks: list[Callable[[WifiStatus], None]] = []
        self._link.add_listener(self._on_message)

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
        """ATT MTU as the stack offers it (23 if unknown)."""
        return self._link.mtu

    @property
    def security(self) -> BlufiSecurity:
        """Security of the current session."""
        return self._link.security

    @property
    def writes(self) -> int:
        """ATT writes made on the current connection (diagnostics, benchmarks)."""
        return self._link.writes

    @property
    def frame_limit(self) -> int | None:
        """Largest frame written, in bytes; None: one ATT write (the MTU decides)."""
        return self._link.frame_limit

    @frame_limit.setter
    def frame_limit(self, value: int | None) -> None:
        if value is not None and value < 8:
            raise InvalidInputError("frame limit must be at least 8 bytes", field="frame_limit")
        self._link.frame_limit = value

    @property
    def session_factory(self) -> SessionFactory:
        """Makes the client's DH session for a group (tests replace it)."""
        return self._negotiator.factory

    @session_factory.setter
    def session_factory(self, factory: SessionFactory) -> None:
        self._negotiator.discard()
        self._negotiator.factory = factory

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
        """Connect, check the BluFi service and subscribe; sequence numbers restart.

        With a known version the DH key pair is made meanwhile (in an executor).
        """
        if self.is_connected:
            return
        self._version_read = False
        if self.version is not None:
            self._negotiator.prepare(security_for_version(self.version))
        try:
            await self._link.connect()
        except BaseException:
            self._negotiator.discard()
            raise
        self._custom_inbox = self._link.open_inbox(
            is_message(FrameType.DATA, DataSubtype.CUSTOM_DATA), CUSTOM_DATA_QUEUE
        )

    async def set_notify(self, *, enabled: bool) -> None:
        """Subscribe to (or unsubscribe from) FF02; :meth:`connect` subscribes."""
        await self._link.set_notify(enabled=enabled)

    async def disconnect(self) -> None:
        """Close the link (never raises)."""
        await self._link.disconnect()
        self._negotiator.discard()
        if self._custom_inbox is not None:
            self._link.close_inbox(self._custom_inbox)
            self._custom_inbox = None

    # ------------------------------------------------------------------ callbacks

    def register_custom_data_callback(self, cb: Callable[[bytes], None]) -> Callable[[], None]:
        """Call ``cb`` with every custom-data message; returns an unregister function."""
        self._custom_callbacks.append(cb)
        return lambda: self._custom_callbacks.remove(cb) if cb in self._custom_callbacks else None

    def register_status_callback(self, cb: Callable[[WifiStatus], None]) -> Callable[[], None]:
        """Call ``cb`` with every Wi-Fi report (solicited or not); returns an unregisterer."""
        self._status_callbacks.append(cb)
        return lambda: self._status_callbacks.remove(cb) if cb in self._status_callbacks else None

    def _on_message(self, message: Message) -> None:
        if message.frame_type != FrameType.DATA:
            return
        if message.subtype == DataSubtype.WIFI_REP and self._status_callbacks:
            status = WifiStatus.parse(message.payload)  # a malformed report fails the waiters
            for status_cb in list(self._status_callbacks):
                status_cb(status)
        elif message.subtype == DataSubtype.CUSTOM_DATA:
            for custom_cb in list(self._custom_callbacks):
                custom_cb(message.payload)

    # ------------------------------------------------------------------ plumbing

    @contextlib.asynccontextmanager
    async def _operation(self) -> AsyncIterator[None]:
        """Serialise requests; on failure close the link (the session cannot be resynced).

        Caller input is checked before an operation starts, so a failure here is the link's.
        """
        async with self._op_lock:
            try:
                self._link.raise_pending()
                yield
            except (ProvisioningError, asyncio.CancelledError):
                await self.disconnect()
                raise

    async def _send_fields(self, fields: list[Field]) -> None:
        for subtype, value in fields:
            await self._link.send(FrameType.DATA, subtype, value)

    # ------------------------------------------------------------------ requests

    async def get_version(self) -> BlufiVersion:
        """Ask the device for its BluFi version (GET_VERSION → REPLY_VERSION)."""
        async with self._operation():
            return await self._get_version()

    async def _get_version(self) -> BlufiVersion:
        msg = await self._link.request(
            FrameType.CTRL,
            ControlSubtype.GET_VERSION,
            is_message(FrameType.DATA, DataSubtype.REPLY_VERSION),
            "version",
        )
        self.version = BlufiVersion.parse(msg.payload)
        self._version_read = True
        if self._link.security == BlufiSecurity.NONE:
            self._negotiator.prepare(security_for_version(self.version))
        return self.version

    async def negotiate_security(self, security: BlufiSecurity | None = None) -> BlufiSecurity:
        """Run the DH negotiation; ``None`` picks V2 for BluFi ≥ 1.4, else V1."""
        async with self._operation():
            return await self._negotiate(security)

    async def _negotiate(self, security: BlufiSecurity | None) -> BlufiSecurity:
        if security is not None:
            return await self._negotiator.negotiate(security)
        security = security_for_version(self.version or await self._get_version())
        try:
            return await self._negotiator.negotiate(security)
        except BlufiDeviceSecurityError as err:
            # A version given by the caller may be stale (firmware updated since): ask.
            if self._version_read or err.code not in GROUP_REFUSED:
                raise
            current = security_for_version(await self._get_version())
            if current == security:
                raise
            _LOGGER.debug("%s: BluFi version is now %s", self.name, self.version)
            return await self._negotiator.negotiate(current)

    async def get_wifi_status(self) -> WifiStatus:
        """Ask for the Wi-Fi report (GET_WIFI_STATUS → WIFI_REP)."""
        async with self._operation():
            return await self._get_status()

    async def _get_status(self) -> WifiStatus:
        msg = await self._link.request(
            FrameType.CTRL,
            ControlSubtype.GET_WIFI_STATUS,
            is_message(FrameType.DATA, DataSubtype.WIFI_REP),
            "Wi-Fi status",
        )
        return WifiStatus.parse(msg.payload)

    async def scan_wifi(self, timeout: float = 15.0) -> list[WifiNetwork]:
        """Ask the device to scan (GET_WIFI_LIST).

        The ESP-IDF example sends nothing when it finds no access point, so silence until
        ``timeout`` returns ``[]``. Error 0x0B raises :class:`BlufiWifiScanError`.
        """
        async with self._operation():
            try:
                msg = await self._link.request(
                    FrameType.CTRL,
                    ControlSubtype.GET_WIFI_LIST,
                    is_message(FrameType.DATA, DataSubtype.WIFI_LIST),
                    "Wi-Fi list",
                    timeout=timeout,
                )
            except BlufiTimeoutError:
                _LOGGER.debug("%s: no Wi-Fi list within %g s: empty scan", self.name, timeout)
                return []
            return parse_wifi_list(msg.payload)

    async def set_opmode(self, mode: OpMode | int, *, ack: bool = False) -> None:
        """Set the Wi-Fi mode; with ``ack`` ask for the device's ACK and wait for it.

        Without ``ack`` the GATT write response is the confirmation (the device reports a
        frame it could not use with an error report, raised by the next request).
        """
        mode = check_opmode(mode)
        async with self._operation():
            await self._link.send(
                FrameType.CTRL, ControlSubtype.SET_WIFI_OPMODE, bytes((mode,)), ack=ack
            )

    async def set_sta_config(
        self,
        ssid: str | bytes,
        password: str | bytes | None = None,
        bssid: str | bytes | None = None,
    ) -> None:
        """Send STA BSSID (optional), SSID and the password (none for an open network)."""
        fields = sta_fields(ssid, password, bssid)
        async with self._operation():
            await self._send_fields(fields)

    async def connect_ap(self) -> None:
        """CONN_TO_AP: "credentials sent, connect now" (sent plain, as the official clients)."""
        async with self._operation():
            await self._link.send(
                FrameType.CTRL, ControlSubtype.CONN_TO_AP, encrypt=False, checksum=False
            )

    async def disconnect_ap(self) -> None:
        """DISCONN_FROM_AP."""
        async with self._operation():
            await self._link.send(FrameType.CTRL, ControlSubtype.DISCONN_FROM_AP)

    async def set_softap_config(self, config: SoftApConfig) -> None:
        """Send the SoftAP fields that are set (SSID, password, channel, max conn, auth)."""
        fields = softap_fields(config)
        async with self._operation():
            await self._send_fields(fields)

    async def send_enterprise(
        self,
        *,
        username: str | bytes | None = None,
        ca_cert: str | bytes | None = None,
        client_cert: str | bytes | None = None,
        server_cert: str | bytes | None = None,
        client_private_key: str | bytes | None = None,
        server_private_key: str | bytes | None = None,
    ) -> None:
        """Send WPA-Enterprise fields (send-only; the stock example ignores them)."""
        fields = [
            (subtype, blob(value, subtype.name.lower(), text=True))
            for subtype, value in (
                (DataSubtype.USERNAME, username),
                (DataSubtype.CA_CERT, ca_cert),
                (DataSubtype.CLIENT_CERT, client_cert),
                (DataSubtype.SERVER_CERT, server_cert),
                (DataSubtype.CLIENT_PRIV_KEY, client_private_key),
                (DataSubtype.SERVER_PRIV_KEY, server_private_key),
            )
            if value is not None
        ]
        async with self._operation():
            await self._send_fields(fields)

    # ------------------------------------------------------------------ custom data

    async def send_custom_data(self, data: bytes) -> None:
        """Send custom data (≤ 65 535 bytes, fragmented)."""
        raw = blob(data, "custom_data")
        async with self._operation():
            await self._link.send(FrameType.DATA, DataSubtype.CUSTOM_DATA, raw)

    async def wait_custom_data(self, timeout: float) -> bytes:
        """Return the next custom-data message from the device (kept ones first).

        At most 16 messages are kept while nobody waits (the oldest are dropped).
        """
        async with self._operation():
            return await self._receive_custom(timeout)

    async def request_custom_data(self, data: bytes, timeout: float) -> bytes:
        """Send custom data and return the device's reply: never a message that came before."""
        raw = blob(data, "custom_data")
        async with self._operation():
            if self._custom_inbox is not None:
                self._custom_inbox.items.clear()
            await self._link.send(FrameType.DATA, DataSubtype.CUSTOM_DATA, raw)
            return await self._receive_custom(timeout)

    send_and_wait_custom_data = request_custom_data

    async def _receive_custom(self, timeout: float) -> bytes:
        if self._custom_inbox is None:
            raise ProvisioningConnectionError(f"{self.name}: not connected")
        message = await self._link.receive(self._custom_inbox, timeout, "custom data")
        return message.payload

    async def disconnect_ble(self) -> None:
        """Ask the device to drop the link (CTRL 0x08) and wait, bounded, until it does."""
        async with self._op_lock:
            try:
                if self.is_connected:
                    await self._link.send(
                        FrameType.CTRL,
                        ControlSubtype.DISCONNECT_BLE,
                        encrypt=False,
                        checksum=False,
                    )
                    await self._link.wait_lost(self._link.timeout)
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
        poll_interval: float = POLL_INTERVAL,
        max_poll_interval: float = MAX_POLL_INTERVAL,
    ) -> ProvisionResult:
        """Provision Wi-Fi and return what the device really did.

        [GET_VERSION, unless known] → negotiate → SET_OPMODE → [STA_BSSID] → STA_SSID →
        [STA_PASSWD, none for an open network] → [SoftAP fields] → CONN_TO_AP → the outcome
        (:mod:`.outcome`: the pushed success report, or GET_WIFI_STATUS polled with back-off
        from ``poll_interval`` up to ``max_poll_interval``). Connects first (and disconnects
        afterwards) when not connected.
        """
        mode = check_opmode(mode)
        sta = mode in (OpMode.STA, OpMode.SOFTAP_STA)
        sta_list: list[Field] = []
        if sta:
            if ssid is None:
                raise InvalidInputError("SSID required in STA mode", field="ssid")
            sta_list = sta_fields(ssid, password, bssid)
        if mode == OpMode.SOFTAP and softap is None:
            raise InvalidInputError("SoftAP mode needs a SoftApConfig", field="softap_ssid")
        ap_list = softap_fields(softap) if softap is not None else []
        if timeout <= 0 or poll_interval <= 0:
            raise InvalidInputError("timeout and poll_interval must be positive")
        opened = not self.is_connected
        if opened:
            await self.connect()
        try:
            async with self._operation():
                await self._secure(require_security=require_security)
                await self._link.send(
                    FrameType.CTRL, ControlSubtype.SET_WIFI_OPMODE, bytes((mode,))
                )
                await self._send_fields([*sta_list, *ap_list])
                if mode == OpMode.SOFTAP:
                    status = await self._get_status()
                    return ProvisionResult(ProvisionOutcome.SOFTAP_STARTED, status=status)
                return await self._join(sta_list, timeout, poll_interval, max_poll_interval)
        finally:
            if opened:
                await self.disconnect()

    async def _secure(self, *, require_security: bool) -> None:
        if self._link.security != BlufiSecurity.NONE:
            return
        if self.version is None:
            await self._get_version()  # not a negotiation failure: a silent device times out
        try:
            await self._negotiate(None)
        except ProvisioningConnectionError:
            raise
        except ProvisioningError as err:
            if require_security or not self.is_connected:
                raise BlufiSecurityError(
                    f"security negotiation failed ({err}); credentials not sent"
                ) from err
            _LOGGER.warning("%s: negotiation failed, sending in plaintext", self.name)
            # Frames of the failed negotiation may never have arrived (or arrive late).
            self._link.resync_rx()

    async def _join(
        self, sta_list: list[Field], timeout: float, poll_interval: float, max_poll: float
    ) -> ProvisionResult:
        values = dict(sta_list)
        tracker = OutcomeTracker(values[DataSubtype.STA_SSID], values.get(DataSubtype.STA_BSSID))
        reports = self._link.open_inbox(is_message(FrameType.DATA, DataSubtype.WIFI_REP), 64)
        try:
            await self._link.send(
                FrameType.CTRL, ControlSubtype.CONN_TO_AP, encrypt=False, checksum=False
            )
            return await await_outcome(
                self._link,
                reports,
                tracker,
                timeout=timeout,
                poll_interval=poll_interval,
                max_poll_interval=max_poll,
            )
        finally:
            self._link.close_inbox(reports)
