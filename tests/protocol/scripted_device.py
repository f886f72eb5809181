"""A scripted provisioning device (no radio): a pretend link and scripted operations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bleak.backends.device import BLEDevice

from bench.bleak_backend import make_ble_device
from custom_components.ble_provisioning.protocol.device import ProvisioningDevice
from custom_components.ble_provisioning.protocol.errors import ProvisioningError
from custom_components.ble_provisioning.protocol.models import (
    Capabilities,
    DeviceIdentity,
    DeviceStatus,
    Protocol,
    ProvisionReport,
    ProvisionRequest,
    WifiNetwork,
)

ADDRESS = "B0:0B:1E:00:00:42"
Step = Callable[[], Awaitable[None]]


async def nothing() -> None:
    """A step that does nothing."""


def _next[T](script: list[T | ProvisioningError]) -> T:
    """The next scripted answer: a value, or an error to raise."""
    answer = script.pop(0)
    if isinstance(answer, ProvisioningError):
        raise answer
    return answer


class ScriptedDevice(ProvisioningDevice):
    """Opens and closes a pretend link.

    :meth:`run` runs ``step`` as an operation; :meth:`provision` and :meth:`get_status` answer
    from ``provisions`` and ``statuses`` in order (a :class:`ProvisioningError` is raised).
    """

    protocol = Protocol.BLUENET
    capabilities = Capabilities(
        encrypted=False, rssi=False, custom_data=False, disconnect_wifi=False, advanced_wifi=False
    )
    default_name = "Scripted"
    manufacturer = "Test"
    model = "Scripted"

    def __init__(self, idle_timeout: float = 60.0, address: str = ADDRESS) -> None:
        super().__init__(make_ble_device(address), idle_timeout=idle_timeout)
        self.provisions: list[ProvisionReport | ProvisioningError] = []
        self.statuses: list[DeviceStatus | ProvisioningError] = []
        self.requests: list[ProvisionRequest] = []
        self.link_up = False
        self.opens = 0
        self.closes = 0
        self.open_error: BaseException | None = None
        self.step: Step = nothing

    @property
    def is_connected(self) -> bool:
        return self.link_up

    async def _open(self, ble_device: BLEDevice) -> None:
        self.opens += 1
        if self.open_error is not None:
            raise self.open_error
        self.link_up = True

    async def _close_link(self) -> None:
        if self.link_up:
            self.closes += 1
        self.link_up = False

    async def run(self) -> None:
        async with self._operation():
            await self.step()

    async def identify(self) -> DeviceIdentity:
        raise NotImplementedError

    async def get_status(self) -> DeviceStatus:
        async with self._operation():
            return _next(self.statuses)

    async def scan(self, timeout: float) -> list[WifiNetwork]:
        raise NotImplementedError

    async def provision(self, request: ProvisionRequest, timeout: float) -> ProvisionReport:
        async with self._operation():
            self.requests.append(request)
            return _next(self.provisions)
