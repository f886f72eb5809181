"""The ``provision_many`` action, and an entry's coordinator waiting for a proxy slot."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest

from bench.proxy import VirtualProxy
from custom_components.ble_provisioning.const import CONF_LAST_SSID, DOMAIN
from custom_components.ble_provisioning.device import ha_device
from custom_components.ble_provisioning.protocol.models import Protocol
from custom_components.ble_provisioning.slots import ha_slots

from .batch_bench import (
    MIXED,
    NEW_PASSWORD,
    NEW_SSID,
    add_fleet,
    assert_released,
    configure,
    watch_slots,
)
from .conftest import PASSWORD, Bench, wait_for

KINDS = MIXED
WRONG = 3


async def _provision_many(hass: HomeAssistant, data: dict[str, Any], response: bool = True) -> Any:
    return await hass.services.async_call(
        DOMAIN, "provision_many", data, blocking=True, return_response=response
    )


@pytest.mark.proxy_slots(2)
async def test_provision_many(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """Five devices (two configured, three discovered), two slots, one wrong password."""
    devices = await add_fleet(bench, KINDS, wrong={WRONG})
    await configure(hass, devices[:2])
    await hass.async_block_till_done(wait_background_tasks=True)
    watch = watch_slots(virtual_proxy)
    override = devices[4].address
    try:
        response = await _provision_many(
            hass,
            {
                "device_id": [devices[0].device_id, devices[1].device_id],
                "address": [device.address.lower() for device in devices[2:]],
                "ssid": NEW_SSID,
                "password": NEW_PASSWORD,
                "allow_cleartext": True,
                "overrides": {override: {"ssid": "HomeNet", "password": PASSWORD}},
            },
        )
    finally:
        watch.unsubscribe()
    assert (response["total"], response["succeeded"], response["failed"]) == (5, 4, 1)
    results = response["results"]
    # In the order given, each with its device id (configured) and its own figures.
    assert [item["address"] for item in results] == [device.address for device in devices]
    assert [item["device_id"] for item in results] == [
        devices[0].device_id,
        devices[1].device_id,
        None,
        None,
        None,
    ]
    for index, item in enumerate(results):
        assert item["attempts"] >= 1
        assert item["duration"] >= 0
        if index == WRONG:
            assert not item["success"]
            assert item["status"] == "wrong_password"
            assert item["outcome"] == "wrong_password"
        else:
            assert item["success"], item
            assert item["status"] == "connected"
    assert results[2]["protocol"] == "bluenet"
    assert results[4]["ssid"] == "HomeNet"  # its override
    assert {item["ssid"] for item in results[:4]} == {NEW_SSID}
    # The configured devices' entries keep the new network.
    for device in devices[:2]:
        entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, device.address)
        assert entry is not None
        assert entry.data[CONF_LAST_SSID] == NEW_SSID
        assert not entry.runtime_data.gate.paused
    assert devices[0].sta_ssid == NEW_SSID.encode()
    # Never more connections than slots; at least one device waited for a slot.
    assert 1 <= watch.most <= 2
    assert ha_slots(hass).waits >= 1
    await hass.async_block_till_done(wait_background_tasks=True)
    assert_released(hass, virtual_proxy)


async def test_provision_many_validation(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """Bad input is refused, translated, before any device is contacted."""
    devices = await add_fleet(bench, ["blufi-v2", "bluenet"])
    await configure(hass, devices[:1])
    blufi, bluenet = devices
    base = {"ssid": NEW_SSID, "password": NEW_PASSWORD}
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "no_devices"),
        ({"address": ["24:0A:C4:99:99:99"]}, "unknown_address"),
        ({"device_id": ["nope"]}, "invalid_device"),
        ({"address": [bluenet.address]}, "cleartext_not_allowed"),
        ({"address": [blufi.address], "ssid": "x" * 40}, "invalid_ssid"),
        (
            {"address": [blufi.address], "overrides": {"24:0A:C4:99:99:99": {"ssid": "A"}}},
            "unknown_override",
        ),
    ]
    for data, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await _provision_many(hass, base | data)
        assert err.value.translation_key == key, data
    # A configured device being reconfigured is refused with the gate's error.
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, blufi.address)
    assert entry is not None
    entry.runtime_data.gate.async_pause("a-reconfigure-flow")
    with pytest.raises(HomeAssistantError) as busy:
        await _provision_many(hass, base | {"device_id": [blufi.device_id]})
    assert busy.value.translation_key == "device_busy"
    entry.runtime_data.gate.async_resume("a-reconfigure-flow")
    assert blufi.sta_ssid != NEW_SSID.encode()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert_released(hass, virtual_proxy)


async def test_provision_many_without_response_raises_on_failure(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """Called from an automation without a response, a failed device is an error."""
    devices = await add_fleet(bench, ["blufi-v2", "blufi-v1"], wrong={1})
    assert await async_setup_component(hass, DOMAIN, {})  # no entry: only the actions
    with pytest.raises(HomeAssistantError) as err:
        await _provision_many(
            hass,
            {
                "address": [device.address for device in devices],
                "ssid": NEW_SSID,
                "password": NEW_PASSWORD,
            },
            response=False,
        )
    assert err.value.translation_key == "batch_failed"
    assert err.value.translation_placeholders == {"failed": "1", "total": "2"}
    assert devices[0].sta_ssid == NEW_SSID.encode()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert_released(hass, virtual_proxy)


@pytest.mark.proxy_slots(1)
async def test_coordinator_waits_for_a_slot(
    hass: HomeAssistant, bench: Bench, virtual_proxy: VirtualProxy
) -> None:
    """A full proxy: an entry's status read waits for the slot instead of failing."""
    configured, other = await add_fleet(bench, ["blufi-v2", "blufi-v1"])
    await configure(hass, [configured])
    await hass.async_block_till_done(wait_background_tasks=True)
    coordinator = hass.config_entries.async_entry_for_domain_unique_id(
        DOMAIN, configured.address
    ).runtime_data  # type: ignore[union-attr]
    holder = ha_device(hass, other.address, Protocol.BLUFI, idle_timeout=60.0)
    slots = ha_slots(hass)
    try:
        await holder.identify()  # keeps the proxy's only slot
        assert virtual_proxy.allocated == [other.address]
        waits = slots.waits
        read = asyncio.create_task(coordinator.async_get_status())
        await wait_for(lambda: slots.waiting == 1)
        assert not read.done()
        assert slots.waits == waits + 1
        await holder.disconnect()  # the slot frees: the waiting read gets it
        status = await asyncio.wait_for(read, 30)
    finally:
        await holder.close()
    assert status.state is not None
    await hass.async_block_till_done(wait_background_tasks=True)
    assert_released(hass, virtual_proxy)
