"""Home Assistant's DHCP discovery in the integration tests.

The ``dhcp`` integration is set up for real and fed through its device-tracker watcher (a
``device_tracker`` entity of a router: ``source_type: router`` with ``ip``/``mac``/``host_name``
attributes), which is the path a router integration takes. Its packet and network-scan watchers
only start with Home Assistant's "started" event, which the test instance never fires again.

The test virtualenvs do not carry the ``dhcp`` integration's own requirements (``aiodhcpwatcher``,
``aiodiscover``, ``cached-ipaddress``), which only those other watchers use (and
``cached_ip_addresses``, an ``lru_cache`` over :func:`ipaddress.ip_address`): when they are
missing, minimal stand-ins are installed for the import. Installing the packages makes the
stand-ins unused.
"""

from __future__ import annotations

from collections.abc import Iterator
import functools
import importlib.util
import ipaddress
import sys
import types
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component


def _stand_ins() -> dict[str, types.ModuleType]:
    modules: dict[str, types.ModuleType] = {}
    if importlib.util.find_spec("cached_ipaddress") is None:
        cached = types.ModuleType("cached_ipaddress")

        @functools.lru_cache(maxsize=256)
        def cached_ip_addresses(address: str) -> Any:
            try:
                return ipaddress.ip_address(address)
            except ValueError:
                return None

        cached.cached_ip_addresses = cached_ip_addresses  # type: ignore[attr-defined]
        modules["cached_ipaddress"] = cached
    if importlib.util.find_spec("aiodhcpwatcher") is None:
        watcher = types.ModuleType("aiodhcpwatcher")

        async def _unused(*_args: Any, **_kwargs: Any) -> Any:
            raise AssertionError("the packet watcher does not run in tests")

        watcher.async_init = _unused  # type: ignore[attr-defined]
        watcher.async_start = _unused  # type: ignore[attr-defined]
        watcher.DHCPRequest = object  # type: ignore[attr-defined]
        modules["aiodhcpwatcher"] = watcher
    if importlib.util.find_spec("aiodiscover") is None:
        discover = types.ModuleType("aiodiscover")
        discover.DiscoverHosts = object  # type: ignore[attr-defined]
        discovery = types.ModuleType("aiodiscover.discovery")
        discovery.HOSTNAME = "hostname"  # type: ignore[attr-defined]
        discovery.IP_ADDRESS = "ip_address"  # type: ignore[attr-defined]
        discovery.MAC_ADDRESS = "macaddress"  # type: ignore[attr-defined]
        discover.discovery = discovery  # type: ignore[attr-defined]
        modules["aiodiscover"] = discover
        modules["aiodiscover.discovery"] = discovery
    return modules


@functools.cache
def dhcp_stand_ins() -> dict[str, types.ModuleType]:
    """The stand-ins this virtualenv needs (built once)."""
    return _stand_ins()


def dhcp_modules() -> Iterator[None]:
    """Make ``homeassistant.components.dhcp`` importable (see the module's note)."""
    with patch.dict(sys.modules, dhcp_stand_ins()):
        yield


async def async_setup_dhcp(hass: HomeAssistant) -> None:
    """Set up Home Assistant's DHCP discovery (its passive watchers)."""
    assert await async_setup_component(hass, "dhcp", {})
    await hass.async_block_till_done()


def router_reports(
    hass: HomeAssistant, mac: str, ip: str, hostname: str = "", *, name: str = "esp"
) -> None:
    """A router integration's device tracker reports a client (the DHCP watcher reads it)."""
    hass.states.async_set(
        f"device_tracker.{name}",
        "home",
        {"source_type": "router", "ip": ip, "mac": mac, "host_name": hostname},
    )


def has_dhcp_address_data() -> bool:
    """Whether this Home Assistant's DHCP integration tells what it has already seen."""
    from homeassistant.components import dhcp

    return hasattr(dhcp, "async_discovered_service_info")
