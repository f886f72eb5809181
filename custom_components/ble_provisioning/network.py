"""The provisioned device on the IP network: its Wi-Fi MAC, IP address and host name.

After a successful provisioning the entry records the device's network identity
(:func:`~.protocol.identity.network_identity`): for an ESP32 the Wi-Fi MAC *candidates* derived
from its Bluetooth address, for Bluenet the host name it reports.

Home Assistant's DHCP discovery for registered devices (manifest ``dhcp: registered_devices``)
starts a discovery flow of this integration for a MAC that one of its devices lists in its
``connections``. So the candidates go into the device's connections for
:data:`~.const.CANDIDATE_WINDOW` seconds after a provisioning; when the DHCP discovery reports
one of them (:meth:`~.config_flow.BleProvisioningConfigFlow.async_step_dhcp`), it is
*confirmed*: it stays in the connections (so the device's own integration, ESPHome or any other
that registers ``CONNECTION_NETWORK_MAC``, shows as the same device) and the IP address and DHCP
host name are kept, then updated whenever they change. Unconfirmed candidates leave the
connections when the window ends.

Home Assistant 2025.10+ (``dhcp.async_discovered_service_info``) also tells what its DHCP watchers
have already seen: a device that joined before its entry existed is found at once. Older versions
report a device only when its address data changes after the entry exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import ipaddress
import logging
import socket
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util
from homeassistant.util.network import is_ip_address
from yarl import URL

from . import const
from .const import (
    CONF_CANDIDATES_UNTIL,
    CONF_DHCP_HOSTNAME,
    CONF_HOSTNAME,
    CONF_IP_ADDRESS,
    CONF_WIFI_MAC,
    CONF_WIFI_MAC_CANDIDATES,
    DOMAIN,
)
from .protocol.identity import normalize_mac

_LOGGER = logging.getLogger(__name__)


def signal_network_updated(entry_id: str) -> str:
    """Dispatcher signal sent when an entry's network data changed."""
    return f"{DOMAIN}_network_updated_{entry_id}"


@dataclass(frozen=True, slots=True)
class Sighting:
    """The device seen on the network (a DHCP discovery, or a resolved host name)."""

    ip: str
    mac: str | None = None
    """``aa:bb:cc:dd:ee:ff`` (None when only a host name was resolved)."""
    hostname: str | None = None


def entry_macs(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the confirmed Wi-Fi MAC and the candidates still in their window (normalized)."""
    macs: list[str] = []
    if (confirmed := normalize_mac(str(data.get(CONF_WIFI_MAC) or ""))) is not None:
        macs.append(confirmed)
    if candidates_valid(data):
        for value in data.get(CONF_WIFI_MAC_CANDIDATES) or ():
            if (mac := normalize_mac(str(value))) is not None and mac not in macs:
                macs.append(mac)
    return tuple(macs)


def candidates_valid(data: Mapping[str, Any]) -> bool:
    """Whether the entry's candidates are still waiting for confirmation."""
    until = dt_util.parse_datetime(str(data.get(CONF_CANDIDATES_UNTIL) or ""))
    return until is not None and dt_util.utcnow() < until


def candidate_data(candidates: Iterable[str], now: datetime | None = None) -> dict[str, Any]:
    """Entry data that opens a confirmation window for ``candidates``."""
    macs = list(candidates)
    if not macs:
        return {CONF_WIFI_MAC_CANDIDATES: [], CONF_CANDIDATES_UNTIL: None}
    until = (now or dt_util.utcnow()) + timedelta(seconds=const.CANDIDATE_WINDOW)
    return {CONF_WIFI_MAC_CANDIDATES: macs, CONF_CANDIDATES_UNTIL: until.isoformat()}


def sighting_data(sighting: Sighting) -> dict[str, Any]:
    """Entry data recording ``sighting`` (a MAC sighting confirms the MAC)."""
    data: dict[str, Any] = {CONF_IP_ADDRESS: sighting.ip}
    if sighting.hostname:
        data[CONF_DHCP_HOSTNAME] = sighting.hostname
    if sighting.mac is not None:
        data |= {CONF_WIFI_MAC: sighting.mac, CONF_WIFI_MAC_CANDIDATES: []}
        data[CONF_CANDIDATES_UNTIL] = None
    return data


@callback
def async_known_sighting(hass: HomeAssistant, macs: Iterable[str]) -> Sighting | None:
    """Return what Home Assistant's DHCP discovery has already seen for one of ``macs``.

    Needs ``dhcp.async_discovered_service_info`` (newer Home Assistant); None without it.
    """
    if "dhcp" not in hass.config.components:
        return None
    from homeassistant.components import dhcp  # noqa: PLC0415 - loaded only when set up

    discovered: Callable[[HomeAssistant], list[Any]] | None = getattr(
        dhcp, "async_discovered_service_info", None
    )
    if discovered is None:
        return None
    wanted = set(macs)
    for info in discovered(hass):
        if (mac := normalize_mac(info.macaddress)) in wanted:
            return Sighting(info.ip, mac, info.hostname or None)
    return None


def host_of(reported: str) -> str | None:
    """Return the host of a reported host name or URL (``http://192.168.1.20:6543/-/`` → the IP)."""
    if "://" not in reported:
        return reported or None
    try:
        return URL(reported).host
    except (ValueError, TypeError):
        return None


async def async_resolve(hostname: str) -> str | None:
    """Resolve a reported host name (or URL) to an IP address, off the event loop, bounded.

    An IP address is returned as it is; a name is looked up with the resolver in the executor
    (``loop.getaddrinfo``) for at most :data:`~.const.RESOLVE_TIMEOUT` seconds; IPv4 first.
    """
    host = host_of(hostname)
    if host is None:
        return None
    if is_ip_address(host):
        return host
    try:
        async with asyncio.timeout(const.RESOLVE_TIMEOUT):
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError, UnicodeError, RuntimeError) as err:
        # No answer, a name that is not IDNA, or a resolver that refuses to run (tests): the
        # address stays unknown until the DHCP discovery or a later host name tells.
        _LOGGER.debug("Could not resolve %s: %s", host, err)
        return None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    addresses.sort(key=lambda address: address.version)
    return str(addresses[0]) if addresses else None


def _entry_device(hass: HomeAssistant, entry: ConfigEntry) -> dr.DeviceEntry | None:
    registry = dr.async_get(hass)
    address = entry.data[CONF_ADDRESS]
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if (DOMAIN, address) in device.identifiers:
            return device
    return None


@callback
def async_sync_connections(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Make the device's network MACs what the entry says (confirmed + candidates in window)."""
    device = _entry_device(hass, entry)
    if device is None:
        return  # the entities register the device (with the confirmed MAC) when set up
    wanted = {(dr.CONNECTION_NETWORK_MAC, mac) for mac in entry_macs(entry.data)}
    others = {item for item in device.connections if item[0] != dr.CONNECTION_NETWORK_MAC}
    if device.connections != others | wanted:
        dr.async_get(hass).async_update_device(device.id, new_connections=others | wanted)


@callback
def async_record(hass: HomeAssistant, entry: ConfigEntry, updates: Mapping[str, Any]) -> None:
    """Store network data in the entry, sync the device's connections and tell the entities."""
    data = {**entry.data, **updates}
    if data != dict(entry.data):
        hass.config_entries.async_update_entry(entry, data=data)
    async_sync_connections(hass, entry)
    async_dispatcher_send(hass, signal_network_updated(entry.entry_id))


@callback
def async_entry_for_mac(hass: HomeAssistant, mac: str) -> ConfigEntry | None:
    """Return the entry whose confirmed MAC or candidate (in its window) is ``mac``."""
    for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=False):
        if mac in entry_macs(entry.data):
            return entry
    return None


@callback
def async_seen(hass: HomeAssistant, entry: ConfigEntry, sighting: Sighting) -> None:
    """Record a sighting of the entry's device (from the DHCP discovery)."""
    _LOGGER.debug("%s is on the network at %s (%s)", entry.title, sighting.ip, sighting.mac)
    async_record(hass, entry, sighting_data(sighting))


class NetworkTracker:
    """One loaded entry's network identity: the candidates' window, a host name's address."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Track nothing yet."""
        self._hass = hass
        self._entry = entry
        self._unsub_expiry: CALLBACK_TYPE | None = None

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Sync the device's connections, look for the device, expire the window; return stop."""
        data = self._entry.data
        self.async_check(None if data.get(CONF_IP_ADDRESS) else data.get(CONF_HOSTNAME))
        return self._async_stop

    @callback
    def _async_stop(self) -> None:
        if self._unsub_expiry is not None:
            self._unsub_expiry()
            self._unsub_expiry = None

    @callback
    def async_provisioned(self, candidates: Iterable[str], hostname: str | None) -> None:
        """After a success: open a new window for ``candidates`` and look again."""
        self._hass.config_entries.async_update_entry(
            self._entry, data={**self._entry.data, **candidate_data(candidates)}
        )
        self.async_check(hostname)

    @callback
    def async_check(self, hostname: str | None = None) -> None:
        """Apply what is known now: DHCP's data, the window's end, the host name."""
        data = self._entry.data
        sighting = async_known_sighting(self._hass, entry_macs(data))
        if sighting is not None and any(
            data.get(key) != value for key, value in sighting_data(sighting).items()
        ):
            async_seen(self._hass, self._entry, sighting)
        async_sync_connections(self._hass, self._entry)
        self._async_schedule_expiry()
        if hostname and not self._entry.data.get(CONF_WIFI_MAC):
            self._entry.async_create_background_task(
                self._hass, self._async_resolve(hostname), f"{DOMAIN} resolve {hostname}"
            )

    def _async_schedule_expiry(self) -> None:
        self._async_stop()
        data = self._entry.data
        until = dt_util.parse_datetime(str(data.get(CONF_CANDIDATES_UNTIL) or ""))
        if until is None:
            return
        if not candidates_valid(data):
            async_record(
                self._hass, self._entry, {CONF_WIFI_MAC_CANDIDATES: [], CONF_CANDIDATES_UNTIL: None}
            )
            return
        self._unsub_expiry = async_track_point_in_utc_time(self._hass, self._async_expired, until)

    @callback
    def _async_expired(self, now: datetime) -> None:
        """End the window without a confirmation: the candidates leave the connections."""
        self._unsub_expiry = None
        until = dt_util.parse_datetime(str(self._entry.data.get(CONF_CANDIDATES_UNTIL) or ""))
        if until is not None and now >= until:
            async_record(
                self._hass, self._entry, {CONF_WIFI_MAC_CANDIDATES: [], CONF_CANDIDATES_UNTIL: None}
            )

    async def _async_resolve(self, hostname: str) -> None:
        if (ip := await async_resolve(hostname)) is not None:
            async_record(self._hass, self._entry, {CONF_IP_ADDRESS: ip})
