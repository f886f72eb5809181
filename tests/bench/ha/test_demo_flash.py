"""The demo's emulated devices keep their Wi-Fi settings across restarts (dev component)."""

from __future__ import annotations

import asyncio
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from homeassistant.core import HomeAssistant

from bench.emulators.bluenet import BluenetTimings
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.bluenet import BluenetClient
from custom_components.ble_provisioning.protocol.blufi import AsyncBlufiClient
from dev.custom_components.ble_provisioning_bench.devices import (
    BLUENET_ADDRESS,
    BLUFI_V1_ADDRESS,
    BLUFI_V2_ADDRESS,
    WORKING_PASSWORD,
    WORKING_SSID,
    build_emulators,
)
from dev.custom_components.ble_provisioning_bench.flash import (
    DemoFlash,
    bluenet_profile,
    restore_after_boot,
    restore_before_boot,
)

JOIN_DELAY = 0.05


async def _find(radio: Radio, address: str) -> BLEDevice:
    device = await BleakScanner.find_device_by_address(
        address, timeout=30, backend=radio.scanner_backend
    )
    assert device is not None, f"{address} not advertising"
    return device


async def _boot(hass: HomeAssistant, radio: Radio) -> tuple[DemoFlash, list[Any]]:
    """Start the demo's devices on ``radio`` with what they kept, as the dev component does."""
    flash = DemoFlash(hass)
    await flash.async_load()
    emulators = build_emulators(
        bluenet_profile(flash.record(BLUENET_ADDRESS)),
        join_delay=JOIN_DELAY,
        bluenet_timings=BluenetTimings.fast(),
    )
    for emulator in emulators:
        restore_before_boot(emulator, flash.record(emulator.address))
        await radio.add_peripheral(emulator)
        restore_after_boot(emulator, flash.record(emulator.address))
    return flash, emulators


async def _blufi_status(radio: Radio, address: str) -> Any:
    async with AsyncBlufiClient(await _find(radio, address), backend=radio.client_backend) as cli:
        await cli.negotiate_security()
        return await cli.get_wifi_status()


async def _close(emulators: list[Any]) -> None:
    for emulator in emulators:
        await emulator.close()


async def test_devices_rejoin_with_what_they_kept(hass: HomeAssistant) -> None:
    async with Radio() as radio:
        flash, emulators = await _boot(hass, radio)
        try:
            await _provision(radio, flash, emulators)
        finally:
            await _close(emulators)

    # "Restart": new stacks, new emulator objects, the same storage.
    async with Radio() as radio:
        flash, emulators = await _boot(hass, radio)
        try:
            await _check_rejoined(radio, flash)
        finally:
            await _close(emulators)


async def _provision(radio: Radio, flash: DemoFlash, emulators: list[Any]) -> None:
    assert flash.records == {}
    blufi = AsyncBlufiClient(await _find(radio, BLUFI_V1_ADDRESS), backend=radio.client_backend)
    result = await blufi.provision(WORKING_SSID, WORKING_PASSWORD, poll_interval=0.05)
    assert result.success, result
    bluenet = BluenetClient(await _find(radio, BLUENET_ADDRESS), backend=radio.client_backend)
    async with bluenet:
        outcome = await bluenet.provision(WORKING_SSID, WORKING_PASSWORD)
    assert outcome.success, outcome
    assert flash.capture(emulators)
    await flash.async_save()


async def _check_rejoined(radio: Radio, flash: DemoFlash) -> None:
    assert set(flash.records) == {BLUENET_ADDRESS, BLUFI_V1_ADDRESS}
    async with asyncio.timeout(10):
        while not (status := await _blufi_status(radio, BLUFI_V1_ADDRESS)).is_connected:  # noqa: ASYNC110 - polled over BLE, as a client does
            await asyncio.sleep(JOIN_DELAY)
    assert status.ssid == WORKING_SSID
    untouched = await _blufi_status(radio, BLUFI_V2_ADDRESS)
    assert not untouched.is_connected
    async with BluenetClient(
        await _find(radio, BLUENET_ADDRESS), backend=radio.client_backend
    ) as bluenet:
        state = await bluenet.get_state()
    assert state.is_connected
    assert state.ssid == WORKING_SSID
