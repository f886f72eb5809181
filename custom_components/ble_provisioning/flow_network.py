"""The config flow's last part: where the device is on the network, and the hand-off.

After a successful provisioning the flow waits at most :data:`~.const.NETWORK_WAIT` seconds for
the device to show up, when anything can tell: Home Assistant's DHCP discovery data (newer Home
Assistant; see :func:`~.network.async_known_sighting`) for the Wi-Fi MAC candidates, or the host
name the device reported (Bluenet), resolved off the event loop. When nothing can tell (an ESP32
on Home Assistant without that data), it does not wait and the final step says so honestly; the
IP address then appears on the device page once the DHCP discovery reports the device.
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
import voluptuous as vol

from . import const
from .const import CONF_CONTINUE_SETUP, DOMAIN
from .handoff import NEXT_FLOW_SUPPORTED, HandoffFlow, async_flow_exists, async_handoff_flows
from .network import Sighting, async_known_sighting, async_resolve
from .protocol.identity import network_identity
from .protocol.models import Protocol
from .wifi_form import schema


class FlowNetwork:
    """One flow's wait for the device on the network, and its hand-off."""

    def __init__(
        self, hass: HomeAssistant, protocol: Protocol, address: str, hostname: str | None
    ) -> None:
        """Know the device; start nothing yet."""
        self._hass = hass
        self._address = address
        self._identity = network_identity(protocol, address, hostname=hostname)
        self._task: asyncio.Task[Sighting | None] | None = None
        self.handoff: HandoffFlow | None = None

    @staticmethod
    def candidates(protocol: Protocol, address: str) -> tuple[str, ...]:
        """Return the Wi-Fi MAC candidates of a device (see :mod:`.protocol.identity`)."""
        return network_identity(protocol, address).mac_candidates

    @property
    def _can_tell(self) -> bool:
        """Whether anything can report the device's address during the flow."""
        if self._identity.hostname:
            return True
        if not self._identity.mac_candidates or "dhcp" not in self._hass.config.components:
            return False
        from homeassistant.components import dhcp  # noqa: PLC0415 - loaded only when set up

        return hasattr(dhcp, "async_discovered_service_info")

    def async_wait(self) -> asyncio.Task[Sighting | None] | None:
        """Start (once) and return the bounded wait; None when nothing could tell."""
        if self._task is None and self._can_tell:
            self._task = self._hass.async_create_task(
                self._async_wait(), f"{DOMAIN} network {self._address}", eager_start=False
            )
        return self._task

    @property
    def sighting(self) -> Sighting | None:
        """Where the device was seen (None: not yet, or still waiting)."""
        if self._task is None or not self._task.done() or self._task.cancelled():
            return None
        return self._task.result()

    async def _async_wait(self) -> Sighting | None:
        try:
            async with asyncio.timeout(const.NETWORK_WAIT):
                if self._identity.hostname:
                    ip = await async_resolve(self._identity.hostname)
                    if ip is not None:
                        return Sighting(ip)
                while self._identity.mac_candidates:
                    found = async_known_sighting(self._hass, self._identity.mac_candidates)
                    if found is not None:
                        return found
                    await asyncio.sleep(const.NETWORK_POLL)
        except TimeoutError:
            pass
        return None

    async def async_find_handoff(self) -> None:
        """Find another integration's discovery flow for this device (the first one)."""
        macs = [*self._identity.mac_candidates, self._address]
        sighting = self.sighting
        if sighting is not None and sighting.mac is not None:
            macs.append(sighting.mac)
        hostnames = [self._identity.hostname, sighting.hostname if sighting else None]
        flows = await async_handoff_flows(self._hass, macs=macs, hostnames=hostnames)
        self.handoff = flows[0] if flows else None

    def finish_schema(self) -> Any:
        """Return the final step's form: a choice only when there is a flow to continue into."""
        if self.handoff is None:
            return schema({})
        return schema({vol.Optional(CONF_CONTINUE_SETUP, default=True): bool})

    def handoff_result(self, continue_setup: bool) -> dict[str, Any]:
        """Extra arguments of the created entry's result for the hand-off.

        With ``next_flow`` (Home Assistant 2025.10+) the frontend continues into the other flow;
        without it, or when that flow ended meanwhile, the result names the integration whose
        card the user opens under Discovered.
        """
        handoff = self.handoff
        if not continue_setup or handoff is None:
            return {}
        if NEXT_FLOW_SUPPORTED and async_flow_exists(self._hass, handoff.flow_id):
            flow_type = getattr(config_entries, "FlowType")  # noqa: B009 - not in 2025.4
            return {"next_flow": (flow_type.CONFIG_FLOW, handoff.flow_id)}
        return {
            "description": "handoff_manual",
            "description_placeholders": {"integration": handoff.name},
        }

    def async_end(self) -> None:
        """Stop waiting (the flow ended)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
