"""Each link profile through Home Assistant's bluetooth manager (the ``link_scanner`` fixture).

HA routes ``establish_connection(BleakClientWithServiceCache, ...)`` to the profile's path; what
bleak reports there is the profile's, and HA shows the path as the profile's kind of adapter.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any, NamedTuple

from bleak.exc import BleakError
import bleak_retry_connector
from habluetooth import get_manager
from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
import pytest

from bench.device import GenericTestPeripheral as Generic
from bench.link.ha import LOCAL_ADAPTER_NAME, LOCAL_ADAPTER_SOURCE
from bench.link.profiles import BLUEZ_LOCAL, IDEAL, LinkProfile, ScannerHandle
from bench.proxy import DEFAULT_PROXY_NAME, DEFAULT_PROXY_SOURCE
from bench.radio import Radio

ADDRESS = "AA:BB:CC:DD:EE:01"
SERVICE = "0000ffff-0000-1000-8000-00805f9b34fb"


class Path(NamedTuple):
    source: str
    adapter: str
    slots: int


EXPECTED = {
    IDEAL: Path(DEFAULT_PROXY_SOURCE, DEFAULT_PROXY_NAME, 3),
    BLUEZ_LOCAL: Path(LOCAL_ADAPTER_SOURCE, LOCAL_ADAPTER_NAME, 5),
}


async def _wait_for(hass: HomeAssistant, predicate: Any) -> None:
    async with asyncio.timeout(30):
        while not predicate():
            await asyncio.sleep(0.01)
            await hass.async_block_till_done()


async def _establish(hass: HomeAssistant, **kwargs: Any) -> Any:
    device = bluetooth.async_ble_device_from_address(hass, ADDRESS, connectable=True)
    assert device is not None
    return await bleak_retry_connector.establish_connection(
        bleak_retry_connector.BleakClientWithServiceCache, device, "bench", **kwargs
    )


def _exchanges(radio: Radio) -> int:
    state = radio.link.link(ADDRESS)
    assert state is not None
    return state.exchanges


@pytest.mark.link_profiles(IDEAL, BLUEZ_LOCAL)
async def test_what_home_assistant_and_bleak_see(
    hass: HomeAssistant, link_scanner: ScannerHandle, radio: Radio, link_profile: LinkProfile
) -> None:
    expected = EXPECTED[link_profile.name]
    assert link_scanner.source == expected.source
    peripheral = Generic(address=ADDRESS, name="BLUFI_DEVICE", service_uuids=[SERVICE])
    await radio.add_peripheral(peripheral)
    await _wait_for(
        hass, lambda: bluetooth.async_last_service_info(hass, ADDRESS, connectable=True)
    )
    info = bluetooth.async_last_service_info(hass, ADDRESS, connectable=True)
    assert info is not None
    assert info.source == expected.source

    # What HA shows for the path (Settings > Bluetooth reads these).
    scanner = bluetooth.async_scanner_by_source(hass, expected.source)
    assert scanner is not None
    details = asdict(scanner.details)
    assert details["adapter"] == expected.adapter
    assert details["name"] == f"{expected.adapter} ({expected.source})"
    assert details["connectable"] is True
    if "scanner_type" in details:  # habluetooth >= 4: a registered scanner is a remote one
        assert details["scanner_type"].value == "remote"
    # No bluetooth config entry (Settings > Bluetooth lists config entries as adapters).
    assert (
        hass.config_entries.async_entry_for_domain_unique_id("bluetooth", expected.source) is None
    )
    allocations = get_manager().async_current_allocations(expected.source)
    assert allocations is not None
    assert (allocations[0].slots, allocations[0].free) == (expected.slots, expected.slots)

    # What bleak reports through HA's wrapper.
    client = await _establish(hass)
    assert link_scanner.allocated == [ADDRESS]
    char = client.services.get_characteristic(Generic.WRITE_CHAR)
    assert char.max_write_without_response_size == 514
    if link_profile.name == BLUEZ_LOCAL:
        with pytest.warns(UserWarning, match="Using default MTU value"):
            assert client.mtu_size == 23
    else:
        assert client.mtu_size == 517
    discovery = _exchanges(radio)
    first_services = client.services
    await client.disconnect()
    assert link_scanner.allocated == []

    client = await _establish(hass)
    if link_profile.name == BLUEZ_LOCAL:
        assert _exchanges(radio) == 1  # the MTU exchange; services from the cache
        assert client.services is first_services
    else:
        assert _exchanges(radio) == discovery
    await client.disconnect()


@pytest.mark.link_profiles(IDEAL, BLUEZ_LOCAL)
async def test_drop_reaches_home_assistant(
    hass: HomeAssistant, link_scanner: ScannerHandle, radio: Radio, link_profile: LinkProfile
) -> None:
    """A drop after N exchanges: the callback fires through HA's wrapper, the slot is freed."""
    await radio.add_peripheral(
        Generic(address=ADDRESS, name="BLUFI_DEVICE", service_uuids=[SERVICE], echo=False)
    )
    await _wait_for(hass, lambda: bluetooth.async_address_present(hass, ADDRESS, True))
    dropped = asyncio.Event()
    client = await _establish(hass, disconnected_callback=lambda _c: dropped.set())
    state = radio.link.link(ADDRESS)
    assert state is not None
    state.arm_drop(1)
    await client.write_gatt_char(Generic.WRITE_CHAR, b"1", response=True)
    with pytest.raises(BleakError):
        await client.write_gatt_char(Generic.WRITE_CHAR, b"2", response=True)
    await asyncio.wait_for(dropped.wait(), 30)
    assert not client.is_connected
    assert link_scanner.allocated == []
