"""Async client for the Bluenet daemon (BLE Wi-Fi provisioning of Senic hubs and alike).

No Home Assistant imports: the client talks to the device through :class:`..gatt.GattLink`.
How a provisioning's outcome is decided is :mod:`.outcome`; the network list and the daemon's
timer chains are :mod:`.networks`.

Value sizes come from what the link really offers (:attr:`..gatt.GattLink.att_mtu`; bleak's
BlueZ backend reports an ATT MTU of 23 unless it was acquired, while each characteristic's
``max_write_without_response_size`` follows the MTU BlueZ negotiated): one write carries
``ATT_MTU - 3`` bytes (the daemon ignores write offsets, so a longer value is refused before
anything is sent), a notification ``ATT_MTU - 3`` and a read ``ATT_MTU - 1`` (BlueZ cuts the
daemon's values there; see :mod:`.codec`).
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
from bleak.exc import BleakError

from ..errors import InvalidInputError, ProvisioningError, ProvisioningTimeoutError
from ..gatt import GattLink
from ..limits import BLUENET_LIMITS
from ..models import ProvisionOutcome
from ..slots import ConnectionSlots
from .codec import (
    check_fits,
    decode_connection_state,
    decode_text,
    notification_capacity,
    read_value,
)
from .const import (
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    HOSTNAME_UUID,
    REQUIRED_CHARACTERISTICS,
    SERVICE_UUID,
    SSID_UUID,
    VERSION_UUID,
)
from .errors import (
    BluenetConnectionError,
    BluenetDecodeError,
    BluenetStillScanningError,
    InvalidCredentialsError,
    as_bluenet_error,
)
from .logs import MalformedLog
from .models import ConnectionState, DeviceInfo, ProvisionResult, ReadValue
from .networks import NetworkScanner, NetworkStreamGuard
from .outcome import OutcomeTracker, outcome_with_hostname

_LOGGER = logging.getLogger(__name__)

#: Default for how long state 2 (or an unverified 3) may last before it is an outcome.
DEFAULT_CONNECTING_TIMEOUT = 20.0

StateCallback = Callable[[ConnectionState], None]
HostnameCallback = Callable[[ReadValue], None]


class BluenetClient:
    """Talk to one Bluenet daemon.

    Use as ``async with BluenetClient(device) as client:``, or call :meth:`connect` and
    :meth:`disconnect`. Every public method raises only :class:`..errors.ProvisioningError`
    subclasses (mostly :class:`BluenetError` ones). When a method fails for any reason other than
    invalid input (raised before anything is sent) or a scan that found nothing, the connection
    is closed.

    ``network_guard`` keeps the daemon's network-list timing per *device*: pass the same one to
    every client of a device (as :class:`~..device_bluenet.BluenetDevice` does), so that a new
    client never subscribes while an earlier one's stream is still running in the daemon. Its
    :class:`~.networks.DaemonTimings` are the daemon's own timers (tests may pass faster ones).
    """

    def __init__(
        self,
        ble_device: BLEDevice,
        *,
        ble_device_callback: Callable[[], BLEDevice] | None = None,
        backend: type[BaseBleakClient] | None = None,
        slots: ConnectionSlots | None = None,
        timeout: float = 10.0,
        network_guard: NetworkStreamGuard | None = None,
    ) -> None:
        """Describe the device; nothing happens on the radio until :meth:`connect`."""
        self._timeout = timeout
        self._link = GattLink(
            ble_device,
            service_uuid=SERVICE_UUID,
            characteristics=REQUIRED_CHARACTERISTICS,
            ble_device_callback=ble_device_callback,
            backend=backend,
            slots=slots,
            timeout=timeout,
            on_disconnect=self._on_link_lost,
        )
        self._malformed = MalformedLog(_LOGGER, self._link.name)
        self._guard = network_guard if network_guard is not None else NetworkStreamGuard()
        self._networks = NetworkScanner(self._link, self._guard, self._malformed)
        self._state_callbacks: list[StateCallback] = []
        self._hostname_callbacks: list[HostnameCallback] = []
        self._state_listeners: list[Callable[[ConnectionState], None]] = []
        self._last_state: ConnectionState | None = None
        self._hostname: ReadValue | None = None

    # ------------------------------------------------------------------ connection

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

    @property
    def is_connected(self) -> bool:
        """Whether the BLE link is up."""
        return self._link.is_connected

    @property
    def mtu(self) -> int:
        """The ATT MTU as the link offers it (23 when unknown)."""
        return self._link.att_mtu

    @property
    def max_value_length(self) -> int:
        """Longest SSID or password (in bytes) one write carries on this link."""
        return self._link.max_value_length

    @property
    def last_state(self) -> ConnectionState | None:
        """Last connection state notified or read, if any."""
        return self._last_state

    async def connect(self) -> None:
        """Connect, check the Bluenet service, subscribe to state and host name notifications.

        Raises :class:`NotBluenetDeviceError` when the service or a characteristic is missing,
        :class:`BluenetConnectionError` / :class:`BluenetTimeoutError` otherwise.
        """
        if self.is_connected:
            return
        async with self._guarded("connect"):
            self._malformed.reset()
            await self._link.connect()
            self._guard.link_up(asyncio.get_running_loop().time())
            await self._link.start_notify(CONNECTION_STATE_UUID, self._on_state_notification)
            await self._link.start_notify(HOSTNAME_UUID, self._on_hostname_notification)

    async def disconnect(self) -> None:
        """Close the connection; never raises."""
        await self._link.disconnect()
        if self._networks.streaming:
            self._networks.link_lost()

    def _on_link_lost(self) -> None:
        _LOGGER.debug("%s: Bluenet link lost", self._link.name)
        # The daemon stops every notification on a remote disconnect.
        with contextlib.suppress(RuntimeError):  # no running loop: nothing was streaming
            self._networks.link_lost()

    @contextlib.asynccontextmanager
    async def _guarded(self, what: str) -> AsyncIterator[None]:
        """Translate errors into the Bluenet family and close the link on failure."""
        try:
            yield
        except InvalidInputError:
            raise
        except asyncio.CancelledError:
            await self.disconnect()
            raise
        except (ProvisioningError, BleakError, TimeoutError, EOFError, OSError) as err:
            await self.disconnect()
            translated = as_bluenet_error(err)
            _LOGGER.debug("%s: %s failed: %s", self._link.name, what, translated)
            if translated is err:
                raise
            raise translated from err

    # ------------------------------------------------------------------ notifications

    def register_state_callback(self, callback: StateCallback) -> Callable[[], None]:
        """Call ``callback`` with every notified connection state; returns an unsubscriber."""
        self._state_callbacks.append(callback)
        return lambda: self._remove(self._state_callbacks, callback)

    def register_hostname_callback(self, callback: HostnameCallback) -> Callable[[], None]:
        """Call ``callback`` with every notified host name; returns an unsubscriber."""
        self._hostname_callbacks.append(callback)
        return lambda: self._remove(self._hostname_callbacks, callback)

    @staticmethod
    def _remove(callbacks: list[StateCallback] | list[HostnameCallback], callback: object) -> None:
        with contextlib.suppress(ValueError):
            callbacks.remove(callback)  # type: ignore[arg-type]

    def _on_state_notification(self, data: bytes) -> None:
        truncated = len(data) >= notification_capacity(self.mtu)
        try:
            state = decode_connection_state(data, truncated=truncated)
        except BluenetDecodeError as err:
            self._malformed.report("state", f"ignoring a malformed state notification: {err}")
            return
        _LOGGER.debug("%s: state %s %r", self._link.name, state.state.name, state.ssid)
        self._last_state = state
        for listener in list(self._state_listeners):
            listener(state)
        for callback in list(self._state_callbacks):
            try:
                callback(state)
            except Exception:
                _LOGGER.exception("%s: state callback failed", self._link.name)

    def _on_hostname_notification(self, data: bytes) -> None:
        truncated = len(data) >= notification_capacity(self.mtu)
        try:
            value = ReadValue(decode_text(data, truncated=truncated), truncated)
        except BluenetDecodeError as err:
            self._malformed.report("hostname", f"ignoring a malformed host name: {err}")
            return
        self._hostname = value
        for callback in list(self._hostname_callbacks):
            try:
                callback(value)
            except Exception:
                _LOGGER.exception("%s: host name callback failed", self._link.name)

    # ------------------------------------------------------------------ reads

    async def _read(self, uuid: str) -> tuple[bytes, bool]:
        """Read a value as the daemon holds it (a long read's repetitions undone)."""
        return read_value(await self._link.read(uuid), self.mtu)

    async def _read_text(self, uuid: str) -> ReadValue:
        raw, truncated = await self._read(uuid)
        return ReadValue(decode_text(raw, truncated=truncated), truncated)

    async def read_version(self) -> str:
        """Read the service version (``"1.0"`` on every known daemon)."""
        async with self._guarded("read version"):
            return (await self._read_text(VERSION_UUID)).value

    async def read_hostname(self) -> ReadValue:
        """Read the host name (an API URL in production); ``truncated`` if it filled MTU-1."""
        async with self._guarded("read host name"):
            value = await self._read_text(HOSTNAME_UUID)
            if value.truncated:
                _LOGGER.warning(
                    "%s: host name fills the ATT MTU %s and may be truncated",
                    self._link.name,
                    self.mtu,
                )
            self._hostname = value
            return value

    async def read_device_info(self) -> DeviceInfo:
        """Read version and host name."""
        version = await self.read_version()
        hostname = await self.read_hostname()
        return DeviceInfo(version, hostname.value, hostname.truncated)

    async def get_state(self) -> ConnectionState:
        """Read the connection state (an SSID over 32 bytes raises BluenetDecodeError)."""
        async with self._guarded("read state"):
            return await self._read_state()

    async def _read_state(self) -> ConnectionState:
        raw, truncated = await self._read(CONNECTION_STATE_UUID)
        state = decode_connection_state(raw, truncated=truncated)
        self._last_state = state
        return state

    # ------------------------------------------------------------------ network list

    async def scan_networks(
        self, timeout: float = 15.0, *, stall_timeout: float | None = None
    ) -> list[str]:
        """Collect the SSIDs the daemon notifies, in the order received.

        The daemon sends one SSID every 300 ms, pauses 3 s and starts over (see
        :mod:`.networks`). The list is complete at the first SSID repeated within a round, or at
        :data:`~.networks.SCAN_CAP` SSIDs; ``timeout`` bounds the collection. Empty SSIDs and
        undecodable notifications are skipped; duplicates are dropped. If no notification
        arrives for ``stall_timeout`` seconds (default 4.5 s, the daemon's longest silence plus a
        margin; 1.5 s for the first SSID) the client re-subscribes once (the daemon ignores a
        subscribe while it believes it is notifying); after a second stall it returns what it
        has. Before subscribing, the client waits until the daemon's timer chain of an earlier
        subscription is gone (:class:`~.networks.NetworkStreamGuard`; up to 3.7 s after a scan
        that ended in the daemon's pause).

        Raises :class:`~.errors.BluenetStillScanningError` (``error_key`` ``still_scanning``)
        when no SSID came: the daemon sends nothing before its first scan of access points (20 s
        after it starts) nor with no network in range, and nothing tells the two apart. The link
        stays up then. Raises :class:`BluenetConnectionError` if the link drops.
        """
        async with self._guarded("scan networks"):
            try:
                return await self._networks.scan(timeout, stall_timeout)
            except BluenetStillScanningError as err:
                nothing = err  # not a link failure: raised below, with the link kept up
        raise nothing

    # ------------------------------------------------------------------ provisioning

    async def provision(
        self,
        ssid: str,
        password: str | None,
        *,
        timeout: float = 45.0,
        connecting_timeout: float | None = None,
    ) -> ProvisionResult:
        """Join ``ssid``; :mod:`.outcome` says how the outcome is decided.

        Validation comes first and nothing is written when it fails:
        :class:`InvalidCredentialsError` for values outside :data:`..limits.BLUENET_LIMITS`
        (SSID 1-32 bytes of UTF-8; password empty/None for an open network, an 8-63 character
        passphrase of at most 63 bytes without control characters, or 64 hex digits);
        :class:`ValueTooLongError` when a value does not fit one write on this link
        (:attr:`max_value_length`; the daemon ignores write offsets). Then the state is read (the
        baseline), and the SSID and the credentials are written with response, in that order.

        ``connecting_timeout`` (default ``min(20, timeout / 2)``) is how long state 2, or an
        unverified 3, may last before it becomes ``NO_INTERNET`` / ``OTHER_UPLINK``. Raises
        :class:`BluenetConnectionError` when the link drops (promptly, also while waiting).
        """
        try:
            ssid_raw, credentials_raw = BLUENET_LIMITS.check(ssid, password)
        except InvalidInputError as err:
            raise InvalidCredentialsError(str(err), field=err.field, reason=err.reason) from None
        if connecting_timeout is None:
            connecting_timeout = min(DEFAULT_CONNECTING_TIMEOUT, timeout / 2)
        async with self._guarded("provision"):
            if not self.is_connected:
                raise BluenetConnectionError(f"{self._link.name}: not connected")
            check_fits(ssid_raw, self.max_value_length, "SSID")
            check_fits(credentials_raw, self.max_value_length, "password")
            tracker = OutcomeTracker(ssid=ssid, connecting_timeout=connecting_timeout)
            outcome = await self._join(tracker, ssid_raw, credentials_raw, timeout)
            hostname: ReadValue | None = None
            if outcome is ProvisionOutcome.CONNECTED:
                hostname = await self._joined_hostname()
                outcome = outcome_with_hostname(
                    outcome, hostname.value if hostname is not None else None
                )
        _LOGGER.debug("%s: provisioning %r ended: %s", self._link.name, ssid, outcome.value)
        return ProvisionResult(
            outcome=outcome,
            ssid=ssid,
            hostname=hostname.value if hostname is not None else None,
            states_seen=tuple(tracker.states),
            hostname_truncated=hostname.truncated if hostname is not None else False,
        )

    async def _join(
        self, tracker: OutcomeTracker, ssid_raw: bytes, credentials_raw: bytes, timeout: float
    ) -> ProvisionOutcome:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[ConnectionState] = asyncio.Queue()
        _LOGGER.debug(
            "%s: provisioning %r (%s network, password of %d bytes)",
            self._link.name,
            tracker.ssid,
            "open" if not credentials_raw else "secured",
            len(credentials_raw),
        )
        self._state_listeners.append(queue.put_nowait)
        try:
            baseline = await self._baseline()
            # A notification received since the read is at least as new as its answer.
            while not queue.empty():
                baseline = queue.get_nowait()
            if baseline is not None:
                tracker.baseline(baseline, loop.time())
            await self._link.write(SSID_UUID, ssid_raw, response=True)
            while not queue.empty():
                tracker.baseline(queue.get_nowait(), loop.time())
            await self._link.write(CREDENTIALS_UUID, credentials_raw, response=True)
            deadline = loop.time() + timeout
            outcome: ProvisionOutcome | None = None
            while outcome is None and not queue.empty():
                outcome = tracker.feed(queue.get_nowait(), loop.time(), during_write=True)
            while outcome is None:
                now = loop.time()
                outcome = tracker.check_time(now)
                if outcome is not None:
                    break
                if now >= deadline:
                    outcome = ProvisionOutcome.TIMEOUT
                    break
                due = tracker.next_deadline()
                wake = deadline if due is None else min(deadline, due)
                try:
                    state = await self._link.wait(queue.get(), wake - now, "connection state")
                except ProvisioningTimeoutError:
                    continue
                outcome = tracker.feed(state, loop.time())
        finally:
            with contextlib.suppress(ValueError):
                self._state_listeners.remove(queue.put_nowait)
        return outcome

    async def _baseline(self) -> ConnectionState | None:
        """Read the state before the join; None when the device answers a malformed one."""
        try:
            return await self._read_state()
        except BluenetDecodeError as err:
            self._malformed.report("state", f"ignoring a malformed state: {err}")
            return None

    async def _joined_hostname(self) -> ReadValue | None:
        """Read the host name after a join; None (and a warning) when that fails."""
        try:
            hostname = await self._read_text(HOSTNAME_UUID)
        except ProvisioningError as err:
            _LOGGER.warning("%s: joined, but reading host name failed: %s", self._link.name, err)
            return None
        self._hostname = hostname
        return hostname
