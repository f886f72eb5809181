"""Set-up, coordinator, entities, availability and repair issue."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
from unittest.mock import patch

from homeassistant.components import bluetooth
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_CLASS, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from bench.emulators.bluenet import BluenetConfig
from bench.emulators.blufi import BlufiDeviceConfig, BlufiFaults
from bench.proxy import VirtualProxy
from custom_components.ble_provisioning import _async_entry_updated, const
from custom_components.ble_provisioning.const import (
    CONF_HOSTNAME,
    CONF_LAST_SSID,
    CONF_STATUS_INTERVAL,
    DOMAIN,
    ISSUE_NO_CONNECTABLE_ADAPTER,
)
from custom_components.ble_provisioning.protocol.models import ProvisionRequest

from .conftest import (
    BLUENET_ADDRESS,
    BLUFI_ADDRESS,
    PASSWORD,
    Bench,
    bluenet_networks,
    blufi_networks,
    make_entry,
    setup_entry,
    wait_for,
)
from .helpers import device_for, flows_for

WIFI_STATE = "sensor.test_device_wi_fi_state"
SSID = "sensor.test_device_connected_ssid"
RSSI = "sensor.test_device_wi_fi_signal_strength"
SECURITY = "sensor.test_device_provisioning_security"
FAILURE = "sensor.test_device_failure_reason"
NETWORKS = "sensor.test_device_networks_found"
LAST_SCAN = "sensor.test_device_last_scan"
SCAN_BUTTON = "button.test_device_scan_wi_fi"
REFRESH_BUTTON = "button.test_device_refresh_status"
EVENT = "event.test_device_device_event"


async def test_blufi_entities_and_device(
    hass: HomeAssistant,
    bench: Bench,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A BluFi entry has every entity, translated names and a device entry."""
    emulator = await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    assert entry.state is ConfigEntryState.LOADED

    state = hass.states.get(WIFI_STATE)
    assert state is not None
    assert state.state == "disconnected"
    assert state.attributes["options"] == [
        "connected",
        "connecting",
        "disconnected",
        "failed",
        "unknown",
    ]
    for entity_id in (SSID, NETWORKS, LAST_SCAN):
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.state == STATE_UNKNOWN
    # ESP-IDF's BluFi never reports the signal while connected: no sensor that cannot have a
    # value.
    assert hass.states.get(RSSI) is None
    assert hass.states.get(FAILURE).state == "none"
    security = hass.states.get(SECURITY)
    assert security is not None
    assert security.state == "blufi_v2"
    assert security.attributes["options"] == ["blufi_v2", "blufi_v1", "cleartext"]
    assert entity_registry.async_get(SECURITY).entity_category is not None
    assert hass.states.get(SCAN_BUTTON) is not None
    assert hass.states.get(REFRESH_BUTTON) is not None
    assert hass.states.get(EVENT).attributes["event_types"] == [
        "custom_data_received",
        "provisioning_succeeded",
        "provisioning_failed",
    ]
    device = device_for(hass, BLUFI_ADDRESS)
    assert device is not None
    assert device.manufacturer == "Espressif"
    # The BluFi version is the provisioning protocol's, not the firmware's.
    assert device.sw_version is None
    assert device.model == "BluFi device (protocol 1.4)"
    assert (dr.CONNECTION_BLUETOOTH, BLUFI_ADDRESS) in device.connections

    # The connection is released after the idle delay.
    await wait_for(lambda: not emulator.connections)


async def test_bluenet_entities(
    hass: HomeAssistant, bench: Bench, device_registry: dr.DeviceRegistry
) -> None:
    """A Bluenet entry has no RSSI sensor; state, SSID and host name come from the daemon."""
    await bench.bluenet(
        BluenetConfig(networks=bluenet_networks(), initial_profile=("HomeNet", PASSWORD))
    )
    entry = make_entry(BLUENET_ADDRESS, "bluenet", version="1.0")
    await setup_entry(hass, entry)
    await wait_for(lambda: hass.states.get(WIFI_STATE).state == "connected")
    assert hass.states.get(SSID).state == "HomeNet"
    assert hass.states.get(SECURITY).state == "cleartext"
    assert entry.data[CONF_HOSTNAME] == "http://192.168.178.100:6543/-/"
    device = device_for(hass, BLUENET_ADDRESS)
    assert device is not None
    assert device.configuration_url == "http://192.168.178.100:6543/-/"
    assert device.manufacturer == "Bluenet"
    assert device.model == "Bluenet daemon (protocol 1.0)"
    # Bluenet has no custom data: its event entity does not offer that event.
    assert hass.states.get(EVENT).attributes["event_types"] == [
        "provisioning_succeeded",
        "provisioning_failed",
    ]


async def test_buttons_scan_and_refresh(hass: HomeAssistant, bench: Bench) -> None:
    """Scan Wi-Fi fills the count, the list (not recorded) and the timestamp."""
    await bench.blufi()
    await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    await hass.services.async_call("button", "press", {"entity_id": SCAN_BUTTON}, blocking=True)
    state = hass.states.get(NETWORKS)
    assert state.state == "3"
    assert state.attributes["networks"] == [
        {"ssid": "HomeNet", "rssi": -45, "auth": None},
        {"ssid": "Cafe", "rssi": -60, "auth": None},
        {"ssid": "Neighbour", "rssi": -80, "auth": None},
    ]
    assert hass.states.get(LAST_SCAN).attributes[ATTR_DEVICE_CLASS] == "timestamp"
    assert hass.states.get(LAST_SCAN).state != STATE_UNKNOWN
    from custom_components.ble_provisioning.sensor import BleProvisioningSensor

    assert "networks" in BleProvisioningSensor._unrecorded_attributes

    await hass.services.async_call("button", "press", {"entity_id": REFRESH_BUTTON}, blocking=True)
    assert hass.states.get(WIFI_STATE).state == "disconnected"


async def test_button_failure_is_translated(hass: HomeAssistant, bench: Bench) -> None:
    """A failing scan raises a translated error."""
    emulator = await bench.blufi()
    await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    emulator.model.config.faults = BlufiFaults(scan_error=True)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("button", "press", {"entity_id": SCAN_BUTTON}, blocking=True)
    assert err.value.translation_key == "scan_failed"
    assert str(err.value).startswith(f"{BLUFI_ADDRESS} could not scan for Wi-Fi networks")


async def test_status_after_provisioning(hass: HomeAssistant, bench: Bench) -> None:
    """The periodic refresh reads the device's status: connected SSID."""
    await bench.blufi()
    entry = await setup_entry(
        hass,
        make_entry(
            BLUFI_ADDRESS,
            "blufi",
            options={CONF_STATUS_INTERVAL: 30},
        ),
    )
    coordinator = entry.runtime_data
    # Provision behind the coordinator's back (another phone, say), then let the interval
    # refresh notice.
    await coordinator.device.provision(ProvisionRequest(ssid="HomeNet", password=PASSWORD), 5)
    assert hass.states.get(WIFI_STATE).state == "disconnected"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await hass.async_block_till_done()
    await wait_for(lambda: hass.states.get(WIFI_STATE).state == "connected")
    assert hass.states.get(SSID).state == "HomeNet"


async def test_unavailable_when_gone_logged_once(
    hass: HomeAssistant, bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    """The device vanishing makes entities unavailable, logged once; it recovers."""
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    coordinator = entry.runtime_data
    caplog.set_level(logging.INFO)
    await bench.expire(BLUFI_ADDRESS)
    assert hass.states.get(WIFI_STATE).state == STATE_UNAVAILABLE
    assert hass.states.get(SCAN_BUTTON).state == STATE_UNAVAILABLE
    await coordinator.async_refresh()
    await coordinator.async_refresh()
    unavailable_logs = [
        record
        for record in caplog.records
        if "not in range" in record.getMessage()
        or "No connectable Bluetooth adapter or proxy currently sees" in record.getMessage()
    ]
    assert len(unavailable_logs) == 1

    # A proxy sees the device again: the coordinator refreshes and logs the recovery.
    proxy = await VirtualProxy.async_start(hass, bench.radio, source="B0:B0:B0:B0:B0:02")
    try:
        await wait_for(lambda: hass.states.get(WIFI_STATE).state == "disconnected")
        assert any("recovered" in record.getMessage() for record in caplog.records)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await proxy.async_stop()


async def test_setup_retries_when_device_absent(hass: HomeAssistant, bench: Bench) -> None:
    """No adapter sees the device: set-up is retried."""
    entry = make_entry(BLUFI_ADDRESS, "blufi")
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert entry.reason.startswith(
        f"No connectable Bluetooth adapter or proxy currently sees {BLUFI_ADDRESS}"
    )


async def test_setup_retries_when_status_fails(hass: HomeAssistant, bench: Bench) -> None:
    """The device is in range but does not answer: set-up is retried."""
    await bench.blufi(
        BlufiDeviceConfig(networks=blufi_networks(), faults=BlufiFaults(ignore_writes_from=0))
    )
    entry = make_entry(BLUFI_ADDRESS, "blufi")
    with patch.object(const, "CONNECT_TIMEOUT", 0.3):
        await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_repair_issue_without_connectable_adapter(
    hass: HomeAssistant, bench: Bench, issue_registry: ir.IssueRegistry
) -> None:
    """No connectable adapter or proxy: a repair issue, cleared once one exists.

    The phcc ``enable_bluetooth`` fixture always registers a connectable local adapter, so
    "no connectable scanner" cannot be produced on the bench: the scanner count is patched.
    """
    await bench.blufi()
    entry = make_entry(BLUFI_ADDRESS, "blufi")
    with patch(
        "custom_components.ble_provisioning.issues.bluetooth.async_scanner_count",
        return_value=0,
    ):
        await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert issue_registry.async_get_issue(DOMAIN, ISSUE_NO_CONNECTABLE_ADAPTER) is not None
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, ISSUE_NO_CONNECTABLE_ADAPTER) is None

    # The last adapter goes away at runtime: unavailable and the issue comes back.
    coordinator = entry.runtime_data
    with patch(
        "custom_components.ble_provisioning.issues.bluetooth.async_scanner_count",
        return_value=0,
    ):
        await coordinator.async_refresh()
    assert hass.states.get(WIFI_STATE).state == STATE_UNAVAILABLE
    assert issue_registry.async_get_issue(DOMAIN, ISSUE_NO_CONNECTABLE_ADAPTER) is not None
    await coordinator.async_refresh()
    assert hass.states.get(WIFI_STATE).state == "disconnected"
    assert issue_registry.async_get_issue(DOMAIN, ISSUE_NO_CONNECTABLE_ADAPTER) is None


async def test_data_updates_do_not_reload(hass: HomeAssistant, bench: Bench) -> None:
    """The coordinator storing a new SSID or host name does not reload the entry."""
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    coordinator = entry.runtime_data
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_LAST_SSID: "Cafe"})
    await hass.async_block_till_done()
    assert entry.runtime_data is coordinator


async def test_unload_releases_device(hass: HomeAssistant, bench: Bench) -> None:
    """Unloading mid-operation cancels it and releases the link; nothing queued reconnects."""
    emulator = await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    coordinator = entry.runtime_data
    assert not emulator.connections  # no idle hold after the first refresh
    scan = hass.async_create_task(coordinator.async_scan())
    queued = hass.async_create_task(coordinator.async_get_status())
    await wait_for(lambda: bool(emulator.connections))
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert coordinator.device.closed
    await asyncio.gather(scan, queued, return_exceptions=True)
    for task in (scan, queued):
        error = task.exception()
        assert isinstance(error, HomeAssistantError)
        assert error.translation_key == "device_closed"
    await wait_for(lambda: not emulator.connections)
    assert not coordinator.device.is_connected
    with pytest.raises(HomeAssistantError) as err:
        await coordinator.async_get_status()
    assert err.value.translation_key == "device_closed"
    assert not emulator.connections


async def test_remove_entry_rediscovers(hass: HomeAssistant, bench: Bench) -> None:
    """Removing the entry lets the device be discovered again."""
    entry = make_entry(BLUFI_ADDRESS, "blufi")
    entry.add_to_hass(hass)
    await bench.blufi()
    await setup_entry(hass, entry)
    assert not flows_for(hass, BLUFI_ADDRESS)
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: bool(flows_for(hass, BLUFI_ADDRESS)))
    assert bluetooth.async_address_present(hass, BLUFI_ADDRESS, connectable=True)


async def test_options_listener_before_2025_8(hass: HomeAssistant, bench: Bench) -> None:
    """The update listener Home Assistant before 2025.8 needs: it reloads on options changes
    only (on newer versions the options flow reloads and no listener is registered; the
    function is called directly there).
    """
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    coordinator = entry.runtime_data
    await _async_entry_updated(hass, entry)
    await hass.async_block_till_done()
    assert entry.runtime_data is coordinator
    hass.config_entries.async_update_entry(entry, options={CONF_STATUS_INTERVAL: 60})
    await hass.async_block_till_done()  # 2025.4: the registered listener reloads here
    await _async_entry_updated(hass, entry)
    await hass.async_block_till_done()
    assert entry.runtime_data is not coordinator
    assert entry.runtime_data.options == {CONF_STATUS_INTERVAL: 60}
