"""Hand-off: continue from our final step into the device's own integration's discovery flow.

A tiny integration (``esphome_like``) is registered with Home Assistant's loader, and its DHCP
discovery flow is started through the flow manager, as the DHCP integration would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from homeassistant import config_entries
from homeassistant.config_entries import SOURCE_DHCP, ConfigFlow, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.device_registry import format_mac
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import (
    MockModule,
    mock_config_flow,
    mock_integration,
    mock_platform,
)

from custom_components.ble_provisioning.const import DOMAIN
from custom_components.ble_provisioning.handoff import NEXT_FLOW_SUPPORTED, async_matching_flows

from .conftest import BLUFI_ADDRESS, PASSWORD, Bench
from .helpers import confirm_discovery, submit_wifi

OTHER = "esphome_like"


class OtherDeviceFlow(ConfigFlow):
    """The device's own integration: a DHCP discovery flow keyed by the Wi-Fi MAC."""

    VERSION = 1

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """Discovered on the network."""
        await self.async_set_unique_id(format_mac(discovery_info.macaddress))
        self._abort_if_unique_id_configured()
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> Any:
        """Set the device up."""
        if user_input is not None:
            return self.async_create_entry(title="ESPHome-like device", data={})
        return self.async_show_form(step_id="confirm")


@pytest.fixture
def other_integration(hass: HomeAssistant) -> Iterator[None]:
    """Register the other integration and its config flow."""
    mock_integration(hass, MockModule(OTHER))
    mock_platform(hass, f"{OTHER}.config_flow", None)
    with mock_config_flow(OTHER, OtherDeviceFlow):
        yield


async def _other_flow(hass: HomeAssistant, mac: str = "240ac40000ff") -> str:
    result = await hass.config_entries.flow.async_init(
        OTHER,
        context={"source": SOURCE_DHCP},
        data=DhcpServiceInfo(ip="192.168.1.57", hostname="blufi-device", macaddress=mac),
    )
    assert result["type"] is FlowResultType.FORM
    return str(result["flow_id"])


async def _final_step(hass: HomeAssistant, bench: Bench) -> Any:
    await bench.blufi()
    result = await confirm_discovery(hass, BLUFI_ADDRESS)
    return await submit_wifi(
        hass, result["flow_id"], {"ssid": "HomeNet", "password": PASSWORD}, finish=False
    )


def _fields(result: Any) -> list[str]:
    schema = result["data_schema"]
    return [] if schema is None else [str(key) for key in schema.schema]


async def test_handoff_into_the_devices_own_flow(
    hass: HomeAssistant, bench: Bench, other_integration: None
) -> None:
    """Matched by the Wi-Fi MAC candidate; next_flow where supported, else named for the user."""
    other_flow_id = await _other_flow(hass)
    result = await _final_step(hass, bench)
    assert result["step_id"] in ("finish", "finish_unseen")
    assert _fields(result) == ["continue_setup"]
    assert result["description_placeholders"]["integration"] == OTHER

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"continue_setup": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    if NEXT_FLOW_SUPPORTED:
        assert result["next_flow"] == (config_entries.FlowType.CONFIG_FLOW, other_flow_id)
    else:
        # 2025.4 has no next_flow: the result tells the user which card to open.
        assert "next_flow" not in result
        assert result["description"] == "handoff_manual"
        assert result["description_placeholders"] == {"integration": OTHER}
    # Our entry stays (re-provisioning later); the other flow goes on.
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    result = await hass.config_entries.flow.async_configure(other_flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_declined_or_gone_handoff(
    hass: HomeAssistant, bench: Bench, other_integration: None
) -> None:
    """Declining creates a plain entry; a flow that ended meanwhile is not chained to."""
    other_flow_id = await _other_flow(hass)
    result = await _final_step(hass, bench)
    hass.config_entries.flow.async_abort(other_flow_id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"continue_setup": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "next_flow" not in result
    await hass.async_block_till_done()


async def test_no_handoff_for_another_device(
    hass: HomeAssistant, bench: Bench, other_integration: None
) -> None:
    """A discovery flow for another MAC offers nothing."""
    await _other_flow(hass, mac="240ac4000099")
    result = await _final_step(hass, bench)
    assert _fields(result) == []
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "next_flow" not in result
    await hass.async_block_till_done()


async def test_matching_by_host_name_and_ble_mac(
    hass: HomeAssistant, other_integration: None
) -> None:
    """Host names match by their first label; a Bluetooth discovery by the BLE MAC."""
    flow_id = await _other_flow(hass, mac="aabbccddeeff")
    assert async_matching_flows(hass, macs=[], hostnames=["http://blufi-device.local:80/"]) == [
        (flow_id, OTHER)
    ]
    assert async_matching_flows(hass, macs=["AA-BB-CC-DD-EE-FF"]) == [(flow_id, OTHER)]
    assert async_matching_flows(hass, macs=["aa:bb:cc:dd:ee:00"], hostnames=["other"]) == []
