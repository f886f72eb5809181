"""Home Assistant through the virtual proxy: discovery flows, connections, slot exhaustion."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time
from typing import Any
from unittest.mock import patch

import bleak_retry_connector
from bleak_retry_connector import BleakOutOfConnectionSlotsError
from habluetooth import get_manager
from homeassistant.components import bluetooth
from homeassistant.config_entries import SOURCE_BLUETOOTH
from homeassistant.core import HomeAssistant
import pytest

from bench.device import GenericTestPeripheral as Generic
from bench.proxy import VirtualProxy
from bench.radio import Radio
from custom_components.ble_provisioning.const import DOMAIN

from ..scenario import echo_round_trips_and_disconnect, report_timings

BLUFI_SERVICE = "0000ffff-0000-1000-8000-00805f9b34fb"
BLUENET_SERVICE = "fbe51523-b3e6-4f68-b6da-410c0bba1a78"
BLUFI_ADDRESS = "AA:BB:CC:DD:EE:01"
BLUENET_ADDRESS = "AA:BB:CC:DD:EE:02"
OTHER_ADDRESS = "AA:BB:CC:DD:EE:03"


async def _wait_for(
    hass: HomeAssistant, predicate: Callable[[], bool], timeout: float = 30.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            msg = "condition not met in time"
            raise AssertionError(msg)
        await asyncio.sleep(0.01)
        await hass.async_block_till_done()


def _ble_device(hass: HomeAssistant, address: str) -> Any:
    device = bluetooth.async_ble_device_from_address(hass, address, connectable=True)
    assert device is not None, f"{address} unknown to Home Assistant"
    return device


async def _add_and_wait(hass: HomeAssistant, radio: Radio, peripheral: Generic) -> None:
    await radio.add_peripheral(peripheral)
    await _wait_for(
        hass,
        lambda: bluetooth.async_ble_device_from_address(hass, peripheral.address, connectable=True)
        is not None,
    )


async def _establish(hass: HomeAssistant, address: str, **kwargs: Any) -> Any:
    # Look the class up at call time: Home Assistant's bluetooth set-up replaces
    # bleak_retry_connector.BleakClientWithServiceCache with habluetooth's wrapper.
    return await bleak_retry_connector.establish_connection(
        bleak_retry_connector.BleakClientWithServiceCache,
        _ble_device(hass, address),
        "bench",
        **kwargs,
    )


async def test_discovery_flows_via_virtual_proxy(
    hass: HomeAssistant, virtual_proxy: VirtualProxy, radio: Radio
) -> None:
    """(a) BluFi and Bluenet advertisements start flows; an unrelated one does not."""
    await radio.add_peripheral(
        Generic(address=BLUFI_ADDRESS, name="BLUFI_DEVICE", service_uuids=[BLUFI_SERVICE])
    )
    await radio.add_peripheral(
        Generic(address=BLUENET_ADDRESS, name=None, service_uuids=[BLUENET_SERVICE])
    )
    await radio.add_peripheral(
        Generic(
            address=OTHER_ADDRESS,
            name="OTHER",
            service_uuids=["0000180f-0000-1000-8000-00805f9b34fb"],
        )
    )

    def flows() -> list[Any]:
        return list(hass.config_entries.flow.async_progress_by_handler(DOMAIN))

    await _wait_for(hass, lambda: len(flows()) >= 2)
    # The unrelated device is seen by HA as well...
    await _wait_for(
        hass,
        lambda: bluetooth.async_ble_device_from_address(hass, OTHER_ADDRESS) is not None,
    )
    await hass.async_block_till_done()
    # ...but starts no flow.
    found = flows()
    assert sorted(f["context"]["unique_id"] for f in found) == [BLUFI_ADDRESS, BLUENET_ADDRESS]
    for flow in found:
        assert flow["context"]["source"] == SOURCE_BLUETOOTH
        assert flow["step_id"] == "bluetooth_confirm"
    # The proxy really is the path HA saw them through.
    info = bluetooth.async_last_service_info(hass, BLUFI_ADDRESS, connectable=True)
    assert info is not None
    assert info.source == virtual_proxy.source
    assert BLUFI_SERVICE in info.service_uuids
    assert info.name == "BLUFI_DEVICE"
    bluenet = bluetooth.async_last_service_info(hass, BLUENET_ADDRESS, connectable=True)
    assert bluenet is not None
    assert bluenet.service_uuids == [BLUENET_SERVICE]


async def test_establish_connection_through_proxy(
    hass: HomeAssistant, virtual_proxy: VirtualProxy, radio: Radio
) -> None:
    """(b) No backend argument: HA routes establish_connection to the proxy's Bumble client."""
    peripheral = Generic(address=BLUFI_ADDRESS, name="BLUFI_DEVICE", service_uuids=[BLUFI_SERVICE])
    await _add_and_wait(hass, radio, peripheral)
    dropped = asyncio.Event()
    client = await _establish(hass, BLUFI_ADDRESS, disconnected_callback=lambda _c: dropped.set())
    assert client.is_connected
    assert client.mtu_size == 517
    assert virtual_proxy.allocated == [BLUFI_ADDRESS]
    received: asyncio.Queue[bytes] = asyncio.Queue()
    await client.start_notify(Generic.NOTIFY_CHAR, lambda _c, d: received.put_nowait(bytes(d)))
    await client.write_gatt_char(Generic.WRITE_CHAR, b"via proxy", response=True)
    assert peripheral.writes == [b"via proxy"]
    assert await asyncio.wait_for(received.get(), 1) == b"via proxy"

    await peripheral.disconnect()
    await asyncio.wait_for(dropped.wait(), 30)
    assert not client.is_connected
    assert virtual_proxy.allocated == []


@pytest.mark.proxy_slots(1)
async def test_out_of_slots_then_freed(
    hass: HomeAssistant, virtual_proxy: VirtualProxy, radio: Radio
) -> None:
    """(c) All slots taken -> BleakOutOfConnectionSlotsError; a freed slot -> connects."""
    first = Generic(address=BLUFI_ADDRESS, name="BLUFI_DEVICE", service_uuids=[BLUFI_SERVICE])
    second = Generic(address=BLUENET_ADDRESS, name=None, service_uuids=[BLUENET_SERVICE])
    await _add_and_wait(hass, radio, first)
    await _add_and_wait(hass, radio, second)

    holder = await _establish(hass, BLUFI_ADDRESS)
    assert holder.is_connected
    assert not virtual_proxy.can_connect()
    allocations = get_manager().async_current_allocations(virtual_proxy.source)
    assert allocations is not None
    assert allocations[0].free == 0
    assert allocations[0].allocated == [BLUFI_ADDRESS]

    # bleak-retry-connector backs off 4 s per out-of-slots attempt (9 attempts); shrink it.
    with (
        patch.object(bleak_retry_connector, "BLEAK_OUT_OF_SLOTS_BACKOFF_TIME", 0.001),
        pytest.raises(BleakOutOfConnectionSlotsError) as err,
    ):
        await _establish(hass, BLUENET_ADDRESS)
    # The wrapper found no backend: can_connect() was False for the only path.
    assert "No backend with an available connection slot" in str(err.value)
    assert second.connection is None

    await holder.disconnect()
    assert virtual_proxy.can_connect()
    client = await _establish(hass, BLUENET_ADDRESS)
    assert client.is_connected
    assert second.is_connected
    assert virtual_proxy.allocated == [BLUENET_ADDRESS]
    await client.disconnect()
    assert virtual_proxy.allocated == []


@pytest.mark.proxy_slots(2)
async def test_two_slots_two_devices(
    hass: HomeAssistant, virtual_proxy: VirtualProxy, radio: Radio
) -> None:
    """slots=2: two devices connect at once; a third address finds no slot."""
    peripherals = [
        Generic(address=f"AA:BB:CC:DD:EE:1{i}", name=f"DEV{i}", service_uuids=[BLUFI_SERVICE])
        for i in range(3)
    ]
    for peripheral in peripherals:
        await _add_and_wait(hass, radio, peripheral)
    clients = [await _establish(hass, p.address) for p in peripherals[:2]]
    assert all(c.is_connected for c in clients)
    with (
        patch.object(bleak_retry_connector, "BLEAK_OUT_OF_SLOTS_BACKOFF_TIME", 0.001),
        pytest.raises(BleakOutOfConnectionSlotsError),
    ):
        await _establish(hass, peripherals[2].address)
    for client in clients:
        await client.disconnect()


async def test_ha_bench_scenario_timing(
    hass: HomeAssistant,
    virtual_proxy: VirtualProxy,
    radio: Radio,
    record_property: Any,
) -> None:
    """Timing: advertise -> HA sees it -> connect via proxy -> 10 round trips -> disconnect."""
    started = time.perf_counter()
    peripheral = Generic(address=BLUFI_ADDRESS, name="BLUFI_DEVICE", service_uuids=[BLUFI_SERVICE])
    await _add_and_wait(hass, radio, peripheral)
    found = time.perf_counter()
    client = await _establish(hass, BLUFI_ADDRESS)
    connected = time.perf_counter()
    trips, done = await echo_round_trips_and_disconnect(client)
    timings = report_timings(
        "ha",
        record_property,  # type: ignore[arg-type]
        started=started,
        found=found,
        connected=connected,
        trips=trips,
        done=done,
    )
    assert set(timings) == {"discovery_ms", "connect_ms", "round_trip_ms", "total_ms"}
