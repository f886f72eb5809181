"""Provision many devices at once, within the connection slots of each adapter or proxy.

:class:`ProvisioningEngine` takes targets (``BLEDevice``s, addresses with a resolver, or
ready :class:`~.device.ProvisioningDevice`s) and a network (one
:class:`~.models.ProvisionRequest` for all, or one per target) and provisions them
concurrently. Every device waits, event-driven, for a slot of its adapter (a
:class:`~.slots.ConnectionSlots`, default :class:`~.slots.AdapterSlots`); a connection is
released as soon as the device's operation ends (no idle hold), so the next waiter gets the slot
at once. A transient link failure (connection lost, cannot connect, timeout while connecting)
is retried up to ``max_attempts`` times after a short backoff, without holding a slot; anything
else (a wrong password, a device that does not answer, bad input) is final.

:meth:`ProvisioningEngine.provision` returns a :class:`ProvisioningRun`, an async iterator that
yields a :class:`DeviceResult` as each device finishes::

    engine = ProvisioningEngine(slots=AdapterSlots(3), backend=None)
    async with engine.provision(targets, ProvisionRequest("HomeNet", password)) as run:
        async for result in run:
            print(result.address, result.status, result.duration)

Leaving the ``async with`` early, cancelling the task that iterates, or
:meth:`ProvisioningRun.aclose` cancels the devices still running and waits for them: no
connection stays open and no slot stays held.

The fleet move with a canary is in :mod:`.fleet`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
import logging
import time
from types import TracebackType
from typing import Any, Self

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice

from .device import DEFAULT_TIMEOUT, ProvisioningDevice, create_device
from .errors import (
    ConnectTimeoutError,
    DeviceNotFoundError,
    InvalidInputError,
    MissingServiceError,
    NoConnectionSlotError,
    ProvisioningConnectionError,
    ProvisioningError,
)
from .models import (
    DeviceStatus,
    Protocol,
    ProvisioningSecurity,
    ProvisionOutcome,
    ProvisionReport,
    ProvisionRequest,
    WifiState,
)
from .slots import AdapterSlots, ConnectionSlots, SlotLease

_LOGGER = logging.getLogger(__name__)

Resolver = Callable[[str], BLEDevice | None]
"""Returns the freshest ``BLEDevice`` for an address (None: not in range)."""

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_RETRY_BACKOFF = 0.25
"""Seconds before the second attempt; doubled for each further one."""
DEFAULT_PROVISION_TIMEOUT = 30.0
DEFAULT_SLOT_TIMEOUT = 600.0
"""How long one device may wait for a connection slot in a batch."""


@dataclass(frozen=True, slots=True)
class Target:
    """One device to provision.

    ``device`` is a ``BLEDevice``, an address (needs the engine's resolver) or a ready
    :class:`ProvisioningDevice` (then ``protocol`` may be omitted). ``request`` overrides the
    run's request for this device.
    """

    device: BLEDevice | str | ProvisioningDevice
    protocol: Protocol | None = None
    name: str | None = None
    request: ProvisionRequest | None = None
    version: str | None = None

    @property
    def address(self) -> str:
        """The device's Bluetooth address (upper case)."""
        device = self.device
        if isinstance(device, str):
            return device.upper()
        return device.address.upper()


@dataclass(frozen=True, slots=True)
class DeviceResult:
    """How one device ended. Holds no password.

    ``outcome`` is set when the device answered (a :class:`ProvisionOutcome`); ``error_key``
    when the attempt ended in an error instead (``cannot_connect``, ``connection_lost``,
    ``timeout``, ``invalid_input``, ...). ``duration`` runs from the first connection slot
    granted (or the first attempt, when the engine did not create the device) to the end;
    ``waited`` is the time spent waiting for slots.
    """

    address: str
    name: str | None
    protocol: Protocol
    outcome: ProvisionOutcome | None
    error_key: str | None
    ssid: str | None
    reason_code: int | None = None
    rssi: int | None = None
    duration: float = 0.0
    attempts: int = 0
    waited: float = 0.0
    bssid: str | None = None
    hostname: str | None = None
    security: ProvisioningSecurity | None = None
    verified: bool | None = None
    """With verification: whether a later status read confirmed the network (else None)."""

    @property
    def success(self) -> bool:
        """Whether the device is where it was asked to be."""
        return self.error_key is None and self.outcome is not None and self.outcome.success

    @property
    def status(self) -> str:
        """The error key when it ended in an error, else the outcome's value."""
        if self.error_key is not None:
            return self.error_key
        return self.outcome.value if self.outcome is not None else "unknown"

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly fields (enums as their values)."""
        return {
            "address": self.address,
            "name": self.name,
            "protocol": self.protocol.value,
            "success": self.success,
            "status": self.status,
            "outcome": None if self.outcome is None else self.outcome.value,
            "error_key": self.error_key,
            "reason_code": self.reason_code,
            "rssi": self.rssi,
            "ssid": self.ssid,
            "bssid": self.bssid,
            "hostname": self.hostname,
            "security": None if self.security is None else self.security.value,
            "verified": self.verified,
            "duration": round(self.duration, 3),
            "waited": round(self.waited, 3),
            "attempts": self.attempts,
        }


def is_transient(err: ProvisioningError) -> bool:
    """Whether a failure is worth another attempt: the link failed, not the device or input."""
    if isinstance(err, ConnectTimeoutError):
        return True
    if isinstance(err, MissingServiceError | NoConnectionSlotError | DeviceNotFoundError):
        return False
    return isinstance(err, ProvisioningConnectionError)


class _MeteredLease:
    """A lease that tells its meter when it is given back."""

    __slots__ = ("_lease", "_meter")

    def __init__(self, lease: SlotLease, meter: _SlotMeter) -> None:
        self._lease = lease
        self._meter: _SlotMeter | None = meter

    def connected(self) -> None:
        self._lease.connected()

    def release(self) -> None:
        self._lease.release()
        meter, self._meter = self._meter, None
        if meter is not None:
            meter.held -= 1


class _SlotMeter:
    """One device's view of the engine's slots: slot waits measured, its own wait bound."""

    def __init__(self, slots: ConnectionSlots, timeout: float) -> None:
        self._slots = slots
        self._timeout = timeout
        self.waited = 0.0
        self.first_grant: float | None = None
        self.held = 0

    async def acquire(self, ble_device: BLEDevice, timeout: float) -> SlotLease:
        # The batch, not the link, decides how long a device may queue for a slot.
        start = time.monotonic()
        try:
            lease = await self._slots.acquire(ble_device, self._timeout)
        finally:
            self.waited += time.monotonic() - start
        if self.first_grant is None:
            self.first_grant = time.monotonic()
        self.held += 1
        return _MeteredLease(lease, self)


@dataclass(slots=True)
class _Job:
    target: Target
    request: ProvisionRequest
    device: ProvisioningDevice
    owned: bool
    meter: _SlotMeter | None
    name: str | None
    attempts: int = 0
    started: float = field(default_factory=time.monotonic)


class ProvisioningEngine:
    """Provisions devices concurrently within the free connection slots (see the module)."""

    def __init__(
        self,
        *,
        slots: ConnectionSlots | None = None,
        backend: type[BaseBleakClient] | None = None,
        resolver: Resolver | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retry_backoff: float = DEFAULT_RETRY_BACKOFF,
        step_timeout: float = DEFAULT_TIMEOUT,
        provision_timeout: float = DEFAULT_PROVISION_TIMEOUT,
        slot_timeout: float = DEFAULT_SLOT_TIMEOUT,
    ) -> None:
        """Configure the engine; nothing happens on the radio until a run starts.

        ``slots`` is shared by every device the engine creates (default ``AdapterSlots(3)``);
        a ready :class:`ProvisioningDevice` keeps its own. ``resolver`` turns an address
        target into a ``BLEDevice`` at each connect.
        """
        if max_attempts < 1:
            msg = "max_attempts must be at least 1"
            raise ValueError(msg)
        self.slots: ConnectionSlots = slots if slots is not None else AdapterSlots()
        self.backend = backend
        self.resolver = resolver
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.step_timeout = step_timeout
        self.provision_timeout = provision_timeout
        self.slot_timeout = slot_timeout

    def provision(
        self,
        targets: Iterable[Target | ProvisioningDevice],
        request: ProvisionRequest | None = None,
        *,
        requests: Mapping[str, ProvisionRequest] | None = None,
        verify: bool = False,
    ) -> ProvisioningRun:
        """Return a run that provisions ``targets`` (see :class:`ProvisioningRun`).

        The request of a device is its target's ``request``, else ``requests[address]``, else
        ``request``. With ``verify`` a success is confirmed by a status read on a new
        connection (the device reports the requested network).

        Raises :class:`InvalidInputError` when a device has no request, ``ValueError`` when an
        address is given twice or a target cannot be made into a device.
        """
        by_address = {key.upper(): value for key, value in (requests or {}).items()}
        jobs: list[_Job] = []
        seen: set[str] = set()
        for item in targets:
            target = item if isinstance(item, Target) else Target(item)
            address = target.address
            if address in seen:
                msg = f"{address} is given twice"
                raise ValueError(msg)
            seen.add(address)
            chosen = target.request or by_address.get(address) or request
            if chosen is None:
                raise InvalidInputError(f"no network for {address}", field="ssid")
            jobs.append(self._job(target, chosen))
        return ProvisioningRun(self, jobs, verify=verify)

    def _job(self, target: Target, request: ProvisionRequest) -> _Job:
        device = target.device
        if isinstance(device, ProvisioningDevice):
            return _Job(target, request, device, owned=False, meter=None, name=target.name)
        if target.protocol is None:
            msg = f"{target.address}: the protocol is required"
            raise ValueError(msg)
        meter = _SlotMeter(self.slots, self.slot_timeout)
        if isinstance(device, BLEDevice):
            source: BLEDevice | Callable[[], BLEDevice | None] = device
            name = target.name or device.name
        else:
            resolver = self.resolver
            if resolver is None:
                msg = f"{target.address}: an address needs the engine's resolver"
                raise ValueError(msg)
            address = target.address
            source = lambda: resolver(address)  # noqa: E731
            name = target.name
        created = create_device(
            target.protocol,
            source,
            address=target.address,
            backend=self.backend,
            slots=meter,
            idle_timeout=0.0,
            timeout=self.step_timeout,
            version=target.version,
        )
        return _Job(target, request, created, owned=True, meter=meter, name=name)

    async def _attempts(self, job: _Job, verify: bool) -> DeviceResult:
        """Provision one device, retrying transient link failures; never raises a library error."""
        device = job.device
        report: ProvisionReport | None = None
        verified: bool | None = None
        error: ProvisioningError | None = None
        try:
            while True:
                job.attempts += 1
                try:
                    if report is None:
                        report = await device.provision(job.request, self.provision_timeout)
                    if verify and report.outcome is ProvisionOutcome.CONNECTED:
                        status = await device.get_status()
                        verified = _confirms(status, job.request)
                        report = _verified_report(report, status, verified)
                    error = None
                    break
                except ProvisioningError as err:
                    error = err
                    if job.attempts >= self.max_attempts or not is_transient(err):
                        break
                    _LOGGER.debug(
                        "%s: attempt %d failed (%s), retrying", device.address, job.attempts, err
                    )
                    await asyncio.sleep(self.retry_backoff * 2 ** (job.attempts - 1))
                finally:
                    if not job.owned:
                        await device.disconnect()  # a ready device may hold its link idle
        finally:
            if job.owned:
                await device.close()
        return self._result(job, report, error, verified)

    def _result(
        self,
        job: _Job,
        report: ProvisionReport | None,
        error: ProvisioningError | None,
        verified: bool | None,
    ) -> DeviceResult:
        end = time.monotonic()
        meter = job.meter
        start = job.started
        if meter is not None and meter.first_grant is not None:
            start = meter.first_grant
        common: dict[str, Any] = {
            "address": job.target.address,
            "name": job.name,
            "protocol": job.device.protocol,
            "duration": max(0.0, end - start),
            "attempts": job.attempts,
            "waited": meter.waited if meter is not None else 0.0,
        }
        error_key = None if error is None else error.error_key
        if report is None:
            return DeviceResult(
                **common, outcome=None, error_key=error_key or "unknown", ssid=job.request.ssid
            )
        # With an error here the device was provisioned but its verification failed.
        return DeviceResult(
            **common,
            outcome=report.outcome,
            error_key=error_key,
            ssid=report.ssid,
            reason_code=report.end_reason_code,
            rssi=report.rssi,
            bssid=report.bssid,
            hostname=report.hostname,
            security=report.security,
            verified=False if error is not None else verified,
        )


def _confirms(status: DeviceStatus, request: ProvisionRequest) -> bool:
    return status.state is WifiState.CONNECTED and status.ssid in (None, request.ssid)


def _verified_report(
    report: ProvisionReport, status: DeviceStatus, verified: bool
) -> ProvisionReport:
    """Return the report after a status read: the read's failure wins when it contradicts."""
    if verified:
        return report
    if status.state is WifiState.CONNECTED:
        outcome = ProvisionOutcome.OTHER_NETWORK
    else:
        outcome = status.failure or ProvisionOutcome.CONNECTION_FAILED
    return ProvisionReport(
        outcome=outcome,
        ssid=report.ssid,
        bssid=status.bssid,
        rssi=report.rssi,
        end_reason_code=status.end_reason_code,
        hostname=report.hostname,
        security=report.security,
    )


class ProvisioningRun:
    """A running batch: an async iterator of :class:`DeviceResult` in the order they finish.

    Starts on the first ``async for`` step or ``async with``. ``total``, ``done`` and
    ``failed`` count progress; :attr:`results` holds what finished so far.
    """

    def __init__(self, engine: ProvisioningEngine, jobs: list[_Job], *, verify: bool) -> None:
        """Prepare the run (devices are created, nothing is connected)."""
        self._engine = engine
        self._jobs = jobs
        self._verify = verify
        self._queue: asyncio.Queue[DeviceResult] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._closed = False
        self.results: list[DeviceResult] = []

    @property
    def total(self) -> int:
        """How many devices the run provisions."""
        return len(self._jobs)

    @property
    def addresses(self) -> list[str]:
        """The devices' addresses, in the order given."""
        return [job.target.address for job in self._jobs]

    @property
    def done(self) -> int:
        """How many devices finished (either way)."""
        return len(self.results)

    @property
    def failed(self) -> int:
        """How many devices finished without success."""
        return sum(1 for result in self.results if not result.success)

    @property
    def slots_held(self) -> int:
        """Slots currently held by devices of this run (0 once it ended)."""
        return sum(job.meter.held for job in self._jobs if job.meter is not None)

    def start(self) -> None:
        """Start every device (each then waits for a slot); idempotent."""
        if self._started:
            return
        if self._closed:
            msg = "the run was closed"
            raise RuntimeError(msg)
        self._started = True
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._run(job)) for job in self._jobs]

    async def _run(self, job: _Job) -> None:
        result = await self._engine._attempts(job, self._verify)
        self._queue.put_nowait(result)

    def __aiter__(self) -> AsyncIterator[DeviceResult]:
        """Iterate over results as devices finish."""
        return self

    async def __anext__(self) -> DeviceResult:
        """Return the next device that finished."""
        self.start()
        if len(self.results) >= len(self._jobs):
            raise StopAsyncIteration
        try:
            result = await self._queue.get()
        except asyncio.CancelledError:
            await self.aclose()
            raise
        self.results.append(result)
        return result

    async def wait(self) -> list[DeviceResult]:
        """Run to the end; return every result (in finishing order)."""
        return [result async for result in self]

    async def aclose(self) -> None:
        """Cancel the devices still running and wait until their links are down."""
        self._closed = True
        pending = [task for task in self._tasks if not task.done()]
        for task in pending:
            task.cancel()
        # Shielded and waited out: a caller cancelled again meanwhile (Home Assistant cancels a
        # flow's task a second time when the flow ends) must not skip the release of the links;
        # every step of it is bounded (a disconnect has its own timeout).
        cleanup = asyncio.ensure_future(self._release(pending))
        cancelled = False
        while not cleanup.done():
            try:
                await asyncio.shield(cleanup)
            except asyncio.CancelledError:
                cancelled = True
        cleanup.result()
        if cancelled:
            raise asyncio.CancelledError

    async def _release(self, pending: list[asyncio.Task[None]]) -> None:
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for job in self._jobs:
            if job.owned and not job.device.closed:
                await job.device.close()

    async def __aenter__(self) -> Self:
        """Start the run."""
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Cancel what is still running."""
        await self.aclose()
