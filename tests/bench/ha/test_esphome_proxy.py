"""Home Assistant through the emulated ESPHome proxy (aioesphomeapi + bleak-esphome, both legs).

The proxy is wired the leg's way (``bench.esphome.ha.default_wiring``): HA's own esphome
integration where it loads (floor), ``connect_scanner`` as HA registers it elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

from bleak.exc import BleakError
import bleak_retry_connector
from bleak_retry_connector import BleakOutOfConnectionSlotsError
from habluetooth import get_manager
from homeassistant.components import bluetooth
from homeassistant.config_entries import SOURCE_BLUETOOTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest

from bench.device import GenericTestPeripheral as Generic
from bench.esphome.ha import EsphomeProxyHandle
from bench.radio import Radio
from custom_components.ble_provisioning.const import DOMAIN

BLUFI_SERVICE = "0000ffff-0000-1000-8000-00805f9b34fb"
FIRST = "AA:BB:CC:DD:EE:01"
SECOND = "AA:BB:CC:DD:EE:02"
PERIPHERAL_MTU = 247
CONNECT_V3_WITH_CACHE = 4
CONNECT_V3_WITHOUT_CACHE = 5
LIVENESS = 20.0
"""Upper bound of every wait: a hang fails, a busy machine does not (no duration asserted)."""


async def _until(
    hass: HomeAssistant, predicate: Callable[[], bool], timeout: float = LIVENESS
) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling HA and bench state
            await asyncio.sleep(0.01)
    await hass.async_block_till_done()


async def _add(hass: HomeAssistant, radio: Radio, address: str, **kwargs: Any) -> Generic:
    """Put a peripheral on the radio; wait until HA has it through a connectable scanner."""
    peripheral = Generic(address=address, max_mtu=PERIPHERAL_MTU, **kwargs)
    await radio.add_peripheral(peripheral)
    await _until(
        hass,
        lambda: bluetooth.async_ble_device_from_address(hass, address, connectable=True)
        is not None,
    )
    return peripheral


async def _establish(hass: HomeAssistant, address: str, **kwargs: Any) -> Any:
    device = bluetooth.async_ble_device_from_address(hass, address, connectable=True)
    assert device is not None
    # Looked up at call time: HA's bluetooth set-up swaps in habluetooth's wrapper class.
    return await bleak_retry_connector.establish_connection(
        bleak_retry_connector.BleakClientWithServiceCache, device, "bench", **kwargs
    )


def _allocations(source: str) -> Any:
    allocations = get_manager().async_current_allocations(source)
    assert allocations, f"no slot report from {source}"
    return allocations[0]


async def test_discovery_through_the_proxy_starts_a_flow(
    hass: HomeAssistant, esphome_proxy: EsphomeProxyHandle, radio: Radio
) -> None:
    await _add(hass, radio, FIRST, name="BLUFI_DEVICE", service_uuids=[BLUFI_SERVICE])

    def flows() -> list[Any]:
        return list(hass.config_entries.flow.async_progress_by_handler(DOMAIN))

    await _until(hass, lambda: bool(flows()))
    (flow,) = flows()
    assert flow["context"]["source"] == SOURCE_BLUETOOTH
    assert flow["context"]["unique_id"] == FIRST
    info = bluetooth.async_last_service_info(hass, FIRST, connectable=True)
    assert info is not None
    assert info.source == esphome_proxy.source
    assert info.name == "BLUFI_DEVICE"
    assert BLUFI_SERVICE in info.service_uuids
    scanner = get_manager().async_scanner_by_source(esphome_proxy.source)
    assert type(scanner).__name__ == "ESPHomeScanner"  # bleak-esphome's, not a bench class


@pytest.mark.proxy_slots(2)
async def test_scanner_is_a_connectable_esphome_proxy_with_its_slots(
    hass: HomeAssistant, esphome_proxy: EsphomeProxyHandle
) -> None:
    scanner = get_manager().async_scanner_by_source(esphome_proxy.source)
    assert scanner is not None
    assert scanner.connectable
    assert scanner.name.startswith(esphome_proxy.name)  # "<name> (<source>)"
    allocation = _allocations(esphome_proxy.source)
    assert (allocation.slots, allocation.free, allocation.allocated) == (2, 2, [])
    if esphome_proxy.wiring != "integration":
        return
    # What Settings > Bluetooth lists: a Bluetooth entry for the proxy, from HA's esphome.
    entry = hass.config_entries.async_get_entry(esphome_proxy.config_entry_id or "")
    assert entry is not None
    assert entry.state is ConfigEntryState.LOADED
    (bt_entry,) = [
        e
        for e in hass.config_entries.async_entries("bluetooth")
        if e.unique_id == esphome_proxy.source
    ]
    assert bt_entry.state is ConfigEntryState.LOADED
    assert bt_entry.data["source_domain"] == "esphome"
    assert bt_entry.data["source_config_entry_id"] == entry.entry_id
    registry = dr.async_get(hass)
    connection = (dr.CONNECTION_NETWORK_MAC, "a8:42:e3:00:00:10")
    # async_get_device(connections=...) is deprecated in newer Home Assistant (2026.x).
    if hasattr(registry, "async_get_devices"):
        devices = list(registry.async_get_devices(connections={connection}))
    else:
        found = registry.async_get_device(connections={connection})
        devices = [] if found is None else [found]
    assert [device.model for device in devices] == ["esp32dev"]


async def test_establish_connection_through_the_proxy(
    hass: HomeAssistant, esphome_proxy: EsphomeProxyHandle, radio: Radio
) -> None:
    """MTU from 69, reads, writes with and without response, notify via CCCD, device drop."""
    peripheral = await _add(hass, radio, FIRST)
    dropped = asyncio.Event()
    client = await _establish(hass, FIRST, disconnected_callback=lambda _c: dropped.set())
    assert client.is_connected
    assert client.mtu_size == PERIPHERAL_MTU  # negotiated by the proxy, reported in 69
    assert esphome_proxy.allocated == [FIRST]
    assert await client.read_gatt_char(Generic.READ_CHAR) == b"bench"
    received: asyncio.Queue[bytes] = asyncio.Queue()
    await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, d: received.put_nowait(bytes(d)))
    # bleak-esphome writes the CCCD itself (77; without waiting for 83 in 2.12).
    await _until(hass, lambda: bool(peripheral.subscriptions.get(Generic.NOTIFY_CHAR)))
    await client.write_gatt_char(Generic.WRITE_CHAR, b"with response", response=True)
    assert await asyncio.wait_for(received.get(), LIVENESS) == b"with response"
    await client.write_gatt_char(Generic.WRITE_CHAR, b"without", response=False)
    assert await asyncio.wait_for(received.get(), LIVENESS) == b"without"
    assert peripheral.writes == [b"with response", b"without"]

    await peripheral.disconnect()
    await asyncio.wait_for(dropped.wait(), LIVENESS)
    assert not client.is_connected
    await _until(hass, lambda: _allocations(esphome_proxy.source).free == esphome_proxy.slots)
    assert esphome_proxy.allocated == []


@pytest.mark.proxy_slots(1)
async def test_out_of_slots_then_a_release(
    hass: HomeAssistant, esphome_proxy: EsphomeProxyHandle, radio: Radio
) -> None:
    await _add(hass, radio, FIRST)
    second = await _add(hass, radio, SECOND)
    holder = await _establish(hass, FIRST)
    await _until(hass, lambda: _allocations(esphome_proxy.source).free == 0)
    # bleak-retry-connector backs off 4 s per out-of-slots attempt; shrink it.
    with (
        patch.object(bleak_retry_connector, "BLEAK_OUT_OF_SLOTS_BACKOFF_TIME", 0.001),
        pytest.raises(BleakOutOfConnectionSlotsError),
    ):
        await _establish(hass, SECOND)
    assert not second.is_connected
    assert esphome_proxy.allocated == [FIRST]

    await holder.disconnect()
    await _until(hass, lambda: _allocations(esphome_proxy.source).free == 1)
    client = await _establish(hass, SECOND)
    assert second.connection is not None
    assert esphome_proxy.allocated == [SECOND]
    await client.disconnect()


async def test_connections_free_reports_reach_the_manager(
    hass: HomeAssistant, esphome_proxy: EsphomeProxyHandle, radio: Radio
) -> None:
    await _add(hass, radio, FIRST)
    await _add(hass, radio, SECOND)
    source = esphome_proxy.source

    def report() -> tuple[int, list[str]]:
        allocation = _allocations(source)
        return allocation.free, sorted(allocation.allocated)

    assert report() == (3, [])
    first = await _establish(hass, FIRST)
    await _until(hass, lambda: report() == (2, [FIRST]))
    second = await _establish(hass, SECOND)
    await _until(hass, lambda: report() == (1, [FIRST, SECOND]))
    await first.disconnect()
    await _until(hass, lambda: report() == (2, [SECOND]))
    await second.disconnect()
    await _until(hass, lambda: report() == (3, []))


async def test_cached_and_uncached_connects(
    hass: HomeAssistant, esphome_proxy: EsphomeProxyHandle, radio: Radio
) -> None:
    """First connect: v3 without cache; reconnect: v3 with cache (no discovery, cached MTU)."""
    peripheral = await _add(hass, radio, FIRST)
    requests = esphome_proxy.server.proxy.connect_requests

    client = await _establish(hass, FIRST)
    assert requests[-1] == (FIRST, CONNECT_V3_WITHOUT_CACHE)
    await client.disconnect()

    client = await _establish(hass, FIRST)
    assert requests[-1] == (FIRST, CONNECT_V3_WITH_CACHE)
    assert client.mtu_size == PERIPHERAL_MTU  # the host cache's, not 69's pre-exchange 23
    received: asyncio.Queue[bytes] = asyncio.Queue()
    await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, d: received.put_nowait(bytes(d)))
    await client.write_gatt_char(Generic.WRITE_CHAR, b"cached", response=True)
    assert await asyncio.wait_for(received.get(), LIVENESS) == b"cached"
    await client.disconnect()

    client = await _establish(hass, FIRST, use_services_cache=False)
    assert requests[-1] == (FIRST, CONNECT_V3_WITHOUT_CACHE)
    await client.disconnect()
    assert peripheral.writes == [b"cached"]


async def test_gatt_error_becomes_a_bleak_error(
    hass: HomeAssistant, esphome_proxy: EsphomeProxyHandle, radio: Radio
) -> None:
    await _add(hass, radio, FIRST)
    client = await _establish(hass, FIRST)
    with pytest.raises(BleakError, match="Read not permitted"):
        await client.read_gatt_char(Generic.WRITE_CHAR)
    with pytest.raises(BleakError, match="Write not permitted"):
        await client.write_gatt_char(Generic.READ_CHAR, b"x", response=True)
    assert client.is_connected  # a GATT error does not drop the link
    await client.disconnect()


@pytest.mark.esphome_wiring("scanner")
async def test_connect_scanner_wiring(
    hass: HomeAssistant, esphome_proxy: EsphomeProxyHandle, radio: Radio
) -> None:
    """The connect_scanner wiring on every leg: registered as esphome's, no config entry."""
    assert esphome_proxy.config_entry_id is None
    assert not hass.config_entries.async_entries("esphome")
    peripheral = await _add(hass, radio, FIRST)
    client = await _establish(hass, FIRST)
    assert client.mtu_size == PERIPHERAL_MTU
    await client.write_gatt_char(Generic.WRITE_CHAR, b"scanner wiring", response=True)
    assert peripheral.writes == [b"scanner wiring"]
    await client.disconnect()
