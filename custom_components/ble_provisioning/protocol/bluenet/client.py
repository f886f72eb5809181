"""Async client for the Bluenet daemon (BLE Wi-Fi provisioning of Senic hubs and alike).

No Home Assistant imports: the client talks to the device through :class:`..gatt.GattLink`.

Outcome of :meth:`BluenetClient.provision`
==========================================

The daemon only reports NetworkManager's *global* state (1 disconnected, 2 connecting,
3 connected) plus the SSID of its ``bluenet`` profile, and it notifies only when the state number
changes. After the Credentials write the client collects state notifications and reads the state
once, then decides with :class:`OutcomeTracker`:

* ``3`` carrying the SSID just sent, after a ``2`` was seen → ``CONNECTED``; the host name is
  then read and returned. If it is empty the outcome becomes ``OTHER_UPLINK``: the daemon
  replaces ``%IP`` with the Wi-Fi interface's IPv4 address when it turns CONNECTED, so an empty
  value means Wi-Fi has no address and the connectivity comes from elsewhere (an IPv6-only Wi-Fi
  would look the same).
* ``3`` carrying another SSID or none (notified) → ``OTHER_UPLINK``: another interface gives the
  device connectivity and the Wi-Fi join is unverified.
* ``3`` without any ``2`` before it (a notification with the sent SSID, or the one state read) is
  provisional: if nothing else arrives within ``connecting_timeout`` → ``OTHER_UPLINK``. A device
  that already has connectivity through Ethernet never leaves 3, so a Wi-Fi join cannot be
  verified; a genuine Wi-Fi join always passes through 2.
* A ``2`` carrying another SSID (or none) belongs to the profile being replaced and is ignored.
* ``1`` (or ``0``) after a ``2`` → ``WRONG_PASSWORD`` (the join failed; the daemon then keeps
  retrying every 20 s, the client does not wait for that). A ``1`` before any ``2`` is the
  deletion of the old profile and is ignored.
* ``2`` held for ``connecting_timeout`` → ``NO_INTERNET`` (NetworkManager is connected locally or
  to the site only, or is stuck connecting).
* Nothing decisive before ``timeout`` → ``TIMEOUT`` (for example the frozen join of a daemon that
  received an invalid PSK, which this client never sends).

A state read is never trusted as a transition: it may predate the join (the daemon starts the
join in a thread after answering the write), so it only arms the time-based outcomes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass, field
import logging
from types import TracebackType
from typing import Self

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from ..errors import (
    InvalidInputError,
    MissingServiceError,
    ProtocolDecodeError,
    ProvisioningConnectionError,
    ProvisioningError,
    ProvisioningTimeoutError,
)
from ..gatt import GattLink
from ..models import ProvisionOutcome
from ..slots import ConnectionSlots
from .codec import (
    check_fits,
    decode_connection_state,
    decode_network,
    decode_text,
    max_payload,
    validate_credentials,
)
from .const import (
    AVAILABLE_NETWORKS_UUID,
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    HOSTNAME_UUID,
    REQUIRED_CHARACTERISTICS,
    SERVICE_UUID,
    SSID_UUID,
    VERSION_UUID,
    BluenetState,
)
from .errors import (
    BluenetConnectionError,
    BluenetDecodeError,
    BluenetError,
    BluenetTimeoutError,
    NotBluenetDeviceError,
)
from .models import ConnectionState, DeviceInfo, ProvisionResult, ReadValue

_LOGGER = logging.getLogger(__name__)

#: A notification gap longer than the daemon's 3 s pause plus one 300 ms interval (with margin)
#: means the network stream stopped.
DEFAULT_SCAN_STALL_TIMEOUT = 4.5
#: The daemon's network timer chain notices an unsubscribe only at its next 300 ms tick; a new
#: subscription before that leaves two chains running (duplicate, interleaved SSIDs). The client
#: keeps this gap between an unsubscribe and the next subscribe.
NETWORK_RESTART_GAP = 0.4
#: Default for how long state 2 (or an unverified 3) may last before it is an outcome.
DEFAULT_CONNECTING_TIMEOUT = 20.0

StateCallback = Callable[[ConnectionState], None]
HostnameCallback = Callable[[ReadValue], None]


def _translate(err: BaseException) -> BaseException:
    """Map a shared or transport error onto the Bluenet family (keeps the shared base)."""
    if isinstance(err, BluenetError):
        return err
    message = str(err) or type(err).__name__
    if isinstance(err, MissingServiceError):
        return NotBluenetDeviceError(message)
    if isinstance(err, ProvisioningTimeoutError):
        return BluenetTimeoutError(message)
    if isinstance(err, ProvisioningConnectionError):
        return BluenetConnectionError(message)
    if isinstance(err, ProtocolDecodeError):
        return BluenetDecodeError(message)
    if isinstance(err, ProvisioningError):
        return err
    if isinstance(err, TimeoutError):
        return BluenetTimeoutError(message)
    return BluenetConnectionError(message)


@dataclass(slots=True)
class OutcomeTracker:
    """Pure decision logic of :meth:`BluenetClient.provision` (see the module docstring).

    Feed it states with :meth:`feed` and the clock with :meth:`check_time`; both return an
    outcome once one is decided. :meth:`next_deadline` tells when a time-based outcome is due.
    """

    ssid: str
    connecting_timeout: float
    seen_connecting: bool = False
    connecting_since: float | None = None
    unverified_connected_since: float | None = None
    states: list[ConnectionState] = field(default_factory=list)

    def feed(
        self, state: ConnectionState, now: float, *, from_read: bool = False
    ) -> ProvisionOutcome | None:
        """Account for one state; return an outcome when decided."""
        self.states.append(state)
        if state.state is BluenetState.CONNECTING:
            if state.ssid != self.ssid:
                # Not this join: the daemon refreshes the SSID from its profile on every
                # NetworkManager signal, so our activation always reports our SSID. This is a
                # late signal of the profile being replaced.
                return None
            if from_read:
                # Possibly stale (before the join started): arm NO_INTERNET, nothing more.
                if self.connecting_since is None:
                    self.connecting_since = now
                return None
            if not self.seen_connecting or self.connecting_since is None:
                self.connecting_since = now
            self.seen_connecting = True
            self.unverified_connected_since = None
            return None
        if state.state in (BluenetState.DISCONNECTED, BluenetState.DOWN):
            if from_read:
                return None
            if self.seen_connecting:
                return ProvisionOutcome.WRONG_PASSWORD
            # The old profile is deleted before the new one is added: not a failure.
            self.connecting_since = None
            self.unverified_connected_since = None
            return None
        # CONNECTED
        if not from_read and state.ssid != self.ssid:
            return ProvisionOutcome.OTHER_UPLINK
        if self.seen_connecting and state.ssid == self.ssid:
            return ProvisionOutcome.CONNECTED
        if self.unverified_connected_since is None:
            self.unverified_connected_since = now
        self.connecting_since = None
        return None

    def next_deadline(self) -> float | None:
        """Monotonic time at which :meth:`check_time` may decide, or None."""
        since = [
            value
            for value in (self.connecting_since, self.unverified_connected_since)
            if value is not None
        ]
        return min(since) + self.connecting_timeout if since else None

    def check_time(self, now: float) -> ProvisionOutcome | None:
        """Return the time-based outcome that is due at ``now``, if any."""
        if (
            self.unverified_connected_since is not None
            and now - self.unverified_connected_since >= self.connecting_timeout
        ):
            return ProvisionOutcome.OTHER_UPLINK
        if (
            self.connecting_since is not None
            and now - self.connecting_since >= self.connecting_timeout
        ):
            return ProvisionOutcome.NO_INTERNET
        return None


class BluenetClient:
    """Talk to one Bluenet daemon.

    Use as ``async with BluenetClient(device) as client:``, or call :meth:`connect` and
    :meth:`disconnect`. Every public method raises only :class:`..errors.ProvisioningError`
    subclasses (mostly :class:`BluenetError` ones). When a method fails for any reason other than
    invalid input (raised before anything is sent), the connection is closed.
    """

    def __init__(
        self,
        ble_device: BLEDevice,
        *,
        ble_device_callback: Callable[[], BLEDevice] | None = None,
        backend: type[BaseBleakClient] | None = None,
        slots: ConnectionSlots | None = None,
        timeout: float = 10.0,
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
        self._state_callbacks: list[StateCallback] = []
        self._hostname_callbacks: list[HostnameCallback] = []
        self._state_listeners: list[Callable[[ConnectionState], None]] = []
        self._last_state: ConnectionState | None = None
        self._hostname: ReadValue | None = None
        self._networks_stopped_at: float | None = None

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
        """Negotiated ATT MTU (23 when unknown)."""
        return self._link.mtu

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
            await self._link.connect()
            await self._link.start_notify(CONNECTION_STATE_UUID, self._on_state_notification)
            await self._link.start_notify(HOSTNAME_UUID, self._on_hostname_notification)

    async def disconnect(self) -> None:
        """Close the connection; never raises."""
        await self._link.disconnect()

    def _on_link_lost(self) -> None:
        _LOGGER.debug("%s: Bluenet link lost", self._link.name)
        # The daemon stops every notification on a remote disconnect.
        with contextlib.suppress(RuntimeError):
            self._networks_stopped_at = asyncio.get_running_loop().time()

    @contextlib.asynccontextmanager
    async def _guarded(self, what: str) -> AsyncIterator[None]:
        """Translate errors into the Bluenet family and close the link on failure."""
        try:
            yield
        except InvalidInputError:
            raise
        except asyncio.CancelledError:
            await self._link.disconnect()
            raise
        except (ProvisioningError, BleakError, TimeoutError, EOFError, OSError) as err:
            await self._link.disconnect()
            translated = _translate(err)
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
        try:
            state = decode_connection_state(data)
        except BluenetDecodeError as err:
            _LOGGER.warning("%s: ignoring malformed state notification: %s", self._link.name, err)
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
        truncated = len(data) >= max_payload(self.mtu)
        try:
            value = ReadValue(decode_text(data, truncated=truncated), truncated)
        except BluenetDecodeError as err:
            _LOGGER.warning("%s: ignoring malformed host name: %s", self._link.name, err)
            return
        self._hostname = value
        for callback in list(self._hostname_callbacks):
            try:
                callback(value)
            except Exception:
                _LOGGER.exception("%s: host name callback failed", self._link.name)

    # ------------------------------------------------------------------ reads

    async def _read_text(self, uuid: str) -> ReadValue:
        raw = await self._link.read(uuid)
        # The daemon ignores read offsets: a value that fills a whole ATT packet may be cut and
        # the rest cannot be read.
        truncated = len(raw) >= max_payload(self.mtu)
        return ReadValue(decode_text(raw, truncated=truncated), truncated)

    async def read_version(self) -> str:
        """Read the service version (``"1.0"`` on every known daemon)."""
        async with self._guarded("read version"):
            return (await self._read_text(VERSION_UUID)).value

    async def read_hostname(self) -> ReadValue:
        """Read the host name (an API URL in production); ``truncated`` if it filled MTU-3."""
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
        """Read the connection state."""
        async with self._guarded("read state"):
            state = decode_connection_state(await self._link.read(CONNECTION_STATE_UUID))
            self._last_state = state
            return state

    # ------------------------------------------------------------------ network list

    async def scan_networks(
        self, timeout: float = 15.0, *, stall_timeout: float = DEFAULT_SCAN_STALL_TIMEOUT
    ) -> list[str]:
        """Collect the SSIDs the daemon notifies, in the order received.

        The daemon sends one SSID every 300 ms, pauses 3 s and starts over. The list is complete
        at the first SSID repeated within a round. Empty SSIDs and undecodable notifications are
        skipped; duplicates are dropped. If no notification arrives for ``stall_timeout``
        seconds the client re-subscribes once (unsubscribe + subscribe: the daemon ignores a
        subscribe while it believes it is notifying) and starts a new round; after a second
        stall, or at ``timeout``, it returns what it has. Between an unsubscribe and the next
        subscribe the client keeps :data:`NETWORK_RESTART_GAP` (0.4 s), so that the daemon's old
        timer chain dies first (otherwise two chains run at once).

        An environment without networks produces no notification at all, so an empty list is a
        valid answer and no timeout error is raised; a stream that never starts looks the same.
        Raises :class:`BluenetConnectionError` if the link drops.
        """
        async with self._guarded("scan networks"):
            return await self._scan(timeout, stall_timeout)

    async def _scan(self, timeout: float, stall_timeout: float) -> list[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        found: list[str] = []
        round_seen: set[str] = set()
        resubscribed = False
        await self._start_network_stream(queue.put_nowait)
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    _LOGGER.debug("%s: network scan timed out", self._link.name)
                    break
                try:
                    data = await self._link.wait(
                        queue.get(), min(stall_timeout, remaining), "network list"
                    )
                except ProvisioningTimeoutError:
                    if loop.time() >= deadline:
                        break
                    if resubscribed:
                        _LOGGER.debug("%s: network list stopped again", self._link.name)
                        break
                    _LOGGER.debug("%s: network list stalled, re-subscribing", self._link.name)
                    resubscribed = True
                    round_seen.clear()
                    await self._stop_network_stream()
                    await self._start_network_stream(queue.put_nowait)
                    continue
                try:
                    ssid = decode_network(data)
                except BluenetDecodeError as err:
                    _LOGGER.debug("%s: skipping network: %s", self._link.name, err)
                    continue
                if not ssid:
                    continue
                if ssid in round_seen:
                    break
                round_seen.add(ssid)
                if ssid not in found:
                    found.append(ssid)
        finally:
            if self._link.is_connected:
                with contextlib.suppress(ProvisioningError):
                    await self._stop_network_stream()
        return found

    async def _start_network_stream(self, callback: Callable[[bytes], None]) -> None:
        """Subscribe to the network list, keeping :data:`NETWORK_RESTART_GAP` after a stop."""
        if self._networks_stopped_at is not None:
            gap = (
                self._networks_stopped_at + NETWORK_RESTART_GAP - asyncio.get_running_loop().time()
            )
            if gap > 0:
                await self._link.wait(asyncio.sleep(gap), gap + self._timeout, "restart gap")
        await self._link.start_notify(AVAILABLE_NETWORKS_UUID, callback)

    async def _stop_network_stream(self) -> None:
        try:
            await self._link.stop_notify(AVAILABLE_NETWORKS_UUID)
        finally:
            self._networks_stopped_at = asyncio.get_running_loop().time()

    # ------------------------------------------------------------------ provisioning

    async def provision(
        self,
        ssid: str,
        password: str | None,
        *,
        timeout: float = 45.0,
        connecting_timeout: float | None = None,
    ) -> ProvisionResult:
        """Join ``ssid``; see the module docstring for how the outcome is decided.

        Validation comes first and nothing is written when it fails:
        :class:`InvalidCredentialsError` for an SSID that is not 1-32 bytes of UTF-8 or a password
        that is not empty/None (open network), 8-63 characters (at most 63 bytes, no control
        characters) or 64 hex digits; :class:`ValueTooLongError` when a value does not fit one
        ATT write (``mtu - 3``; the daemon ignores write offsets). Then the SSID and the
        credentials are written with response, in that order.

        ``connecting_timeout`` (default ``min(20, timeout / 2)``) is how long state 2, or an
        unverified 3, may last before it becomes ``NO_INTERNET`` / ``OTHER_UPLINK``. Raises
        :class:`BluenetConnectionError` when the link drops (promptly, also while waiting).
        """
        ssid_raw, credentials_raw = validate_credentials(ssid, password)
        if connecting_timeout is None:
            connecting_timeout = min(DEFAULT_CONNECTING_TIMEOUT, timeout / 2)
        async with self._guarded("provision"):
            if not self.is_connected:
                raise BluenetConnectionError(f"{self._link.name}: not connected")
            check_fits(ssid_raw, self.mtu, "SSID")
            check_fits(credentials_raw, self.mtu, "password")
            return await self._provision(
                ssid, ssid_raw, credentials_raw, timeout, connecting_timeout
            )

    async def _provision(
        self,
        ssid: str,
        ssid_raw: bytes,
        credentials_raw: bytes,
        timeout: float,
        connecting_timeout: float,
    ) -> ProvisionResult:
        loop = asyncio.get_running_loop()
        tracker = OutcomeTracker(ssid=ssid, connecting_timeout=connecting_timeout)
        queue: asyncio.Queue[ConnectionState] = asyncio.Queue()
        _LOGGER.debug(
            "%s: provisioning %r (%s network, password of %d bytes)",
            self._link.name,
            ssid,
            "open" if not credentials_raw else "secured",
            len(credentials_raw),
        )
        await self._link.write(SSID_UUID, ssid_raw, response=True)
        self._state_listeners.append(queue.put_nowait)
        try:
            await self._link.write(CREDENTIALS_UUID, credentials_raw, response=True)
            deadline = loop.time() + timeout
            raw_state = await self._link.read(CONNECTION_STATE_UUID)
            outcome: ProvisionOutcome | None = None
            # Notifications that arrived before the read answer are transitions: handle first.
            while outcome is None and not queue.empty():
                outcome = tracker.feed(queue.get_nowait(), loop.time())
            if outcome is None:
                with contextlib.suppress(BluenetDecodeError):
                    read_state = decode_connection_state(raw_state)
                    self._last_state = read_state
                    outcome = tracker.feed(read_state, loop.time(), from_read=True)
            while outcome is None:
                now = loop.time()
                outcome = tracker.check_time(now)
                if outcome is not None:
                    break
                wake = deadline
                if (due := tracker.next_deadline()) is not None:
                    wake = min(wake, due)
                if now >= deadline:
                    outcome = ProvisionOutcome.TIMEOUT
                    break
                try:
                    state = await self._link.wait(
                        queue.get(), max(wake - now, 0.0), "connection state"
                    )
                except ProvisioningTimeoutError:
                    continue
                outcome = tracker.feed(state, loop.time())
        finally:
            with contextlib.suppress(ValueError):
                self._state_listeners.remove(queue.put_nowait)
        hostname: ReadValue | None = None
        if outcome is ProvisionOutcome.CONNECTED:
            try:
                hostname = await self._read_text(HOSTNAME_UUID)
            except ProvisioningError as err:
                _LOGGER.warning(
                    "%s: joined, but reading host name failed: %s", self._link.name, err
                )
            else:
                self._hostname = hostname
                if not hostname.value:
                    # The daemon fills %IP from the Wi-Fi interface only, at the transition to
                    # CONNECTED: an empty host name means Wi-Fi has no address and the
                    # connectivity comes from another uplink.
                    outcome = ProvisionOutcome.OTHER_UPLINK
        _LOGGER.debug("%s: provisioning %r ended: %s", self._link.name, ssid, outcome.value)
        return ProvisionResult(
            outcome=outcome,
            ssid=ssid,
            hostname=hostname.value if hostname is not None else None,
            states_seen=tuple(tracker.states),
            hostname_truncated=hostname.truncated if hostname is not None else False,
        )
