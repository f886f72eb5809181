"""The config flow's "several devices" branch, end to end behind a proxy with two slots."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from bench.proxy import VirtualProxy
from custom_components.ble_provisioning.const import CONF_LAST_SSID, DOMAIN
from custom_components.ble_provisioning.flow_batch import BatchSteps

from .batch_bench import (
    MIXED,
    NEW_PASSWORD,
    NEW_SSID,
    add_fleet,
    assert_released,
    configure,
    watch_slots,
)
from .conftest import Bench, wait_for
from .helpers import flows_for, ssid_options

KINDS = MIXED
WRONG = 3


async def _after_progress(hass: HomeAssistant, flow_id: str) -> Any:
    await hass.async_block_till_done()
    return await hass.config_entries.flow.async_configure(flow_id)


@pytest.mark.proxy_slots(2)
async def test_batch_flow(hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy) -> None:
    """Five devices of both protocols, one with a wrong password: entries for the four others."""
    configured, *devices = await add_fleet(bench, ["blufi-v2", *KINDS], wrong={WRONG + 1})
    await configure(hass, [configured])
    await hass.async_block_till_done(wait_background_tasks=True)
    addresses = [device.address for device in devices]

    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["pick_device", "batch", "fleet"]  # one entry is loaded
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "batch"})
    assert result["step_id"] == "batch"
    form = result["data_schema"]
    assert form is not None
    field = next(iter(form.schema))
    options = form.schema[field].config["options"]
    listed = [option["value"] for option in options]
    assert sorted(listed) == sorted(addresses)  # not the configured device
    assert field.default() == listed  # all preselected
    labels = {option["value"]: option["label"] for option in options}
    assert "Bluenet" in labels[devices[2].address]
    assert labels[devices[0].address] == f"BLUFI_DEVICE-02 · BluFi · {devices[0].address}"

    # Every selected device scans (within the slots); the networks are merged.
    result = await hass.config_entries.flow.async_configure(flow_id, {"devices": addresses})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "batch_scanning"
    result = await _after_progress(hass, flow_id)
    assert result["step_id"] == "batch_wifi_cleartext"  # a Bluenet device is among them
    assert result["description_placeholders"]["scanned"] == "5"
    networks = {option["value"]: option["label"] for option in ssid_options(result)}
    assert networks.keys() == {"HomeNet", NEW_SSID}
    assert networks["HomeNet"] == "HomeNet (5 of 5 devices, -51 dBm)"  # the strongest

    # The clear-text acknowledgement is required, as in the single-device flow.
    data = {"ssid": NEW_SSID, "password": NEW_PASSWORD, "allow_cleartext": False}
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    assert result["errors"] == {"allow_cleartext": "cleartext_not_allowed"}

    counts: list[dict[str, str]] = []
    real_progress = BatchSteps._progress

    def _spy(flow: BatchSteps) -> dict[str, str]:
        placeholders = real_progress(flow)
        counts.append(placeholders)
        return placeholders

    watch = watch_slots(virtual_proxy)
    try:
        with patch.object(BatchSteps, "_progress", _spy):
            result = await hass.config_entries.flow.async_configure(
                flow_id, data | {"allow_cleartext": True}
            )
            assert result["type"] is FlowResultType.SHOW_PROGRESS
            assert result["progress_action"] == "batch_provisioning"
            assert result["description_placeholders"] == {
                "done": "0",
                "failed": "0",
                "total": "5",
                "ssid": NEW_SSID,
            }
            result = await _after_progress(hass, flow_id)
    finally:
        watch.unsubscribe()
    # The progress step was shown again with the counts as results arrived.
    assert any(0 < int(item["done"]) < 5 for item in counts), counts
    assert [int(item["done"]) for item in counts] == sorted(int(item["done"]) for item in counts)
    assert 1 <= watch.most <= 2

    assert result["step_id"] == "batch_done"
    placeholders = result["description_placeholders"]
    assert (placeholders["succeeded"], placeholders["total"]) == ("4", "5")
    lines = placeholders["results"].splitlines()
    assert len(lines) == 5
    assert lines[WRONG].startswith("- ❌")
    assert "wrong_password" in lines[WRONG]
    assert devices[WRONG].address in lines[WRONG]
    assert all(line.startswith("- ✅") for index, line in enumerate(lines) if index != WRONG)
    assert NEW_PASSWORD not in placeholders["results"]

    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done(wait_background_tasks=True)
    entries = {entry.unique_id: entry for entry in hass.config_entries.async_entries(DOMAIN)}
    succeeded = [device for index, device in enumerate(devices) if index != WRONG]
    assert entries.keys() == {configured.address, *(device.address for device in succeeded)}
    for device in succeeded:
        entry = entries[device.address]
        assert entry.data[CONF_LAST_SSID] == NEW_SSID
        assert entry.state is ConfigEntryState.LOADED
        assert entry.title  # the advertised name (or the protocol's fallback)
        assert NEW_PASSWORD not in repr(entry.data)
        assert not flows_for(hass, device.address)  # its discovery card went away
    assert result["result"].unique_id == succeeded[0].address
    assert_released(hass, virtual_proxy)


async def test_batch_flow_none_succeeded_and_empty_selection(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """Nothing selected is an error; a batch where every device failed ends with the list."""
    devices = await add_fleet(bench, ["blufi-v2", "blufi-v1"], wrong={0, 1})
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "batch"})
    result = await hass.config_entries.flow.async_configure(flow_id, {"devices": []})
    assert result["errors"] == {"devices": "no_selection"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"devices": [device.address for device in devices]}
    )
    result = await _after_progress(hass, flow_id)
    assert result["step_id"] == "batch_wifi"  # BluFi only: no clear-text acknowledgement
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"ssid": NEW_SSID, "password": NEW_PASSWORD}
    )
    result = await _after_progress(hass, flow_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "batch_none_succeeded"
    assert result["description_placeholders"]["results"].count("wrong_password") == 2
    assert hass.config_entries.async_entries(DOMAIN) == []
    await hass.async_block_till_done(wait_background_tasks=True)
    assert_released(hass, virtual_proxy)


@pytest.mark.proxy_slots(1)
async def test_batch_flow_aborted_while_provisioning(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """Closing the flow during the run cancels it: no connection, no slot, no entry left."""
    devices = await add_fleet(bench, ["blufi-v2", "blufi-v1", "blufi-v2"])
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    flow_id = result["flow_id"]
    await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "batch"})
    await hass.config_entries.flow.async_configure(
        flow_id, {"devices": [device.address for device in devices]}
    )
    await _after_progress(hass, flow_id)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"ssid": NEW_SSID, "password": NEW_PASSWORD}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await wait_for(lambda: bool(virtual_proxy.allocated))  # the first device is connected
    hass.config_entries.flow.async_abort(flow_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.config_entries.async_entries(DOMAIN) == []
    assert_released(hass, virtual_proxy)
