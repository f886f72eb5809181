"""Which library device object a config flow uses, and releasing it when the flow ends.

A setup flow has its own object for the selected address, whose link is kept
``FLOW_IDLE_TIMEOUT`` seconds between steps (identify, scan and provision share one
connection). A reconfigure flow of a loaded entry uses the entry coordinator's own object instead
and pauses the entry meanwhile (renewed at every step, so an abandoned flow's pause expires): one
object, one lock, one link per address.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from . import const
from .coordinator import BleProvisioningConfigEntry, BleProvisioningCoordinator
from .device import ha_device
from .protocol.device import ProvisioningDevice
from .protocol.models import Protocol


class FlowDevice:
    """The device object of one config flow."""

    def __init__(self, hass: HomeAssistant, flow_id: str) -> None:
        """Hold nothing yet."""
        self._hass = hass
        self._flow_id = flow_id
        self.device: ProvisioningDevice | None = None
        self._owned = False
        self._paused: BleProvisioningCoordinator | None = None

    @property
    def owned(self) -> bool:
        """Whether the flow created the object (and so closes it)."""
        return self._owned

    def own(self, address: str, protocol: Protocol, version: str | None) -> ProvisioningDevice:
        """Return the flow's own object for ``address`` (created on first use)."""
        self._resume()
        device = self.device
        if device is not None and self._owned and device.address == address:
            return device
        self.release()
        self.device = ha_device(
            self._hass,
            address,
            protocol,
            idle_timeout=const.FLOW_IDLE_TIMEOUT,
            version=version,
        )
        self._owned = True
        return self.device

    def of_entry(
        self,
        entry: BleProvisioningConfigEntry,
        address: str,
        protocol: Protocol,
        version: str | None,
    ) -> ProvisioningDevice:
        """Return the loaded entry's object, its coordinator paused (else an own object)."""
        if entry.state is not ConfigEntryState.LOADED or entry.runtime_data.gate.closing:
            return self.own(address, protocol, version)
        coordinator = entry.runtime_data
        coordinator.gate.async_pause(self._flow_id)  # (re)started at every step: it expires
        if self._paused is not coordinator:
            self._resume()
            self._paused = coordinator
        if self.device is not coordinator.device:
            self.release()
            self.device = coordinator.device
        return coordinator.device

    def release(self) -> None:
        """Drop the object (closing it when the flow created it)."""
        device, self.device = self.device, None
        if device is not None and self._owned:
            self._hass.async_create_task(device.close(), eager_start=True)
        self._owned = False

    def _resume(self) -> None:
        coordinator, self._paused = self._paused, None
        if coordinator is not None:
            coordinator.gate.async_resume(self._flow_id)

    async def async_done(self) -> None:
        """After a success: release the link before the entry's coordinator connects."""
        if self._owned and self.device is not None:
            await self.device.close()
        self._resume()

    def async_end(self) -> None:
        """Release everything: the flow ended or was aborted."""
        self.release()
        self._resume()
