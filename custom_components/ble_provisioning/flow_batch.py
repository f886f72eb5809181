"""The config flow's "several devices" branch (the user step's menu), and its extra entries.

1. ``batch``: every discovered, not-yet-configured device, all preselected;
2. ``batch_scan`` (progress): each selected device scans, all at once within the connection
   slots (a device waits for a slot instead of failing);
3. ``batch_wifi`` / ``batch_wifi_cleartext``: the merged list of networks (how many devices see
   each, the strongest signal), the password, and, when a Bluenet device is selected, the
   clear-text acknowledgement the single-device flow requires too;
4. ``batch_provision`` (progress): the engine provisions them all; the step's description
   counts done / failed as results arrive (the flow is re-run so Home Assistant, 2025.4 and
   2026.10 alike, sends the new placeholders to the frontend; where it exists,
   ``async_update_progress`` also moves the progress bar);
5. ``batch_done``: one line per device; submitting creates an entry for each success.

One flow can create one entry itself: the first success is this flow's entry, each other one is
created by an ``integration_discovery`` flow started here with a one-time token (the prepared
entry data stays in ``hass.data``; an unknown token aborts, so no other caller can create entries
through that step). That path exists on both Home Assistant versions.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
import logging
from typing import Any, Final
import uuid

from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_ADDRESS, CONF_PASSWORD
from homeassistant.data_entry_flow import UnknownFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.typing import DiscoveryInfoType
from homeassistant.util import dt as dt_util
import voluptuous as vol

from . import const
from .batch import Member, batch_engine
from .batch_flow_data import (
    PROTOCOL_LABELS,
    entry_data,
    merge_networks,
    network_options,
    placeholders,
    result_line,
)
from .const import (
    CONF_ALLOW_CLEARTEXT,
    CONF_SSID,
    CONF_STATUS_INTERVAL,
    DEFAULT_STATUS_INTERVAL,
    DOMAIN,
)
from .device import async_forget_discovery, ha_device
from .flow_network import FlowNetwork
from .network import candidate_data
from .protocol.device import ProvisioningDevice, device_class
from .protocol.engine import DEFAULT_SLOT_TIMEOUT, DeviceResult, ProvisioningRun
from .protocol.errors import ProvisioningError
from .protocol.models import ProvisionRequest, WifiNetwork
from .slots import EntrySlots, ha_slots
from .targets import discovered
from .wifi_form import schema

_LOGGER = logging.getLogger(__name__)

CONF_DEVICES: Final = "devices"
CONF_BATCH_TOKEN: Final = "batch_token"
DATA_BATCH_ENTRIES: Final = "ble_provisioning_batch_entries"


@dataclass
class _BatchState:
    """What the batch branch of one flow holds."""

    members: list[Member] = field(default_factory=list)
    scans: dict[str, list[WifiNetwork]] = field(default_factory=dict)
    scan_time: datetime | None = None
    scan_task: asyncio.Task[dict[str, list[WifiNetwork]]] | None = None
    request: ProvisionRequest | None = None
    run_task: asyncio.Task[None] | None = None
    devices: list[ProvisioningDevice] = field(default_factory=list)
    """The scans' device objects (closed after each scan, and again when the flow ends)."""
    run: ProvisioningRun | None = None
    results: list[DeviceResult] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


async def _async_release(state: _BatchState) -> None:
    """Wait until every link of a batch branch is down."""
    if state.run is not None:
        await state.run.aclose()
    for device in state.devices:
        await device.close()


class BatchSteps(ConfigFlow):
    """The steps of the "several devices" branch (mixed into the integration's config flow)."""

    _batch_state: _BatchState | None = None

    @property
    def _batch(self) -> _BatchState:
        if self._batch_state is None:
            self._batch_state = _BatchState()
        return self._batch_state

    def _unconfigured_exclude(self) -> set[str]:
        """Return the addresses of configured devices (ignored ones may still be chosen)."""
        return {address for address in self._async_current_ids(include_ignore=False) if address}

    def async_remove_batch(self) -> None:
        """Cancel what the branch still runs; release its links in a task Home Assistant tracks.

        Home Assistant cancels a progress task itself when the flow ends, so a cancelled run's
        own cleanup may be cut short (a second cancellation): the links are released here again
        (closing and ``aclose`` are idempotent) and waited for.
        """
        state = self._batch_state
        if state is None:
            return
        for task in (state.scan_task, state.run_task):
            if task is not None and not task.done():
                task.cancel()
        self.hass.async_create_task(_async_release(state), f"{DOMAIN} batch release")

    # -------------------------------------------------------------- select

    async def async_step_batch(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """List every discovered device that is not set up; all are preselected."""
        found = {
            device.address: device for device in discovered(self.hass, self._unconfigured_exclude())
        }
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = [found[address] for address in user_input[CONF_DEVICES] if address in found]
            if chosen:
                self._batch.members = [Member.found(device) for device in chosen]
                return await self.async_step_batch_scan()
            errors[CONF_DEVICES] = "no_selection"
        if not found:
            return self.async_abort(reason="no_devices_found")
        options = [
            SelectOptionDict(
                value=address,
                label=f"{device.name} · {PROTOCOL_LABELS[device.protocol]} · {address}",
            )
            for address, device in found.items()
        ]
        return self.async_show_form(
            step_id="batch",
            data_schema=schema(
                {
                    vol.Required(CONF_DEVICES, default=list(found)): SelectSelector(
                        SelectSelectorConfig(
                            options=options, multiple=True, mode=SelectSelectorMode.LIST
                        )
                    )
                }
            ),
            errors=errors,
            description_placeholders={"count": str(len(found))},
        )

    # -------------------------------------------------------------- scan

    async def async_step_batch_scan(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let every selected device scan (within the slots)."""
        state = self._batch
        if state.scan_task is None:
            state.scan_task = self.hass.async_create_task(
                self._async_batch_scans(state.members),
                f"{DOMAIN} batch scan",
                eager_start=False,
            )
        if not state.scan_task.done():
            return self.async_show_progress(
                step_id="batch_scan",
                progress_action="batch_scanning",
                progress_task=state.scan_task,
                description_placeholders={"count": str(len(state.members))},
            )
        state.scans = state.scan_task.result()
        state.scan_time = dt_util.now()
        return self.async_show_progress_done(next_step_id="batch_wifi")

    async def _async_batch_scans(self, members: list[Member]) -> dict[str, list[WifiNetwork]]:
        slots = EntrySlots(ha_slots(self.hass))
        slots.wait_timeout = DEFAULT_SLOT_TIMEOUT  # queue for the slots as the engine's devices

        async def _scan(member: Member) -> list[WifiNetwork]:
            device = ha_device(self.hass, member.address, member.protocol, slots=slots)
            self._batch.devices.append(device)
            try:
                return await device.scan(const.SCAN_TIMEOUT)
            except ProvisioningError as err:
                _LOGGER.debug("Scanning with %s failed: %s", member.address, err)
                return []
            finally:
                await device.close()

        scans = await asyncio.gather(*(_scan(member) for member in members))
        return {member.address: networks for member, networks in zip(members, scans, strict=True)}

    # -------------------------------------------------------------- network

    def _cleartext(self) -> bool:
        return any(
            not device_class(member.protocol).capabilities.encrypted
            for member in self._batch.members
        )

    async def async_step_batch_wifi(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the network from the merged scans (or type one) and its password."""
        state = self._batch
        errors: dict[str, str] = {}
        if user_input is not None:
            state.values = {key: value for key, value in user_input.items() if key != CONF_PASSWORD}
            request: ProvisionRequest | None = None
            for member in state.members:
                request, found = member.check(self.hass, user_input)
                if request is None:
                    errors = {
                        key
                        if key in (CONF_SSID, CONF_PASSWORD, CONF_ALLOW_CLEARTEXT)
                        else "base": value
                        for key, value in found.items()
                    }
                    break
            if request is not None:
                state.request = request
                return await self.async_step_batch_provision()
        merged = merge_networks(state.scans.values())
        fields: dict[Any, Any] = {
            vol.Required(CONF_SSID): SelectSelector(
                SelectSelectorConfig(
                    options=network_options(merged, len(state.members)),
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Optional(CONF_PASSWORD): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
            ),
        }
        cleartext = self._cleartext()
        if cleartext:
            fields[vol.Required(CONF_ALLOW_CLEARTEXT, default=False)] = BooleanSelector()
        suggested = state.values or ({CONF_SSID: merged[0].ssid} if merged else {})
        return self.async_show_form(
            step_id="batch_wifi_cleartext" if cleartext else "batch_wifi",
            data_schema=self.add_suggested_values_to_schema(schema(fields), suggested),
            errors=errors,
            description_placeholders={
                "count": str(len(state.members)),
                "networks": str(len(merged)),
                "scanned": str(sum(1 for networks in state.scans.values() if networks)),
            },
        )

    async_step_batch_wifi_cleartext = async_step_batch_wifi

    # -------------------------------------------------------------- provision

    def _progress(self) -> dict[str, str]:
        state = self._batch
        assert state.request is not None
        return placeholders(
            {
                "done": len(state.results),
                "failed": sum(1 for result in state.results if not result.success),
                "total": len(state.members),
                "ssid": state.request.ssid,
            }
        )

    async def async_step_batch_provision(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Provision every selected device; count done / failed meanwhile."""
        state = self._batch
        assert state.request is not None
        if state.run_task is None:
            state.run_task = self.hass.async_create_task(
                self._async_batch_run(state.request), f"{DOMAIN} batch", eager_start=False
            )
        if not state.run_task.done():
            return self.async_show_progress(
                step_id="batch_provision",
                progress_action="batch_provisioning",
                progress_task=state.run_task,
                description_placeholders=self._progress(),
            )
        return self.async_show_progress_done(next_step_id="batch_done")

    async def _async_batch_run(self, request: ProvisionRequest) -> None:
        state = self._batch
        run = state.run = batch_engine(self.hass).provision(
            [member.target() for member in state.members], request
        )
        async with run:
            async for result in run:
                state.results.append(result)
                if run.done < run.total:
                    self._async_show_new_counts(run.done / run.total)

    def _async_show_new_counts(self, fraction: float) -> None:
        """Re-run the progress step: its new placeholders reach the frontend."""

        async def _refresh() -> None:
            task = self.async_get_progress_task()
            if task is None or task.done():
                return  # Home Assistant moves the flow on itself once the task is done
            with suppress(UnknownFlow):
                await self.hass.config_entries.flow.async_configure(self.flow_id)

        self.hass.async_create_task(_refresh(), f"{DOMAIN} batch progress", eager_start=False)
        update = getattr(self, "async_update_progress", None)
        if update is not None:  # Home Assistant 2024.12+: the progress bar
            update(fraction)

    # -------------------------------------------------------------- results

    async def async_step_batch_done(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show each device's result; on submit, create an entry for each success."""
        state = self._batch
        names = {member.address: member.name for member in state.members}
        order = {member.address: index for index, member in enumerate(state.members)}
        results = sorted(state.results, key=lambda result: order[result.address])
        lines = "\n".join(result_line(result) for result in results)
        successes = [result for result in results if result.success]
        counts = {"results": lines, "succeeded": len(successes), "total": len(results)}
        if not successes:
            return self.async_abort(
                reason="batch_none_succeeded", description_placeholders=placeholders(counts)
            )
        if user_input is None:
            return self.async_show_form(
                step_id="batch_done", description_placeholders=placeholders(counts)
            )
        first, *others = successes
        pending: dict[str, tuple[str, dict[str, Any]]] = self.hass.data.setdefault(
            DATA_BATCH_ENTRIES, {}
        )
        for result in successes:
            async_forget_discovery(self.hass, result.address, rediscover=False)
        for result in others:
            token = uuid.uuid4().hex
            pending[token] = (names[result.address], self._batch_entry_data(result))
            self.hass.async_create_task(
                self.hass.config_entries.flow.async_init(
                    DOMAIN,
                    context={"source": SOURCE_INTEGRATION_DISCOVERY},
                    data={CONF_BATCH_TOKEN: token},
                ),
                f"{DOMAIN} batch entry {result.address}",
            )
        await self.async_set_unique_id(first.address, raise_on_progress=False)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=names[first.address],
            data=self._batch_entry_data(first),
            options={CONF_STATUS_INTERVAL: DEFAULT_STATUS_INTERVAL},
        )

    def _batch_entry_data(self, result: DeviceResult) -> dict[str, Any]:
        """Return a joined device's entry data, with its Wi-Fi MAC candidates (as one flow's)."""
        state = self._batch
        data = entry_data(result, state.scans.get(result.address), state.scan_time)
        return data | candidate_data(FlowNetwork.candidates(result.protocol, result.address))

    async def async_step_integration_discovery(
        self, discovery_info: DiscoveryInfoType
    ) -> ConfigFlowResult:
        """Create the entry a batch prepared (the token names it; anything else aborts)."""
        pending: dict[str, tuple[str, dict[str, Any]]] = self.hass.data.get(DATA_BATCH_ENTRIES, {})
        prepared = pending.pop(str(discovery_info.get(CONF_BATCH_TOKEN)), None)
        if prepared is None:
            return self.async_abort(reason="not_supported_device")
        title, data = prepared
        await self.async_set_unique_id(data[CONF_ADDRESS], raise_on_progress=False)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=title, data=data, options={CONF_STATUS_INTERVAL: DEFAULT_STATUS_INTERVAL}
        )
