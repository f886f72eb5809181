"""After Wi-Fi: the device on the network (DHCP discovery, IP sensor, connections, merge).

Home Assistant's real DHCP integration is fed through its device-tracker watcher (see
:mod:`.network_helpers`); its registered-devices matcher starts this integration's DHCP flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_DHCP
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ble_provisioning import const
from custom_components.ble_provisioning.const import (
    CONF_CANDIDATES_UNTIL,
    CONF_DHCP_HOSTNAME,
    CONF_IP_ADDRESS,
    CONF_WIFI_MAC,
    CONF_WIFI_MAC_CANDIDATES,
    DOMAIN,
)
from custom_components.ble_provisioning.network import Sighting, async_seen

from .conftest import (
    BLUENET_ADDRESS,
    BLUFI_ADDRESS,
    PASSWORD,
    Bench,
    make_entry,
    setup_entry,
    wait_for,
)
from .helpers import confirm_discovery, device_for, submit_wifi
from .network_helpers import async_setup_dhcp, dhcp_modules, has_dhcp_address_data, router_reports

#: BLUFI_ADDRESS (24:0A:C4:00:00:01) - 2 on the last octet, mod 256.
WIFI_MAC = "24:0a:c4:00:00:ff"
IP_SENSOR = "sensor.blufi_device_ip_address"


@pytest.fixture(autouse=True)
def dhcp_importable() -> Iterator[None]:
    """Home Assistant's dhcp integration can be imported (see network_helpers)."""
    yield from dhcp_modules()


async def _provision(hass: HomeAssistant, bench: Bench, *, finish: bool = False) -> Any:
    """Discover, confirm and provision the BluFi device; return the result after provisioning."""
    await bench.blufi()
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    return await submit_wifi(
        hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD}, finish=finish
    )


def _network_macs(device: dr.DeviceEntry) -> set[str]:
    return {value for kind, value in device.connections if kind == dr.CONNECTION_NETWORK_MAC}


def _entry(hass: HomeAssistant) -> Any:
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    return entry


async def test_dhcp_discovery_confirms_the_candidate_and_tracks_the_ip(
    hass: HomeAssistant, bench: Bench
) -> None:
    """Candidate in the connections → DHCP discovery confirms it → IP sensor, then IP changes."""
    result = await _provision(hass, bench)
    # Nothing could tell where the device is yet: the final step says so honestly.
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "finish_unseen"
    assert result["description_placeholders"]["ssid"] == "HomeNet"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = _entry(hass)
    assert entry.data[CONF_WIFI_MAC_CANDIDATES] == [WIFI_MAC]
    device = device_for(hass, BLUFI_ADDRESS)
    assert (dr.CONNECTION_BLUETOOTH, BLUFI_ADDRESS) in device.connections
    assert _network_macs(device) == {WIFI_MAC}
    assert hass.states.get(IP_SENSOR).state == "unknown"

    await async_setup_dhcp(hass)
    router_reports(hass, "24:0A:C4:00:00:FF", "192.168.1.57", "BLUFI_DEVICE")
    await hass.async_block_till_done()
    assert entry.data[CONF_WIFI_MAC] == WIFI_MAC
    assert entry.data[CONF_IP_ADDRESS] == "192.168.1.57"
    assert entry.data[CONF_DHCP_HOSTNAME] == "blufi_device"
    assert entry.data[CONF_WIFI_MAC_CANDIDATES] == []
    assert hass.states.get(IP_SENSOR).state == "192.168.1.57"
    assert _network_macs(device_for(hass, BLUFI_ADDRESS)) == {WIFI_MAC}
    # The DHCP flow aborted (as Home Assistant's discovery pattern does).
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)

    # A new lease (the watcher follows added trackers): the IP follows.
    router_reports(hass, "24:0A:C4:00:00:FF", "192.168.1.80", "BLUFI_DEVICE", name="esp_2")
    await hass.async_block_till_done()
    assert hass.states.get(IP_SENSOR).state == "192.168.1.80"
    assert entry.data[CONF_IP_ADDRESS] == "192.168.1.80"


async def test_final_step_shows_where_the_device_is(hass: HomeAssistant, bench: Bench) -> None:
    """DHCP saw the device join before its entry existed.

    Home Assistant with DHCP address data (2025.10+): the final step names the IP and the MAC is
    confirmed at once. 2025.4 cannot know: the step says the device has not appeared yet and the
    candidate waits in the connections for the next DHCP discovery.
    """
    await async_setup_dhcp(hass)
    router_reports(hass, "24:0a:c4:00:00:ff", "192.168.1.57", "blufi-device")
    await hass.async_block_till_done()
    result = await _provision(hass, bench)
    placeholders = result["description_placeholders"]
    if has_dhcp_address_data():
        assert result["step_id"] == "finish"
        assert placeholders["ip"] == "192.168.1.57"
        assert placeholders["name"] == "BLUFI_DEVICE"
        assert placeholders["ssid"] == "HomeNet"
    else:
        assert result["step_id"] == "finish_unseen"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = _entry(hass)
    if has_dhcp_address_data():
        assert entry.data[CONF_WIFI_MAC] == WIFI_MAC
        assert hass.states.get(IP_SENSOR).state == "192.168.1.57"
    else:
        assert CONF_WIFI_MAC not in entry.data
        assert entry.data[CONF_WIFI_MAC_CANDIDATES] == [WIFI_MAC]
    assert _network_macs(device_for(hass, BLUFI_ADDRESS)) == {WIFI_MAC}


async def test_unconfirmed_candidate_leaves_the_connections(
    hass: HomeAssistant, bench: Bench
) -> None:
    """Without a DHCP discovery in the window, the candidate is dropped (no wrong merge)."""
    await _provision(hass, bench, finish=True)
    await hass.async_block_till_done()
    entry = _entry(hass)
    assert _network_macs(device_for(hass, BLUFI_ADDRESS)) == {WIFI_MAC}
    until = dt_util.parse_datetime(entry.data[CONF_CANDIDATES_UNTIL])
    assert until is not None
    assert until - dt_util.utcnow() > timedelta(seconds=const.CANDIDATE_WINDOW - 60)
    # The window ends (moved close, not a clock jump: that would also fire the status refresh
    # and Bumble's timers); a reload re-arms the expiry from the entry as a restart does.
    soon = dt_util.utcnow() + timedelta(seconds=0.05)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_CANDIDATES_UNTIL: soon.isoformat()}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await wait_for(lambda: entry.data[CONF_CANDIDATES_UNTIL] is None)
    await hass.async_block_till_done()
    assert _network_macs(device_for(hass, BLUFI_ADDRESS)) == set()
    assert entry.data[CONF_WIFI_MAC_CANDIDATES] == []
    assert entry.data[CONF_CANDIDATES_UNTIL] is None
    # A DHCP discovery of that MAC no longer belongs to the device.
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_DHCP},
        data=DhcpServiceInfo(ip="192.168.1.57", hostname="x", macaddress="240ac40000ff"),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_supported_device"
    assert CONF_IP_ADDRESS not in entry.data


async def test_device_merges_with_its_own_integration(hass: HomeAssistant, bench: Bench) -> None:
    """Another integration registering the confirmed network MAC shows as the same device.

    2025.4: one registry device with both config entries. 2026.10 keeps one device per config
    entry and links those sharing a connection (``config/device_registry/linked_devices``): the
    registry returns both for the MAC.
    """
    await _provision(hass, bench, finish=True)
    await async_setup_dhcp(hass)
    router_reports(hass, WIFI_MAC, "192.168.1.57", "blufi-device")
    await hass.async_block_till_done()
    ours = device_for(hass, BLUFI_ADDRESS)

    other = MockConfigEntry(domain="esphome_like", title="ESPHome device")
    other.add_to_hass(hass)
    registry = dr.async_get(hass)
    theirs = registry.async_get_or_create(
        config_entry_id=other.entry_id,
        connections={(dr.CONNECTION_NETWORK_MAC, "24:0A:C4:00:00:FF")},
        identifiers={("esphome_like", "blufi-device")},
        name="blufi-device",
    )
    if theirs.id == ours.id:
        assert set(registry.async_get(ours.id).config_entries) == {
            _entry(hass).entry_id,
            other.entry_id,
        }
    else:
        linked = _devices_with(registry, ours.connections)
        assert {device.id for device in linked} == {ours.id, theirs.id}
    # A device that only has the unrelated BLE address does not merge.
    stranger = registry.async_get_or_create(
        config_entry_id=other.entry_id,
        connections={(dr.CONNECTION_NETWORK_MAC, "24:0a:c4:00:00:01")},
        identifiers={("esphome_like", "stranger")},
    )
    assert stranger.id != ours.id
    assert stranger.id not in {device.id for device in _devices_with(registry, ours.connections)}


def _devices_with(
    registry: dr.DeviceRegistry, connections: set[tuple[str, str]]
) -> list[dr.DeviceEntry]:
    """Every device sharing one of ``connections`` (2025.4 has at most one, merged)."""
    if hasattr(registry, "async_get_devices"):
        devices: list[dr.DeviceEntry] = registry.async_get_devices(connections=connections)
        return devices
    device = registry.async_get_device(connections=connections)
    return [] if device is None else [device]


async def test_bluenet_host_name_is_resolved(hass: HomeAssistant, bench: Bench) -> None:
    """Bluenet reports a host name (here a URL with the IP): the final step and the sensor."""
    await bench.bluenet()
    result = await confirm_discovery(hass, BLUENET_ADDRESS)
    result = await submit_wifi(
        hass,
        result["flow_id"],
        {"ssid": "HomeNet", "password": PASSWORD, "allow_cleartext": True},
        finish=False,
    )
    assert result["step_id"] == "finish", result
    ip = result["description_placeholders"]["ip"]
    assert ip
    assert result["description_placeholders"]["ssid"] == "HomeNet"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = _entry(hass)
    assert entry.data[CONF_IP_ADDRESS] == ip
    assert entry.data[CONF_WIFI_MAC_CANDIDATES] == []  # its BLE address says nothing of Wi-Fi
    assert _network_macs(device_for(hass, BLUENET_ADDRESS)) == set()
    assert hass.states.get("sensor.bluenet_device_0001_ip_address").state == ip


async def test_provision_action_opens_a_new_window(hass: HomeAssistant, bench: Bench) -> None:
    """Provisioning through the action records the candidate like the flow does."""
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    assert CONF_WIFI_MAC_CANDIDATES not in entry.data
    assert _network_macs(device_for(hass, BLUFI_ADDRESS)) == set()
    await hass.services.async_call(
        DOMAIN,
        "provision_wifi",
        {
            "device_id": device_for(hass, BLUFI_ADDRESS).id,
            "ssid": "HomeNet",
            "password": PASSWORD,
        },
        blocking=True,
        return_response=True,
    )
    assert entry.data[CONF_WIFI_MAC_CANDIDATES] == [WIFI_MAC]
    assert _network_macs(device_for(hass, BLUFI_ADDRESS)) == {WIFI_MAC}
    await async_setup_dhcp(hass)
    router_reports(hass, WIFI_MAC, "192.168.1.57")
    await hass.async_block_till_done()
    assert hass.states.get("sensor.test_device_ip_address").state == "192.168.1.57"


async def test_a_sighting_during_setup_is_shown(hass: HomeAssistant, bench: Bench) -> None:
    """The DHCP discovery came while the entry was setting up (its device registered with the
    Wi-Fi MAC, the coordinator not listening yet): the IP sensor still shows it."""
    await bench.blufi()
    entry = make_entry(BLUFI_ADDRESS, "blufi", title="BLUFI_DEVICE")
    real_forward = hass.config_entries.async_forward_entry_setups

    async def forward_then_dhcp(*args: Any, **kwargs: Any) -> None:
        await real_forward(*args, **kwargs)
        async_seen(hass, entry, Sighting("192.168.1.57", WIFI_MAC, "blufi-device"))

    with patch.object(hass.config_entries, "async_forward_entry_setups", forward_then_dhcp):
        await setup_entry(hass, entry)
    assert entry.data[CONF_IP_ADDRESS] == "192.168.1.57"
    assert hass.states.get(IP_SENSOR).state == "192.168.1.57"
