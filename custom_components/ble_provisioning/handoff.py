"""Hand a provisioned device over to its own integration's discovery flow.

Once the device is on Wi-Fi, its own integration (ESPHome, or any other) may discover it and
start a discovery flow. Like improv_ble does with ESPHome, the end of our flow offers to
continue straight into that flow. A flow of another integration matches when its unique ID or
its discovery data names one of the device's Wi-Fi MACs (the confirmed one or the candidates),
its Bluetooth MAC, or its host name.

Home Assistant 2025.10+ continues into the other flow itself (``next_flow`` on the created
entry). Older versions (2025.4 has no ``next_flow``) cannot: there the final step names the
integration and the user opens its card under Settings → Devices & services → Discovered. Our
entry is created either way, so the device can be re-provisioned later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import inspect
from typing import Any

from homeassistant.components.bluetooth import BluetoothServiceInfoBleak
from homeassistant.config_entries import DISCOVERY_SOURCES, ConfigFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from homeassistant.loader import async_get_integration

from .const import DOMAIN
from .network import host_of
from .protocol.identity import normalize_mac

#: Whether this Home Assistant continues into another flow after ours (``next_flow``).
NEXT_FLOW_SUPPORTED = "next_flow" in inspect.signature(ConfigFlow.async_create_entry).parameters


@dataclass(frozen=True, slots=True)
class HandoffFlow:
    """A discovery flow of another integration for the same device."""

    flow_id: str
    domain: str
    name: str
    """The integration's name, for the final step's text."""


def _host_label(value: str | None) -> str | None:
    """Return the first label of a host name or URL, lowercased (``esp-1.local.`` → ``esp-1``)."""
    host = host_of(value) if value else None
    if not host:
        return None
    return host.lower().rstrip(".").split(".")[0] or None


def _unique_id_keys(unique_id: Any) -> tuple[set[str], set[str]]:
    """Return the MAC or host label a flow's unique ID names."""
    if not isinstance(unique_id, str):
        return set(), set()
    if (mac := normalize_mac(unique_id)) is not None:
        return {mac}, set()
    label = _host_label(unique_id)
    return set(), set() if label is None else {label}


def _init_data_keys(init_data: Any) -> tuple[set[str], set[str]]:
    """Return the MACs and host labels a flow's discovery data names."""
    macs: set[str] = set()
    hosts: set[str] = set()
    if isinstance(init_data, DhcpServiceInfo):
        mac_text, host = init_data.macaddress, init_data.hostname
    elif isinstance(init_data, ZeroconfServiceInfo):
        mac_text, host = str(init_data.properties.get("mac") or ""), init_data.hostname
    elif isinstance(init_data, BluetoothServiceInfoBleak):
        mac_text, host = init_data.address, None
    else:
        return macs, hosts
    if (mac := normalize_mac(mac_text)) is not None:
        macs.add(mac)
    if (label := _host_label(host)) is not None:
        hosts.add(label)
    return macs, hosts


_DISCOVERY_DATA_TYPES = (DhcpServiceInfo, ZeroconfServiceInfo, BluetoothServiceInfoBleak)


@callback
def async_matching_flows(
    hass: HomeAssistant,
    *,
    macs: Iterable[str],
    hostnames: Iterable[str | None] = (),
) -> list[tuple[str, str]]:
    """Return ``(flow_id, domain)`` of other integrations' discovery flows for the device."""
    wanted_macs = {mac for value in macs if (mac := normalize_mac(value)) is not None}
    wanted_hosts = {label for value in hostnames if (label := _host_label(value)) is not None}

    def hits(keys: tuple[set[str], set[str]]) -> bool:
        return bool(keys[0] & wanted_macs or keys[1] & wanted_hosts)

    manager = hass.config_entries.flow
    by_data: list[Any] = []
    for data_type in _DISCOVERY_DATA_TYPES:
        by_data += manager.async_progress_by_init_data_type(
            data_type, lambda data: hits(_init_data_keys(data))
        )
    matched_by_data = {flow["flow_id"] for flow in by_data}
    found: dict[str, str] = {}
    for flow in manager.async_progress():
        if flow["handler"] == DOMAIN or flow["context"].get("source") not in DISCOVERY_SOURCES:
            continue
        if flow["flow_id"] in matched_by_data or hits(
            _unique_id_keys(flow["context"].get("unique_id"))
        ):
            found[flow["flow_id"]] = flow["handler"]
    return list(found.items())


async def async_handoff_flows(
    hass: HomeAssistant, *, macs: Iterable[str], hostnames: Iterable[str | None] = ()
) -> list[HandoffFlow]:
    """Like :func:`async_matching_flows`, with each integration's name."""
    flows: list[HandoffFlow] = []
    for flow_id, domain in async_matching_flows(hass, macs=macs, hostnames=hostnames):
        try:
            name = (await async_get_integration(hass, domain)).name
        except Exception:  # noqa: BLE001 - a name is only for the text
            name = domain
        flows.append(HandoffFlow(flow_id, domain, name))
    return flows


@callback
def async_flow_exists(hass: HomeAssistant, flow_id: str) -> bool:
    """Whether the other flow is still in progress (it may have ended meanwhile)."""
    return any(flow["flow_id"] == flow_id for flow in hass.config_entries.flow.async_progress())
