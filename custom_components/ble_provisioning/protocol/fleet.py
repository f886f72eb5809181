"""Move configured devices to a new network with a canary, then in waves.

One device (the canary) is moved first and must confirm it joined: its provisioning ends
``CONNECTED`` and, with ``verify`` (the default), a status read on a new connection reports the
new network. Only then are the others moved, ``wave_size`` at a time through the
:class:`~.engine.ProvisioningEngine` (each wave within the free connection slots). The move stops
after the first wave with a failure (the devices of that wave already running are let finish, so
none is left half-configured); the rest is not touched. :class:`FleetReport` says which devices
are where: moved, failed, untouched.

::

    move = FleetMove(engine, targets, ProvisionRequest("NewNet", password), wave_size=5)
    async for result in move:          # the canary first, then each device as it finishes
        print(result.address, result.status)
    print(move.report.moved, move.report.failed, move.report.untouched)
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from .device import ProvisioningDevice
from .engine import DeviceResult, ProvisioningEngine, ProvisioningRun, Target
from .errors import InvalidInputError
from .models import ProvisionRequest


@dataclass(slots=True)
class FleetReport:
    """Where each device is after a fleet move."""

    canary: DeviceResult | None = None
    moved: list[DeviceResult] = field(default_factory=list)
    """Devices now on the new network (the canary first)."""
    failed: list[DeviceResult] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)
    """Addresses of devices never contacted (still on their old network)."""

    @property
    def completed(self) -> bool:
        """Whether every device moved."""
        return not self.failed and not self.untouched and self.canary is not None

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {
            "completed": self.completed,
            "canary": None if self.canary is None else self.canary.address,
            "moved": [result.as_dict() for result in self.moved],
            "failed": [result.as_dict() for result in self.failed],
            "untouched": list(self.untouched),
        }


class FleetMove:
    """A fleet move: an async iterator of :class:`~.engine.DeviceResult` (see the module).

    ``canary`` picks the canary by address (default: the first target). :attr:`report` is
    complete once the iteration ends (also after a failure or cancellation).
    """

    def __init__(
        self,
        engine: ProvisioningEngine,
        targets: Iterable[Target | ProvisioningDevice],
        request: ProvisionRequest,
        *,
        wave_size: int = 5,
        canary: str | None = None,
        verify: bool = True,
        verify_waves: bool = False,
    ) -> None:
        """Describe the move; nothing happens on the radio until the iteration starts."""
        if wave_size < 1:
            msg = "wave_size must be at least 1"
            raise ValueError(msg)
        items = [item if isinstance(item, Target) else Target(item) for item in targets]
        if not items:
            raise InvalidInputError("no device to move")
        if canary is not None:
            wanted = canary.upper()
            chosen = [item for item in items if item.address == wanted]
            if not chosen:
                raise InvalidInputError(f"canary {canary} is not among the devices")
            items.remove(chosen[0])
            items.insert(0, chosen[0])
        self._engine = engine
        self._targets = items
        self._request = request
        self.wave_size = wave_size
        self._verify = verify
        self._verify_waves = verify_waves
        self.report = FleetReport(untouched=[item.address for item in items])
        self._run: ProvisioningRun | None = None
        self._iterator: AsyncGenerator[DeviceResult] | None = None

    def _plan(self) -> list[list[Target]]:
        first, rest = self._targets[:1], self._targets[1:]
        return [first] + [rest[i : i + self.wave_size] for i in range(0, len(rest), self.wave_size)]

    @property
    def waves(self) -> list[list[str]]:
        """The planned order: the canary alone, then waves of ``wave_size`` addresses."""
        return [[item.address for item in wave] for wave in self._plan()]

    async def _moves(self) -> AsyncGenerator[DeviceResult]:
        for index, wave in enumerate(self._plan()):
            verify = self._verify if index == 0 else self._verify_waves
            run = self._engine.provision(wave, self._request, verify=verify)
            self._run = run
            failed = False
            async with run:
                async for result in run:
                    self._record(result)
                    failed = failed or not result.success
                    yield result
            self._run = None
            if failed:
                return

    def _record(self, result: DeviceResult) -> None:
        report = self.report
        report.untouched.remove(result.address)
        if report.canary is None:
            report.canary = result
        (report.moved if result.success else report.failed).append(result)

    def __aiter__(self) -> AsyncIterator[DeviceResult]:
        """Iterate over the devices as they finish."""
        return self

    async def __anext__(self) -> DeviceResult:
        """Return the next device that finished."""
        if self._iterator is None:
            self._iterator = self._moves()
        return await anext(self._iterator)

    async def wait(self) -> FleetReport:
        """Run the move to its end; return the report."""
        async for _ in self:
            pass
        return self.report

    async def aclose(self) -> None:
        """Stop: cancel the running wave (its links are released) and touch nothing more."""
        run, self._run = self._run, None
        if run is not None:
            await run.aclose()
        # Also before the iteration started: a closed move never starts later.
        iterator, self._iterator = self._iterator, _finished()
        if iterator is not None:
            await iterator.aclose()

    async def __aenter__(self) -> Self:
        """Nothing to start: the move starts with the iteration."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Cancel what is still running."""
        await self.aclose()


async def _finished() -> AsyncGenerator[DeviceResult]:
    return
    yield  # pragma: no cover - makes this an (empty) async generator
