"""The demo's DHCP server injects a DHCP discovery once a provisioned ESP32 is registered."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from dev.custom_components.ble_provisioning_bench import dhcp as demo_dhcp
from dev.custom_components.ble_provisioning_bench.devices import BLUFI_V2_ADDRESS


def _emulator(connected: bool) -> Any:
    model = SimpleNamespace(sta_connected=connected, config=SimpleNamespace(name="BLUFI_V2"))
    return SimpleNamespace(address=BLUFI_V2_ADDRESS, model=model)


def test_station_mac_is_the_chips_own() -> None:
    """ESP-IDF's scheme, last octet only, no carry."""
    assert demo_dhcp.esp32_station_mac("24:0A:C4:00:00:02") == "24:0a:c4:00:00:00"
    assert demo_dhcp.esp32_station_mac("24:0A:C4:00:01:01") == "24:0a:c4:00:01:ff"


async def test_discovery_only_for_a_joined_registered_device(hass: HomeAssistant) -> None:
    """Not joined or not registered: nothing; then one discovery per lease."""
    emulator = _emulator(connected=False)
    server = demo_dhcp.DemoDhcp(hass, [emulator])
    with patch.object(demo_dhcp.discovery_flow, "async_create_flow") as create:
        server._check()
        emulator.model.sta_connected = True
        server._check()
        assert not create.called  # no device lists the MAC yet

        entry = MockConfigEntry(domain="ble_provisioning")
        entry.add_to_hass(hass)
        dr.async_get(hass).async_get_or_create(
            config_entry_id=entry.entry_id,
            connections={(dr.CONNECTION_NETWORK_MAC, "24:0a:c4:00:00:00")},
            identifiers={("ble_provisioning", BLUFI_V2_ADDRESS)},
        )
        server._check()
        server._check()
    assert create.call_count == 1
    _hass, domain, context, info = create.call_args.args
    assert (domain, context) == ("ble_provisioning", {"source": "dhcp"})
    assert (info.ip, info.hostname, info.macaddress) == ("192.168.1.57", "blufi_v2", "240ac4000000")
    assert create.call_args.kwargs["discovery_key"].key == "240ac4000000"
    server.stop()
