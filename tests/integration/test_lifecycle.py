"""Issue 10, item 11: closing, the reconfigure pause (blocks everything, expires), unloading.

Lingering timers and tasks are checked by pytest-homeassistant-custom-component itself after
every test (its ``verify_cleanup`` fixture fails a test that leaves one behind): the unload
tests below therefore also prove that nothing lingers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from bench.emulators.blufi import BlufiDeviceConfig, BlufiFaults, Esp32BlufiEmulator, WifiAp
from custom_components.ble_provisioning import const
from custom_components.ble_provisioning.config_flow import BleProvisioningConfigFlow
from custom_components.ble_provisioning.const import DOMAIN

from .conftest import (
    BLUFI_ADDRESS,
    PASSWORD,
    Bench,
    blufi_networks,
    make_entry,
    setup_entry,
    wait_for,
)
from .helpers import device_for, submit_wifi

WIFI_STATE = "sensor.test_device_wi_fi_state"

#: Every action with the data it needs (the BluFi device supports all of them).
ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("provision_wifi", {"ssid": "HomeNet", "password": PASSWORD}),
    ("scan_wifi", {}),
    ("get_status", {}),
    ("send_custom_data", {"data": "ping"}),
    ("disconnect_wifi", {}),
]
BUTTONS = ("button.test_device_scan_wi_fi", "button.test_device_refresh_status")


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=service in ("scan_wifi", "get_status")
    )


async def _assert_everything_refused(hass: HomeAssistant, key: str, text: str) -> None:
    device_id = device_for(hass, BLUFI_ADDRESS).id
    for service, data in ACTIONS:
        with pytest.raises(HomeAssistantError) as err:
            await _call(hass, service, {"device_id": device_id, **data})
        assert err.value.translation_key == key, service
        assert text in str(err.value)
    for button in BUTTONS:
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
        assert err.value.translation_key == key, button


async def test_reconfigure_pause_blocks_every_operation_and_expires(
    hass: HomeAssistant, bench: Bench
) -> None:
    """While a reconfigure flow holds the device, actions, buttons and refreshes are refused
    with a translated "busy" error; an abandoned flow's pause ends by itself, and the flow
    takes the device back at its next step.
    """
    emulator = await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    coordinator = entry.runtime_data
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "wifi"
    await wait_for(lambda: not emulator.connections)
    connections = emulator.model.connections

    await _assert_everything_refused(
        hass,
        "device_busy",
        "Test device is being reconfigured; try again when the "
        "reconfiguration is finished (a reconfiguration left open ends after 10 minutes)",
    )
    data = coordinator.data
    await coordinator.async_refresh()
    assert coordinator.data is data
    assert coordinator.last_update_success
    # The device comes back into view: no refresh starts behind the flow's back.
    coordinator.last_update_success = False
    coordinator._async_advertisement(None, None)
    await hass.async_block_till_done()
    coordinator.last_update_success = True
    assert emulator.model.connections == connections
    assert not emulator.model.sta_ssid

    # The user walks away: the pause expires. (The clock jump fires every timer that falls
    # due, the radio's too: let the radio finish what it is doing first.)
    await bench.radio.settle()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=const.PAUSE_TIMEOUT + 1))
    await hass.async_block_till_done()
    assert not coordinator.gate.paused
    response = await _call(hass, "get_status", {"device_id": device_for(hass, BLUFI_ADDRESS).id})
    assert response["state"] == "disconnected"

    # The user comes back and submits: the flow pauses the entry again and provisions.
    result = await submit_wifi(hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert bytes(emulator.model.sta_ssid) == b"HomeNet"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert not entry.runtime_data.gate.paused


async def test_reconfigure_uses_the_entry_device(hass: HomeAssistant, bench: Bench) -> None:
    """A reconfigure flow of a loaded entry uses the coordinator's own device object (one lock,
    one link for the address); closing the flow gives the device back.
    """
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    coordinator = entry.runtime_data
    result = await entry.start_reconfigure_flow(hass)
    flow = cast("BleProvisioningConfigFlow", hass.config_entries.flow._progress[result["flow_id"]])
    assert flow._device is coordinator.device
    assert coordinator.gate.paused
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert not coordinator.gate.paused
    assert not coordinator.device.closed
    await hass.services.async_call(
        "button", "press", {"entity_id": BUTTONS[1]}, blocking=True
    )  # usable again


async def test_closing_refuses_everything(hass: HomeAssistant, bench: Bench) -> None:
    """From the start of an unload every operation is refused; events are not fired."""
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    coordinator = entry.runtime_data
    events: list[str] = []
    coordinator.async_add_event_listener(lambda event_type, _: events.append(event_type))
    await coordinator.async_close()
    await _assert_everything_refused(hass, "device_closed", f"{BLUFI_ADDRESS} is being unloaded")
    coordinator._async_custom_data(b"late")
    assert not events
    data = coordinator.data
    await coordinator.async_refresh()
    assert coordinator.data is data
    # A pause asked for while closing changes nothing.
    coordinator.gate.async_pause("flow")
    assert not coordinator.gate.paused


def _slow_environment() -> list[WifiAp]:
    networks = blufi_networks()
    networks.append(WifiAp("Slow", rssi=-50, password=PASSWORD, connect_delay=30))
    return networks


PHASES: dict[str, tuple[str, BlufiFaults, Callable[[Esp32BlufiEmulator, int], bool]]] = {
    # The device never answers the key exchange: the client waits for its public key.
    "key_exchange": (
        "HomeNet",
        BlufiFaults(ignore_writes_from=1),
        lambda e, n: len(e.model.writes) > n + 1,
    ),
    # The device goes silent at the Wi-Fi mode frame: the client waits for its ACK.
    "credentials": (
        "HomeNet",
        BlufiFaults(ignore_writes_from=7),
        lambda e, n: len(e.model.writes) > n + 7,
    ),
    # The device takes 30 s to join: the client polls for the outcome.
    "outcome": ("Slow", BlufiFaults(), lambda e, n: e.model.connect_requests > 0),
}


@pytest.mark.parametrize("phase", list(PHASES))
async def test_unload_during_provisioning(hass: HomeAssistant, bench: Bench, phase: str) -> None:
    """Unloading mid-provisioning cancels it at once, releases the link, fails the action with
    a translated error, and an operation queued behind it never reconnects.
    """
    ssid, faults, reached = PHASES[phase]
    emulator = await bench.blufi(BlufiDeviceConfig(networks=_slow_environment(), seed=3))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(const, "PROVISION_TIMEOUT", 60.0)
        patch.setattr(const, "CONNECT_TIMEOUT", 60.0)
        entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
        coordinator = entry.runtime_data
        device_id = device_for(hass, BLUFI_ADDRESS).id
        emulator.model.config.faults = faults
        writes = len(emulator.model.writes)
        provisioning = hass.async_create_task(
            _call(
                hass, "provision_wifi", {"device_id": device_id, "ssid": ssid, "password": PASSWORD}
            )
        )
        queued = hass.async_create_task(_call(hass, "get_status", {"device_id": device_id}))
        await wait_for(lambda: reached(emulator, writes))
        connections = emulator.model.connections
        assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    for task in (provisioning, queued):
        with pytest.raises(HomeAssistantError) as err:
            await task
        assert err.value.translation_key == "device_closed"
    assert coordinator.device.closed
    assert not coordinator.device.is_connected
    await wait_for(lambda: not emulator.connections)
    await hass.async_block_till_done()
    assert emulator.model.connections == connections
    # Nothing of the entry is left running.
    assert not coordinator.gate._operations
    assert not [task for task in asyncio.all_tasks() if DOMAIN in task.get_name()]
