"""The ``move_fleet`` action: a canary first, then waves; stop at the first failure."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from bench.proxy import VirtualProxy
from custom_components.ble_provisioning.const import CONF_LAST_SSID, DOMAIN
from custom_components.ble_provisioning.protocol.engine import DEFAULT_SLOT_TIMEOUT
from custom_components.ble_provisioning.slots import EntrySlots

from .batch_bench import (
    MIXED,
    NEW_PASSWORD,
    NEW_SSID,
    FleetDevice,
    add_fleet,
    assert_released,
    configure,
    watch_slots,
)
from .conftest import PASSWORD, Bench, wait_for

KINDS = MIXED


async def _move(hass: HomeAssistant, data: dict[str, Any], response: bool = True) -> Any:
    return await hass.services.async_call(
        DOMAIN, "move_fleet", data, blocking=True, return_response=response
    )


def _data(devices: list[FleetDevice], **extra: Any) -> dict[str, Any]:
    return {
        "device_id": [device.device_id for device in devices],
        "ssid": NEW_SSID,
        "password": NEW_PASSWORD,
        "allow_cleartext": True,
        **extra,
    }


def _last_ssid(hass: HomeAssistant, device: FleetDevice) -> Any:
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, device.address)
    assert entry is not None
    return entry.data[CONF_LAST_SSID]


def _paused(hass: HomeAssistant, device: FleetDevice) -> bool:
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, device.address)
    assert entry is not None
    return bool(entry.runtime_data.gate.paused)


def _entry_slots(hass: HomeAssistant, device: FleetDevice) -> EntrySlots:
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, device.address)
    assert entry is not None
    slots: EntrySlots = entry.runtime_data.slots
    return slots


@pytest.mark.proxy_slots(2)
async def test_move_fleet(hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy) -> None:
    """Five devices move: the canary (chosen) first and confirmed, then waves of two."""
    devices = await add_fleet(bench, KINDS)
    await configure(hass, devices)
    await hass.async_block_till_done(wait_background_tasks=True)
    canary = devices[2]
    watch = watch_slots(virtual_proxy)
    try:
        move = asyncio.create_task(
            _move(hass, _data(devices, canary=canary.device_id, wave_size=2))
        )
        # While the move runs, every entry is paused: its actions are refused, not interleaved.
        await wait_for(lambda: all(_paused(hass, device) for device in devices))
        # ... and their devices queue for slots as long as the batch's own (not one connect's).
        assert {_entry_slots(hass, device).wait_timeout for device in devices} == {
            DEFAULT_SLOT_TIMEOUT
        }
        with pytest.raises(HomeAssistantError) as busy:
            await hass.services.async_call(
                DOMAIN,
                "get_status",
                {"device_id": devices[0].device_id},
                blocking=True,
                return_response=True,
            )
        assert busy.value.translation_key == "device_busy"
        response = await move
    finally:
        watch.unsubscribe()
    assert response["completed"] is True
    assert response["canary"]["address"] == canary.address
    assert response["canary"]["verified"] is True
    moved = [item["address"] for item in response["moved"]]
    assert moved[0] == canary.address
    assert sorted(moved) == sorted(device.address for device in devices)
    assert response["failed"] == []
    assert response["untouched"] == []
    assert all(item["device_id"] for item in response["moved"])
    for device in devices:
        assert _last_ssid(hass, device) == NEW_SSID
        assert not _paused(hass, device)
        assert _entry_slots(hass, device).wait_timeout is None
    assert devices[0].sta_ssid == NEW_SSID.encode()
    assert 1 <= watch.most <= 2
    await hass.async_block_till_done(wait_background_tasks=True)
    assert_released(hass, virtual_proxy)


@pytest.mark.proxy_slots(2)
async def test_move_fleet_canary_fails(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """The canary cannot join: nothing else is touched, and the response says who is where."""
    devices = await add_fleet(bench, ["blufi-v2", "blufi-v1", "blufi-v2", "blufi-v1"], wrong={1})
    await configure(hass, devices)
    await hass.async_block_till_done(wait_background_tasks=True)
    canary = devices[1]
    before = {device.address: device.sta_ssid for device in devices}
    response = await _move(hass, _data(devices, canary=canary.device_id, wave_size=3))
    assert response["completed"] is False
    assert response["canary"]["address"] == canary.address
    assert response["canary"]["status"] == "wrong_password"
    assert response["moved"] == []
    assert [item["address"] for item in response["failed"]] == [canary.address]
    others = [device for device in devices if device is not canary]
    assert response["untouched"] == [
        {"device_id": device.device_id, "address": device.address, "name": f"Device {number}"}
        for number, device in enumerate(devices, start=1)
        if device is not canary
    ]
    for device in others:
        assert device.sta_ssid == before[device.address]  # never given the new network
        assert _last_ssid(hass, device) == "HomeNet"
    assert canary.sta_ssid == NEW_SSID.encode()  # it tried
    # Without a response the same stop is an error (an automation must not go on silently).
    with pytest.raises(HomeAssistantError) as err:
        await _move(hass, _data(devices, canary=canary.device_id), response=False)
    assert err.value.translation_key == "move_stopped"
    assert err.value.translation_placeholders == {"moved": "0", "failed": "1", "untouched": "3"}
    for device in others:
        assert device.sta_ssid == before[device.address]
    await hass.async_block_till_done(wait_background_tasks=True)
    assert_released(hass, virtual_proxy)


async def test_move_fleet_validation(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """The canary must be one of the devices; Bluenet needs the clear-text acknowledgement."""
    devices = await add_fleet(bench, ["blufi-v2", "bluenet", "blufi-v1"])
    await configure(hass, devices)
    with pytest.raises(ServiceValidationError) as err:
        await _move(hass, _data(devices[:2], canary=devices[2].device_id))
    assert err.value.translation_key == "invalid_canary"
    with pytest.raises(ServiceValidationError) as err:
        await _move(hass, _data(devices, allow_cleartext=False))
    assert err.value.translation_key == "cleartext_not_allowed"
    assert all(device.sta_ssid != NEW_SSID.encode() for device in (devices[0], devices[2]))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert_released(hass, virtual_proxy)


@pytest.mark.proxy_slots(2)
async def test_fleet_flow(hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy) -> None:
    """The user step's fleet choice: canary, waves, the report at the end; a canary failure."""
    devices = await add_fleet(bench, ["blufi-v2", "bluenet", "blufi-v1", "blufi-v2"], wrong={3})
    await configure(hass, devices)
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["menu_options"] == ["fleet"]  # nothing unconfigured in range
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "fleet"})
    assert result["step_id"] == "fleet"
    data = {
        "devices": [device.address for device in devices[:3]],
        "canary": devices[1].address,
        "ssid": NEW_SSID,
        "password": NEW_PASSWORD,
        "allow_cleartext": False,
        "wave_size": 2,
    }
    result = await hass.config_entries.flow.async_configure(flow_id, data | {"devices": []})
    assert result["errors"] == {"devices": "no_selection"}
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    assert result["errors"] == {"allow_cleartext": "cleartext_not_allowed"}  # a Bluenet device
    gate = hass.config_entries.async_entry_for_domain_unique_id(  # type: ignore[union-attr]
        DOMAIN, devices[2].address
    ).runtime_data.gate
    gate.async_pause("a-reconfigure-flow")
    result = await hass.config_entries.flow.async_configure(
        flow_id, data | {"allow_cleartext": True}
    )
    assert result["errors"] == {"base": "device_busy"}
    assert not _paused(hass, devices[0])  # nothing was paused for the refused move
    gate.async_resume("a-reconfigure-flow")
    result = await hass.config_entries.flow.async_configure(
        flow_id, data | {"canary": devices[3].address, "allow_cleartext": True}
    )
    assert result["errors"] == {"canary": "invalid_canary"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, data | {"allow_cleartext": True}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "fleet_moving"
    assert all(_paused(hass, device) for device in devices[:3])
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "fleet_moved"
    placeholders = result["description_placeholders"]
    assert (placeholders["moved"], placeholders["failed"], placeholders["total"]) == ("3", "0", "3")
    assert f"({devices[1].address}): connected" in placeholders["results"].splitlines()[0]
    for device in devices[:3]:
        assert _last_ssid(hass, device) == NEW_SSID
        assert not _paused(hass, device)
    assert _last_ssid(hass, devices[3]) == "HomeNet"  # not chosen

    # The canary cannot join: the report says who is where.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    flow_id = result["flow_id"]
    await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "fleet"})
    data = {
        "devices": [devices[0].address, devices[3].address, devices[2].address],
        "canary": devices[3].address,
        "ssid": "HomeNet",
        "password": PASSWORD,
        "wave_size": 5,
    }
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["reason"] == "fleet_stopped"
    placeholders = result["description_placeholders"]
    assert (placeholders["moved"], placeholders["failed"], placeholders["untouched"]) == (
        "0",
        "1",
        "2",
    )
    assert "wrong_password" in placeholders["results"]
    assert _last_ssid(hass, devices[0]) == NEW_SSID  # untouched: still on the network it had
    await hass.async_block_till_done(wait_background_tasks=True)
    assert_released(hass, virtual_proxy)


@pytest.mark.proxy_slots(1)
async def test_fleet_flow_aborted(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """Closing the flow during the move: no link, no slot, no entry left paused."""
    devices = await add_fleet(bench, ["blufi-v2", "blufi-v1", "blufi-v2"])
    await configure(hass, devices)
    await hass.async_block_till_done(wait_background_tasks=True)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    flow_id = result["flow_id"]
    await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "fleet"})
    data = {
        "devices": [device.address for device in devices],
        "ssid": NEW_SSID,
        "password": NEW_PASSWORD,
        "wave_size": 2,
    }
    result = await hass.config_entries.flow.async_configure(flow_id, data)
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await wait_for(lambda: bool(virtual_proxy.allocated))  # the canary is connected
    hass.config_entries.flow.async_abort(flow_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not any(_paused(hass, device) for device in devices)
    assert_released(hass, virtual_proxy)
