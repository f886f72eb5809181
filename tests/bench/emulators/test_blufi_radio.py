"""The emulated ESP32 on the bench radio: advertising, names, fragment size across links."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
import pytest

from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator
from bench.radio import Radio, RadioAdvertisement
from custom_components.ble_provisioning.protocol.blufi.const import (
    NOTIFY_CHAR_UUID,
    SERVICE_UUID,
    V1_DH_P,
    WRITE_CHAR_UUID,
)

from .blufi_phone import param_blob

ADDRESS = "24:0A:C4:12:AB:CD"


async def find(radio: Radio, timeout: float = 5.0) -> BLEDevice:
    device = await BleakScanner.find_device_by_filter(
        lambda _d, adv: SERVICE_UUID in adv.service_uuids,
        timeout=timeout,
        backend=radio.scanner_backend,
    )
    assert device is not None
    return device


def advertising(emulator: Esp32BlufiEmulator) -> bool:
    return emulator.advertising


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling emulator state
            await asyncio.sleep(0.005)


async def test_advertising_stops_while_connected(radio: Radio) -> None:
    emulator = Esp32BlufiEmulator(BlufiDeviceConfig(seed=1), profile="v5.5", address=ADDRESS)
    await radio.add_peripheral(emulator)
    try:
        assert advertising(emulator)
        async with BleakClient(await find(radio), backend=radio.client_backend):
            await until(lambda: emulator.is_connected)
            assert not advertising(emulator)
        await until(lambda: emulator.advertising_starts == 2)  # restarted by the firmware
        assert advertising(emulator)
    finally:
        await emulator.close()


async def test_v2_chip_without_mpi_advertises_after_its_key_pair(radio: Radio) -> None:
    """Boot and every disconnect: the key pair first, then advertising."""
    config = BlufiDeviceConfig(seed=2, dh_precompute=0.3, dh_private_bits=256)
    emulator = Esp32BlufiEmulator(config, profile="v6.0", address=ADDRESS)
    await radio.add_peripheral(emulator)
    pregen = emulator.model.pregen
    assert pregen is not None
    try:
        assert pregen.running
        assert not advertising(emulator)
        device = await find(radio)
        assert pregen.runs == 1
        async with BleakClient(device, backend=radio.client_backend):
            await until(lambda: emulator.is_connected)
        await until(lambda: not emulator.is_connected)
        assert pregen.running
        assert not advertising(emulator)
        await until(lambda: emulator.advertising)
        assert pregen.runs == 2
    finally:
        await emulator.close()


async def test_name_without_blufi_from_esp_idf_5_5_2(radio: Radio) -> None:
    seen: list[RadioAdvertisement] = []
    remove = radio.add_advertisement_listener(seen.append)
    emulators = [
        Esp32BlufiEmulator(profile="v5.5.2+", address=ADDRESS),
        Esp32BlufiEmulator(profile="v5.5", address="24:0A:C4:00:00:02"),
    ]
    try:
        for emulator in emulators:
            await radio.add_peripheral(emulator)
        await until(lambda: {a.address for a in seen} >= {e.address for e in emulators})
        names = {a.address: a.data.local_name for a in seen}
        assert names == {ADDRESS: "ESP32-ABCD", "24:0A:C4:00:00:02": "BLUFI_DEVICE"}
        assert all(SERVICE_UUID in a.data.service_uuids for a in seen)
    finally:
        remove()
        for emulator in emulators:
            await emulator.close()


def neg_frames(limit: int) -> list[bytes]:
    """A V1 negotiation (legacy group) cut into frames of at most ``limit`` bytes."""
    blob = param_blob(V1_DH_P, 128, pow(2, 0x1234567, V1_DH_P).to_bytes(128, "big"))
    frames = [bytes((0x01, 0, 0, 3, 0)) + len(blob).to_bytes(2, "big")]
    message = b"\x01" + blob
    chunk = limit - 4 - 2
    pos = 0
    while pos < len(message):
        seq = len(frames)
        rest = message[pos:]
        if len(rest) > limit - 4:
            body = len(rest).to_bytes(2, "little") + rest[:chunk]
            frames.append(bytes((0x01, 0x10, seq, len(body))) + body)
            pos += chunk
        else:
            frames.append(bytes((0x01, 0, seq, len(rest))) + rest)
            pos = len(message)
    return frames


async def test_fragment_size_survives_links_and_the_stack_cuts_at_mtu_minus_3() -> None:
    emulator = Esp32BlufiEmulator(BlufiDeviceConfig(seed=3), profile="v5.5", address=ADDRESS)
    async with Radio(mtu=517) as radio:
        await radio.add_peripheral(emulator)
        try:
            async with BleakClient(await find(radio), backend=radio.client_backend):
                await until(lambda: emulator.model.frag_size == 244)
            await until(lambda: emulator.advertising)
            radio.mtu = 23  # the next central exchanges no MTU
            received: list[bytes] = []
            async with BleakClient(await find(radio), backend=radio.client_backend) as client:
                await client.start_notify(
                    NOTIFY_CHAR_UUID, lambda _c, data: received.append(bytes(data))
                )
                for frame in neg_frames(20):
                    await client.write_gatt_char(WRITE_CHAR_UUID, frame, response=True)
                await until(lambda: bool(received))
            assert emulator.model.notifications[-1][3] == 128  # one 132-byte frame was sent
            assert len(emulator.model.notifications[-1]) == 132
            assert received == [emulator.model.notifications[-1][:20]]  # cut at ATT_MTU - 3
        finally:
            await emulator.close()


@pytest.mark.parametrize("client_first", [True, False])
async def test_removed_from_the_radio_the_firmware_restarts_nothing(client_first: bool) -> None:
    """Removing the device (after or while a central is connected) leaves nothing running:
    the teardown's lingering-timer check fails on a controller still advertising."""
    emulator = Esp32BlufiEmulator(BlufiDeviceConfig(seed=4), profile="v5.5", address=ADDRESS)
    async with Radio() as radio:
        await radio.add_peripheral(emulator)
        client = BleakClient(await find(radio), backend=radio.client_backend)
        await client.connect()
        await until(lambda: emulator.is_connected)
        if client_first:
            await client.disconnect()
        await radio.remove_peripheral(emulator)
        assert emulator.device is None
        starts = emulator.advertising_starts
        await asyncio.sleep(0.05)
        assert emulator.advertising_starts == starts
        await client.disconnect()
    await emulator.close()
