"""Reads and notifications of the Bluenet daemon as BlueZ puts them on air.

A Read (and Read Blob) Response carries ``ATT_MTU - 1`` bytes, a notification ``ATT_MTU - 3``.
The daemon ignores the offset of every read, so a long read collects its first ``MTU - 1``
bytes again and again; a BlueZ central stops at 512 bytes (``BT_ATT_MAX_VALUE_LEN``). Plain
bleak over the bench, no project client.
"""

from __future__ import annotations

import asyncio

from bleak import BleakClient
from bleak.exc import BleakError
import pytest

from bench.emulators.bluenet import (
    AVAILABLE_NETWORKS_UUID,
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    HOSTNAME_UUID,
    SSID_UUID,
    VERSION_UUID,
    WifiNetwork,
)

from .bluenet_helpers import URL, Daemons, collect, config, daemons, wait_for

__all__ = ["daemons"]  # the fixture, imported for pytest

SSID_20 = "twenty-byte-ssid-abc"  # 1 + 20 bytes of state: fits MTU - 1, not MTU - 3


async def test_read_carries_mtu_minus_1(radio: object, daemons: Daemons) -> None:
    emulator, device = await daemons.start(
        config(
            networks=[WifiNetwork(SSID_20, "password1")],
            initial_profile=(SSID_20, "password1"),
        ),
        max_mtu=23,
    )
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        state = bytes(await raw.read_gatt_char(CONNECTION_STATE_UUID))
        version = bytes(await raw.read_gatt_char(VERSION_UUID))
    assert state == b"\x03" + SSID_20.encode()  # 21 bytes: one response, not cut at 20
    assert version == b"1.0"
    assert emulator.reads == [(CONNECTION_STATE_UUID, 0), (VERSION_UUID, 0)]


async def test_notification_carries_mtu_minus_3(radio: object, daemons: Daemons) -> None:
    emulator, device = await daemons.start(
        config(networks=[WifiNetwork(SSID_20, "password1")]), max_mtu=23
    )
    states: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.start_notify(CONNECTION_STATE_UUID, collect(states))
        await raw.write_gatt_char(SSID_UUID, SSID_20.encode(), response=True)
        await raw.write_gatt_char(CREDENTIALS_UUID, b"password1", response=True)
        await wait_for(lambda: len(states) == 2)
    assert states == [b"\x02" + SSID_20.encode()[:19], b"\x03" + SSID_20.encode()[:19]]
    assert emulator.model.states_notified()[-1] == b"\x03" + SSID_20.encode()


async def test_long_read_repeats_the_prefix_until_512(radio: object, daemons: Daemons) -> None:
    emulator, device = await daemons.start(
        config(initial_profile=("home", "correct horse")), max_mtu=23
    )
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        value = bytes(await raw.read_gatt_char(HOSTNAME_UUID))
    chunk = URL.encode()[:22]
    assert value == chunk * 24  # 528 bytes: the first chunk past 512 ends the read
    offsets = [offset for uuid, offset in emulator.reads if uuid == HOSTNAME_UUID]
    assert offsets == [22 * index for index in range(25)]  # the last one gets Invalid Offset


async def test_value_of_exactly_mtu_minus_1_is_read_long_too(
    radio: object, daemons: Daemons
) -> None:
    ssid = "twenty-one-byte-ssid!"  # 1 + 21 = 22 bytes = MTU - 1: the central reads on
    _emulator, device = await daemons.start(
        config(networks=[WifiNetwork(ssid, "password1")], initial_profile=(ssid, "password1")),
        max_mtu=23,
    )
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        value = bytes(await raw.read_gatt_char(CONNECTION_STATE_UUID))
    assert value == (b"\x03" + ssid.encode()) * 24


async def test_no_long_read_at_a_large_mtu(radio: object, daemons: Daemons) -> None:
    emulator, device = await daemons.start(config(initial_profile=("home", "correct horse")))
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        assert bytes(await raw.read_gatt_char(HOSTNAME_UUID)) == URL.encode()
    assert emulator.reads == [(HOSTNAME_UUID, 0)]


async def test_network_list_is_not_readable(radio: object, daemons: Daemons) -> None:
    _emulator, device = await daemons.start()
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        with pytest.raises(BleakError):
            await raw.read_gatt_char(AVAILABLE_NETWORKS_UUID)


async def test_hung_reads_hang_long_reads_too(radio: object, daemons: Daemons) -> None:
    emulator, device = await daemons.start(
        config(initial_profile=("home", "correct horse")), max_mtu=23
    )
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        emulator.config.faults.hang_reads = True
        read = asyncio.ensure_future(raw.read_gatt_char(HOSTNAME_UUID))
        await wait_for(lambda: len(emulator.reads) == 1)
        assert not read.done()
        await emulator.close()  # releases the held read
        assert bytes(await read) == URL.encode()[:22] * 24
