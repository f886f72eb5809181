"""What the "several devices" flow shows and stores: merged networks, result lines, entry data.

No flow logic here (see :mod:`.flow_batch`): the pieces that turn the devices' scans and the
engine's results into form options, text and config entry data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.const import CONF_ADDRESS
from homeassistant.helpers.selector import SelectOptionDict

from .const import (
    CONF_FLOW_SCAN,
    CONF_HOSTNAME,
    CONF_LAST_SECURITY,
    CONF_LAST_SSID,
    CONF_PROTOCOL,
    CONF_SECURITY_VERSION,
)
from .coordinator import flow_scan_data
from .device_data import accepted_hostname, accepted_ssid
from .protocol.engine import DeviceResult
from .protocol.models import Protocol, WifiNetwork

PROTOCOL_LABELS = {Protocol.BLUFI: "BluFi", Protocol.BLUENET: "Bluenet"}


@dataclass(frozen=True, slots=True)
class SeenNetwork:
    """A network in the merged list: how many selected devices see it, its best signal."""

    ssid: str
    devices: int
    rssi: int | None


def merge_networks(scans: Iterable[Iterable[WifiNetwork]]) -> list[SeenNetwork]:
    """Merge the devices' scans: most devices first, then the strongest signal."""
    seen: dict[str, tuple[int, int | None]] = {}
    for networks in scans:
        for ssid in {network.ssid for network in networks if network.ssid}:
            rssi = max(
                (n.rssi for n in networks if n.ssid == ssid and n.rssi is not None), default=None
            )
            count, best = seen.get(ssid, (0, None))
            if best is None or (rssi is not None and rssi > best):
                best = rssi
            seen[ssid] = (count + 1, best)
    merged = [SeenNetwork(ssid, count, rssi) for ssid, (count, rssi) in seen.items()]
    merged.sort(key=lambda item: (-item.devices, -(item.rssi if item.rssi is not None else -999)))
    return merged


def network_options(networks: list[SeenNetwork], total: int) -> list[SelectOptionDict]:
    """Return the SSID dropdown's options: "HomeNet (3 of 4 devices, -45 dBm)"."""
    options: list[SelectOptionDict] = []
    for network in networks:
        signal = "" if network.rssi is None else f", {network.rssi} dBm"
        label = f"{network.ssid} ({network.devices} of {total} devices{signal})"
        options.append(SelectOptionDict(value=network.ssid, label=label))
    return options


def result_line(result: DeviceResult) -> str:
    """One Markdown list line of the final step (no password: results hold none)."""
    mark = "✅" if result.success else "❌"
    details = [result.status]
    if result.reason_code is not None:
        details.append(f"reason {result.reason_code}")
    if result.rssi is not None:
        details.append(f"{result.rssi} dBm")
    details.append(f"{result.duration:.1f} s, {result.attempts} attempt(s)")
    return f"- {mark} {result.name or result.address} ({result.address}): {', '.join(details)}"


def entry_data(
    result: DeviceResult, networks: list[WifiNetwork] | None, scan_time: datetime | None
) -> dict[str, Any]:
    """Return the new entry's data for a device the batch provisioned (as the single flow)."""
    security = None if result.security is None else result.security.value
    data: dict[str, Any] = {
        CONF_ADDRESS: result.address,
        CONF_PROTOCOL: result.protocol.value,
        CONF_SECURITY_VERSION: security,
        CONF_LAST_SECURITY: security,
        CONF_HOSTNAME: accepted_hostname(result.hostname),
        CONF_LAST_SSID: accepted_ssid(result.ssid),
    }
    if networks and scan_time is not None:
        data[CONF_FLOW_SCAN] = flow_scan_data(networks, scan_time)
    return data


def placeholders(values: Mapping[str, object]) -> dict[str, str]:
    """Return description placeholders as strings."""
    return {key: str(value) for key, value in values.items()}
