"""The config flow's "move devices to a new network" branch (the user step's menu).

Home Assistant has no integration-wide options flow (options belong to one entry), so the fleet
move is a choice of the user step's menu, next to adding devices; it creates no entry and ends
with the report (an abort carrying it):

1. ``fleet``: the loaded entries (all preselected), the canary (default: the first), the new
   network, its password, the clear-text acknowledgement (required when a Bluenet device is
   among them) and the wave size;
2. ``fleet_move`` (progress): as the ``move_fleet`` action — the canary first, confirmed by a
   status read, then waves; stops at the first failure; the entries are paused meanwhile and keep
   each result; the description counts moved / failed as results arrive;
3. the end: which devices moved, which failed (with their outcome) and which were not touched.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.const import CONF_PASSWORD
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .batch import EntryHold, Member, batch_engine
from .batch_flow_data import PROTOCOL_LABELS, placeholders, result_line
from .const import CONF_ALLOW_CLEARTEXT, CONF_SSID, DOMAIN
from .coordinator import BleProvisioningConfigEntry
from .flow_batch import BatchSteps
from .protocol.fleet import FleetMove
from .protocol.models import ProvisionRequest
from .wifi_form import schema

CONF_DEVICES: Final = "devices"
CONF_CANARY: Final = "canary"
CONF_WAVE_SIZE: Final = "wave_size"
MAX_WAVE_SIZE: Final = 20


@dataclass
class _FleetState:
    members: list[Member] = field(default_factory=list)
    canary: str | None = None
    wave_size: int = 5
    request: ProvisionRequest | None = None
    move: FleetMove | None = None
    hold: EntryHold | None = None
    task: asyncio.Task[None] | None = None
    values: dict[str, Any] = field(default_factory=dict)


async def _async_release(task: asyncio.Task[None], move: FleetMove) -> None:
    """Wait for the cancelled move, then release what its cut-short cleanup left (idempotent).

    Home Assistant cancels a progress task itself when the flow ends: a second cancellation can
    end the task before its wave's links are down. ``aclose`` must not run while the task is still
    inside the move (its iterator is busy), hence the wait first.
    """
    await asyncio.gather(task, return_exceptions=True)
    await move.aclose()


class FleetSteps(BatchSteps):
    """The steps of the fleet move branch (mixed into the integration's config flow)."""

    _fleet_state: _FleetState | None = None

    @property
    def _fleet(self) -> _FleetState:
        if self._fleet_state is None:
            self._fleet_state = _FleetState()
        return self._fleet_state

    def _loaded_entries(self) -> dict[str, BleProvisioningConfigEntry]:
        """Return the loaded entries by address."""
        return {
            entry.unique_id: entry
            for entry in self.hass.config_entries.async_entries(DOMAIN)
            if entry.unique_id and entry.state is ConfigEntryState.LOADED
        }

    def async_remove_batch(self) -> None:
        """Cancel a running move too (its wave's links are released)."""
        super().async_remove_batch()
        state = self._fleet_state
        if state is None or state.task is None or state.task.done():
            return
        state.task.cancel()
        if state.move is not None:
            self.hass.async_create_task(
                _async_release(state.task, state.move), f"{DOMAIN} fleet release"
            )

    async def async_step_fleet(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the devices, the canary, the network and the wave size."""
        state = self._fleet
        entries = self._loaded_entries()
        if not entries:
            return self.async_abort(reason="no_devices_found")
        errors: dict[str, str] = {}
        if user_input is not None:
            state.values = {k: v for k, v in user_input.items() if k != CONF_PASSWORD}
            errors = self._fleet_input(entries, user_input)
            if not errors:
                try:  # pause the entries now: a busy one is refused here, on the form
                    state.hold = EntryHold(state.members, "fleet_flow").__enter__()
                except HomeAssistantError as err:
                    errors = {"base": err.translation_key or "device_busy"}
                else:
                    return await self.async_step_fleet_move()
        options = [
            SelectOptionDict(
                value=address,
                label=f"{entry.title} · "
                f"{PROTOCOL_LABELS[entry.runtime_data.device.protocol]} · {address}",
            )
            for address, entry in entries.items()
        ]
        fields: dict[Any, Any] = {
            vol.Required(CONF_DEVICES, default=list(entries)): SelectSelector(
                SelectSelectorConfig(options=options, multiple=True, mode=SelectSelectorMode.LIST)
            ),
            vol.Optional(CONF_CANARY): SelectSelector(
                SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
            ),
            vol.Required(CONF_SSID): TextSelector(),
            vol.Optional(CONF_PASSWORD): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
            ),
            vol.Required(CONF_ALLOW_CLEARTEXT, default=False): BooleanSelector(),
            vol.Required(CONF_WAVE_SIZE, default=5): NumberSelector(
                NumberSelectorConfig(min=1, max=MAX_WAVE_SIZE, step=1, mode=NumberSelectorMode.BOX)
            ),
        }
        return self.async_show_form(
            step_id="fleet",
            data_schema=self.add_suggested_values_to_schema(schema(fields), state.values),
            errors=errors,
            description_placeholders={"count": str(len(entries))},
        )

    def _fleet_input(
        self, entries: dict[str, BleProvisioningConfigEntry], user_input: dict[str, Any]
    ) -> dict[str, str]:
        """Keep the checked input in the state; return the form errors."""
        state = self._fleet
        chosen = [entries[address] for address in user_input[CONF_DEVICES] if address in entries]
        if not chosen:
            return {CONF_DEVICES: "no_selection"}
        canary = user_input.get(CONF_CANARY) or None
        if canary is not None and canary not in {entry.unique_id for entry in chosen}:
            return {CONF_CANARY: "invalid_canary"}
        members = [Member.configured(self.hass, entry.runtime_data) for entry in chosen]
        for member in members:
            request, found = member.check(self.hass, user_input)
            if request is None:
                field_name, reason = next(iter(found.items()))
                known = (CONF_SSID, CONF_PASSWORD, CONF_ALLOW_CLEARTEXT)
                return {field_name if field_name in known else "base": reason}
            state.request = request
        state.members = members
        state.canary = canary
        state.wave_size = int(user_input[CONF_WAVE_SIZE])
        return {}

    def _fleet_counts(self) -> dict[str, str]:
        state = self._fleet
        report = state.move.report if state.move is not None else None
        return placeholders(
            {
                "moved": 0 if report is None else len(report.moved),
                "failed": 0 if report is None else len(report.failed),
                "total": len(state.members),
                "ssid": state.request.ssid if state.request else "",
            }
        )

    async def async_step_fleet_move(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the devices: the canary first, then the waves."""
        state = self._fleet
        if state.task is None:
            assert state.request is not None
            assert state.hold is not None
            state.move = FleetMove(
                batch_engine(self.hass),
                [member.target() for member in state.members],
                state.request,
                wave_size=state.wave_size,
                canary=state.canary,
            )
            state.task = self.hass.async_create_task(
                self._async_fleet_run(state.move, state.hold), f"{DOMAIN} fleet", eager_start=False
            )
        if not state.task.done():
            return self.async_show_progress(
                step_id="fleet_move",
                progress_action="fleet_moving",
                progress_task=state.task,
                description_placeholders=self._fleet_counts(),
            )
        return self.async_show_progress_done(next_step_id="fleet_done")

    async def _async_fleet_run(self, move: FleetMove, hold: EntryHold) -> None:
        total = len(self._fleet.members)
        try:
            async with move:
                async for result in move:
                    hold.keep(result)
                    done = len(move.report.moved) + len(move.report.failed)
                    if done < total:
                        self._async_show_new_counts(done / total)
        finally:
            hold.__exit__(None, None, None)

    async def async_step_fleet_done(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """End with the report: moved, failed, not touched."""
        state = self._fleet
        assert state.move is not None
        report = state.move.report
        names = {member.address: member.name for member in state.members}
        lines = [result_line(result) for result in (*report.moved, *report.failed)]
        lines += [f"- ⏸ {names[address]} ({address}): untouched" for address in report.untouched]
        return self.async_abort(
            reason="fleet_moved" if report.completed else "fleet_stopped",
            description_placeholders=self._fleet_counts()
            | {"untouched": str(len(report.untouched)), "results": "\n".join(lines)},
        )
