"""Helpers shared by the integration tests."""

from __future__ import annotations

from typing import Any

from homeassistant.components import bluetooth
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr

from custom_components.ble_provisioning.const import DOMAIN

from .conftest import wait_for


def device_for(hass: HomeAssistant, address: str) -> dr.DeviceEntry:
    """The device registry entry of ``address`` (works on every supported HA version)."""
    registry = dr.async_get(hass)
    for entry in hass.config_entries.async_entries(DOMAIN):
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if (DOMAIN, address) in device.identifiers:
                return device
    raise AssertionError(f"no device for {address}")


def flows_for(hass: HomeAssistant, address: str) -> list[Any]:
    """In-progress flows of the integration for ``address``."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"].get("unique_id") == address
    ]


async def discovery_flow(hass: HomeAssistant, address: str) -> Any:
    """Wait for the bluetooth discovery flow of ``address`` and return it."""
    await wait_for(lambda: bool(flows_for(hass, address)))
    flows = flows_for(hass, address)
    assert len(flows) == 1
    return flows[0]


async def confirm_discovery(hass: HomeAssistant, address: str) -> ConfigFlowResult:
    """Confirm the discovery card of ``address`` (identify + scan)."""
    flow = await discovery_flow(hass, address)
    return await hass.config_entries.flow.async_configure(flow["flow_id"], {})


async def submit_wifi(
    hass: HomeAssistant, flow_id: str, user_input: dict[str, Any]
) -> ConfigFlowResult:
    """Submit the Wi-Fi form, let the provisioning task finish, return the next result."""
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    if result["type"] is not FlowResultType.SHOW_PROGRESS:
        return result
    assert result["progress_action"] == "provisioning"
    await hass.async_block_till_done()
    return await hass.config_entries.flow.async_configure(flow_id)


def ssid_options(result: ConfigFlowResult) -> list[Any]:
    """The options of the SSID dropdown of a Wi-Fi form."""
    schema = result["data_schema"]
    assert schema is not None
    for key, value in schema.schema.items():
        if key == "ssid":
            return [dict(option) for option in value.config["options"]]
    raise AssertionError("no ssid field")


def suggested(result: ConfigFlowResult, field: str) -> Any:
    """The suggested value of a top-level field of a form."""
    schema = result["data_schema"]
    assert schema is not None
    for key in schema.schema:
        if key == field:
            return (key.description or {}).get("suggested_value")
    raise AssertionError(f"no {field} field")


def service_info_copy(
    info: bluetooth.BluetoothServiceInfoBleak, **changes: Any
) -> bluetooth.BluetoothServiceInfoBleak:
    """A copy of a real service info with some fields changed."""
    values: dict[str, Any] = {
        "name": info.name,
        "address": info.address,
        "rssi": info.rssi,
        "manufacturer_data": info.manufacturer_data,
        "service_data": info.service_data,
        "service_uuids": info.service_uuids,
        "source": info.source,
        "device": info.device,
        "advertisement": info.advertisement,
        "connectable": info.connectable,
        "time": info.time,
        "tx_power": info.tx_power,
    }
    values.update(changes)
    if "advertisement" not in changes:
        # Keep the advertisement consistent with the changed fields (as Home Assistant's are).
        fields = {"service_uuids", "manufacturer_data", "service_data"} & changes.keys()
        values["advertisement"] = info.advertisement._replace(
            **{field: changes[field] for field in fields}
        )
    return bluetooth.BluetoothServiceInfoBleak(**values)


def serialize_form(hass: HomeAssistant, result: ConfigFlowResult) -> Any:
    """What the frontend receives for ``result`` (voluptuous or probatio, per HA version)."""
    from homeassistant.helpers.data_entry_flow import _BaseFlowManagerView

    view: Any = _BaseFlowManagerView(hass.config_entries.flow)
    return view._prepare_result_json(result)
