"""Many devices at once in Home Assistant: members, requests, the engine, holding the entries.

A batch (the ``provision_many`` and ``move_fleet`` actions, the "several devices" flow) runs the
library's :class:`~.protocol.engine.ProvisioningEngine` through Home Assistant's bluetooth stack
and its shared connection slots (:func:`~.slots.ha_slots`): every device waits for a free slot
of an adapter or proxy that sees it, and gives the slot back as soon as its work ends.

A configured device is reached through its entry coordinator's own device object (one object,
one lock, one link per address); :class:`EntryHold` pauses those coordinators while the batch
runs (no refresh, button or action talks to the device meanwhile) and keeps each result in its
entry. A device that is only discovered gets an object of the engine's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
import uuid

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant

from . import const
from .coordinator import BleProvisioningCoordinator
from .device import ha_device
from .protocol.engine import DEFAULT_SLOT_TIMEOUT, DeviceResult, ProvisioningEngine, Target
from .protocol.models import Protocol, ProvisionOutcome, ProvisionRequest
from .slots import ha_slots
from .targets import Discovered, device_id_of
from .wifi_request import provision_request


@dataclass(frozen=True, slots=True)
class Member:
    """One device of a batch: configured (with its coordinator) or only discovered."""

    address: str
    protocol: Protocol
    name: str
    coordinator: BleProvisioningCoordinator | None = None
    device_id: str | None = None

    @classmethod
    def configured(cls, hass: HomeAssistant, coordinator: BleProvisioningCoordinator) -> Member:
        """Return the member of a loaded entry."""
        return cls(
            coordinator.address,
            coordinator.device.protocol,
            coordinator.config_entry.title,
            coordinator,
            device_id_of(hass, coordinator),
        )

    @classmethod
    def found(cls, device: Discovered) -> Member:
        """Return the member of a discovered device."""
        return cls(device.address, device.protocol, device.name)

    def check(
        self, hass: HomeAssistant, values: Mapping[str, Any]
    ) -> tuple[ProvisionRequest | None, dict[str, str]]:
        """Check the input against this device's protocol (see :func:`provision_request`)."""
        if self.coordinator is not None:
            return provision_request(self.coordinator.device, values)
        # An object only for the protocol's limits and capabilities: it never connects.
        return provision_request(ha_device(hass, self.address, self.protocol), values)

    def target(self, request: ProvisionRequest | None = None) -> Target:
        """Return the engine's target: the entry's own device object, else the address."""
        if self.coordinator is not None:
            return Target(self.coordinator.device, name=self.name, request=request)
        return Target(self.address, self.protocol, name=self.name, request=request)

    def response(self, result: DeviceResult) -> dict[str, Any]:
        """Return a result as an action does (with the device id of a configured device)."""
        return {"device_id": self.device_id, **result.as_dict(), "name": self.name}


def batch_engine(hass: HomeAssistant) -> ProvisioningEngine:
    """Return a batch's engine: Home Assistant's slots and freshest ``BLEDevice``s."""
    return ProvisioningEngine(
        slots=ha_slots(hass),
        resolver=lambda address: bluetooth.async_ble_device_from_address(
            hass, address, connectable=True
        ),
        step_timeout=const.CONNECT_TIMEOUT,
        provision_timeout=const.PROVISION_TIMEOUT,
    )


class EntryHold:
    """Pause the coordinators of a batch's configured members while it runs (``with``).

    Entering refuses a member whose entry is closing or already paused (a reconfiguration):
    the gate's translated error is raised and nothing is paused. :meth:`keep` stores a result
    in its entry and renews the pause (which otherwise expires after ``PAUSE_TIMEOUT``).
    Leaving resumes every coordinator and, where a result does not tell the status (anything but
    joined), reads it in the background.
    """

    def __init__(self, members: Iterable[Member], purpose: str) -> None:
        """Hold nothing yet."""
        self._coordinators = {
            member.address: member.coordinator
            for member in members
            if member.coordinator is not None
        }
        self._holder = f"{purpose}-{uuid.uuid4().hex}"
        self._refresh: set[str] = set()

    def __enter__(self) -> Self:
        """Check every entry first, then pause them all."""
        for coordinator in self._coordinators.values():
            coordinator.gate.check()
        for coordinator in self._coordinators.values():
            coordinator.gate.async_pause(self._holder)
            coordinator.slots.wait_timeout = DEFAULT_SLOT_TIMEOUT  # queue as the batch's own
        return self

    def keep(self, result: DeviceResult) -> None:
        """Keep ``result`` in its entry (when configured); renew the pause of the others."""
        coordinator = self._coordinators.get(result.address)
        if coordinator is not None:
            coordinator.async_keep_batch_result(result)
            if result.outcome is not ProvisionOutcome.CONNECTED:
                self._refresh.add(result.address)  # the outcome alone does not tell the status
        for other in self._coordinators.values():
            if other.gate.paused:
                other.gate.async_pause(self._holder)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Resume every coordinator; read the statuses the results do not tell (background)."""
        for address, coordinator in self._coordinators.items():
            coordinator.slots.wait_timeout = None
            coordinator.gate.async_resume(self._holder)
            if address in self._refresh:
                coordinator.async_refresh_later()
