"""Issue 10, items 13 and 4 (HA side): what the entities and the device page show."""

from __future__ import annotations

from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.ble_provisioning.const import CONF_FLOW_SCAN, DOMAIN

from .conftest import BLUFI_ADDRESS, PASSWORD, Bench, make_entry, setup_entry
from .helpers import confirm_discovery, device_for, submit_wifi

NETWORKS = "sensor.blufi_device_networks_found"
LAST_SCAN = "sensor.blufi_device_last_scan"


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_flow_scan_carried_into_the_entry(hass: HomeAssistant, bench: Bench) -> None:
    """ "Networks found" and "Last scan" show the scan the flow just made, not "unknown"; the
    scan is handed over once and not kept in the entry.
    """
    await bench.blufi()
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    result = await submit_wifi(hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    networks = hass.states.get(NETWORKS)
    assert networks is not None
    assert networks.state == "3"
    assert networks.attributes["networks"][0] == {"ssid": "HomeNet", "rssi": -45, "auth": None}
    last_scan = hass.states.get(LAST_SCAN)
    assert last_scan is not None
    assert last_scan.state != STATE_UNKNOWN
    assert CONF_FLOW_SCAN not in result["result"].data


async def test_retired_signal_sensor_is_removed(
    hass: HomeAssistant, bench: Bench, entity_registry: er.EntityRegistry
) -> None:
    """The signal strength sensor of earlier versions (always unknown while connected: ESP-IDF
    reports the RSSI only for a failed connection) leaves the entity registry.
    """
    await bench.blufi()
    entry = make_entry(BLUFI_ADDRESS, "blufi")
    entry.add_to_hass(hass)
    stale = entity_registry.async_get_or_create(
        "sensor", DOMAIN, f"{BLUFI_ADDRESS}_wifi_rssi", config_entry=entry
    )
    await setup_entry(hass, entry)
    assert entity_registry.async_get(stale.entity_id) is None
    assert device_for(hass, BLUFI_ADDRESS).sw_version is None


async def test_deliberate_disconnect_is_not_a_failure(hass: HomeAssistant, bench: Bench) -> None:
    """After ``disconnect_wifi`` the Wi-Fi state is "disconnected" and the failure reason
    "none": the whole path from the device's report to the entities and ``get_status``.

    After DISCONN_FROM_AP, ESP-IDF's example (and the emulator, which follows it) reports a
    failed state without an end reason: it records none for a station that was connected.
    Firmware that reports end reason 8 (ASSOC_LEAVE) instead maps to "disconnected" too (the
    library's mapping).
    """
    emulator = await bench.blufi()
    await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    device_id = device_for(hass, BLUFI_ADDRESS).id
    await hass.services.async_call(
        DOMAIN,
        "provision_wifi",
        {"device_id": device_id, "ssid": "HomeNet", "password": PASSWORD},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert _state(hass, "sensor.test_device_wi_fi_state") == "connected"
    await hass.services.async_call(
        DOMAIN, "disconnect_wifi", {"device_id": device_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert emulator.model.disconnect_ap_requests == 1
    assert _state(hass, "sensor.test_device_wi_fi_state") == "disconnected"
    assert _state(hass, "sensor.test_device_failure_reason") == "none"
    status = await hass.services.async_call(
        DOMAIN, "get_status", {"device_id": device_id}, blocking=True, return_response=True
    )
    assert status is not None
    assert status["state"] == "disconnected"
    assert status["failure_reason"] == "none"
    assert status["end_reason_code"] is None
