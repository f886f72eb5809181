"""The network helpers on their own: the paths each Home Assistant version takes.

HA 2025.4.4 has no DHCP address data and no ``next_flow``; 2026.10 has both. These tests give
each helper the input of either version (a DHCP module with or without the address data, a
resolver answer), so both legs run every branch.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest

from custom_components.ble_provisioning import const, flow_network, handoff, network
from custom_components.ble_provisioning.flow_network import FlowNetwork
from custom_components.ble_provisioning.handoff import HandoffFlow
from custom_components.ble_provisioning.network import Sighting
from custom_components.ble_provisioning.protocol.models import Protocol

from .network_helpers import dhcp_modules

BLE = "24:0A:C4:00:00:01"
WIFI_MAC = "24:0a:c4:00:00:ff"


@pytest.fixture(autouse=True)
def dhcp_importable() -> Any:
    """Home Assistant's dhcp integration can be imported (see network_helpers)."""
    yield from dhcp_modules()


def _dhcp_data(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, infos: list[Any]) -> None:
    """Make ``dhcp`` loaded with address data (as Home Assistant 2025.10+ has it)."""
    hass.config.components.add("dhcp")
    from homeassistant.components import dhcp as dhcp_module

    monkeypatch.setattr(
        dhcp_module, "async_discovered_service_info", lambda _hass: infos, raising=False
    )


def test_unique_id_and_discovery_data_keys() -> None:
    assert handoff._unique_id_keys(None) == (set(), set())
    assert handoff._unique_id_keys("24:0A:C4:00:00:FF") == ({WIFI_MAC}, set())
    assert handoff._unique_id_keys("ESP-1.local.") == (set(), {"esp-1"})
    assert handoff._unique_id_keys("") == (set(), set())
    zeroconf = ZeroconfServiceInfo(
        ip_address=None,  # type: ignore[arg-type]
        ip_addresses=[],
        port=6053,
        hostname="esp-1.local.",
        type="_esphomelib._tcp.local.",
        name="esp-1._esphomelib._tcp.local.",
        properties={"mac": "240ac40000ff"},
    )
    assert handoff._init_data_keys(zeroconf) == ({WIFI_MAC}, {"esp-1"})
    assert handoff._init_data_keys({"anything": 1}) == (set(), set())


async def test_handoff_names_fall_back_to_the_domain(hass: HomeAssistant) -> None:
    """An integration whose name cannot be loaded is named by its domain."""

    async def broken(_hass: HomeAssistant, _domain: str) -> Any:
        raise RuntimeError("no manifest")

    with (
        patch.object(handoff, "async_matching_flows", return_value=[("f1", "other")]),
        patch.object(handoff, "async_get_integration", broken),
    ):
        flows = await handoff.async_handoff_flows(hass, macs=[WIFI_MAC])
    assert flows == [HandoffFlow("f1", "other", "other")]
    assert not handoff.async_flow_exists(hass, "f1")  # no such flow in progress


async def test_known_sighting_from_dhcp_address_data(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homeassistant.components import dhcp

    assert network.async_known_sighting(hass, [WIFI_MAC]) is None  # dhcp not loaded
    hass.config.components.add("dhcp")
    monkeypatch.delattr(dhcp, "async_discovered_service_info", raising=False)
    assert network.async_known_sighting(hass, [WIFI_MAC]) is None  # 2025.4: no address data
    other = DhcpServiceInfo(ip="192.168.1.9", hostname="", macaddress="aabbccddeeff")
    ours = DhcpServiceInfo(ip="192.168.1.57", hostname="esp", macaddress="240ac40000ff")
    _dhcp_data(hass, monkeypatch, [other, ours])
    assert network.async_known_sighting(hass, [WIFI_MAC]) == Sighting(
        "192.168.1.57", WIFI_MAC, "esp"
    )
    _dhcp_data(hass, monkeypatch, [other])
    assert network.async_known_sighting(hass, [WIFI_MAC]) is None


def test_host_of() -> None:
    assert network.host_of("http://192.168.1.20:6543/-/") == "192.168.1.20"
    assert network.host_of("esp-1.local") == "esp-1.local"
    assert network.host_of("") is None
    assert network.host_of("http://[::1") is None  # malformed URL


async def test_resolve_prefers_ipv4_and_is_bounded(hass: HomeAssistant) -> None:
    loop = asyncio.get_running_loop()
    answers = [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%eth0", 0, 0, 2)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", 0)),
    ]

    async def getaddrinfo(*_args: Any, **_kwargs: Any) -> list[Any]:
        return answers

    with patch.object(loop, "getaddrinfo", getaddrinfo):
        assert await network.async_resolve("bluenet.local") == "192.168.1.20"
        answers = []
        assert await network.async_resolve("bluenet.local") is None
    assert await network.async_resolve("http://") is None  # no host at all
    assert await network.async_resolve("192.168.1.30") == "192.168.1.30"

    async def never(*_args: Any, **_kwargs: Any) -> list[Any]:
        await asyncio.Event().wait()
        return []

    with patch.object(const, "RESOLVE_TIMEOUT", 0.01), patch.object(loop, "getaddrinfo", never):
        assert await network.async_resolve("bluenet.local") is None


async def test_flow_waits_for_the_dhcp_address_data(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With DHCP address data the flow's wait ends as soon as the device is in it."""
    infos: list[Any] = []
    _dhcp_data(hass, monkeypatch, infos)
    wait = FlowNetwork(hass, Protocol.BLUFI, BLE, None)
    with patch.object(const, "NETWORK_POLL", 0):
        task = wait.async_wait()
        assert task is not None
        assert wait.async_wait() is task  # started once
        await asyncio.sleep(0)
        assert wait.sighting is None  # still waiting
        infos.append(DhcpServiceInfo(ip="192.168.1.57", hostname="esp", macaddress="240ac40000ff"))
        assert await task == Sighting("192.168.1.57", WIFI_MAC, "esp")
    assert wait.sighting == Sighting("192.168.1.57", WIFI_MAC, "esp")


async def test_flow_wait_gives_up_at_its_bound(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dhcp_data(hass, monkeypatch, [])
    wait = FlowNetwork(hass, Protocol.BLUFI, BLE, None)
    with patch.object(const, "NETWORK_WAIT", 0.05), patch.object(const, "NETWORK_POLL", 0.01):
        task = wait.async_wait()
        assert task is not None
        assert await task is None
    assert wait.sighting is None
    ended = FlowNetwork(hass, Protocol.BLUFI, BLE, None)
    task = ended.async_wait()
    assert task is not None
    ended.async_end()
    await asyncio.gather(task, return_exceptions=True)
    assert ended.sighting is None


async def test_flow_without_anything_to_tell(hass: HomeAssistant) -> None:
    """A random address (no candidate) and no host name: no wait at all."""
    wait = FlowNetwork(hass, Protocol.BLUFI, "F4:12:34:56:78:9A", None)
    assert wait.async_wait() is None
    assert wait.sighting is None


async def test_handoff_result_per_version(hass: HomeAssistant) -> None:
    wait = FlowNetwork(hass, Protocol.BLUFI, BLE, None)
    assert wait.handoff_result(True) == {}  # nothing to continue into
    wait.handoff = HandoffFlow("gone", "esphome", "ESPHome")
    assert wait.handoff_result(False) == {}
    # The other flow ended (or no next_flow on this version): the user is told where to go.
    assert wait.handoff_result(True) == {
        "description": "handoff_manual",
        "description_placeholders": {"integration": "ESPHome"},
    }
    with (
        patch.object(flow_network, "NEXT_FLOW_SUPPORTED", True),
        patch.object(flow_network, "async_flow_exists", return_value=True),
        patch.object(flow_network.config_entries, "FlowType", create=True) as flow_type,
    ):
        assert wait.handoff_result(True) == {"next_flow": (flow_type.CONFIG_FLOW, "gone")}


async def test_candidate_window_ends(hass: HomeAssistant) -> None:
    """A window already over when the entry loads, or ending later: the candidates leave."""
    from datetime import timedelta

    from homeassistant.util import dt as dt_util
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.ble_provisioning.const import (
        CONF_CANDIDATES_UNTIL,
        CONF_WIFI_MAC_CANDIDATES,
        DOMAIN,
    )

    past = (dt_util.utcnow() - timedelta(minutes=1)).isoformat()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=BLE,
        data={"address": BLE, CONF_WIFI_MAC_CANDIDATES: [WIFI_MAC], CONF_CANDIDATES_UNTIL: past},
    )
    entry.add_to_hass(hass)
    tracker = network.NetworkTracker(hass, entry)
    stop = tracker.async_start()
    assert entry.data[CONF_WIFI_MAC_CANDIDATES] == []
    assert entry.data[CONF_CANDIDATES_UNTIL] is None

    tracker.async_provisioned([WIFI_MAC], None)  # a new window opens
    assert entry.data[CONF_WIFI_MAC_CANDIDATES] == [WIFI_MAC]
    until = dt_util.parse_datetime(entry.data[CONF_CANDIDATES_UNTIL])
    assert until is not None
    stop()  # the window's timer, called by hand below
    tracker._async_expired(until - timedelta(seconds=1))  # early timer: nothing changes
    assert entry.data[CONF_WIFI_MAC_CANDIDATES] == [WIFI_MAC]
    tracker._async_expired(until)
    assert entry.data[CONF_WIFI_MAC_CANDIDATES] == []


async def test_tracker_resolves_a_reported_host_name(hass: HomeAssistant) -> None:
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.ble_provisioning.const import (
        CONF_IP_ADDRESS,
        DOMAIN,
    )

    entry = MockConfigEntry(domain=DOMAIN, unique_id=BLE, data={"address": BLE})
    entry.add_to_hass(hass)
    tracker = network.NetworkTracker(hass, entry)
    await tracker._async_resolve("http://192.168.1.20:6543/-/")
    assert entry.data[CONF_IP_ADDRESS] == "192.168.1.20"
    await tracker._async_resolve("http://")  # nothing to resolve: nothing recorded
    assert entry.data[CONF_IP_ADDRESS] == "192.168.1.20"
