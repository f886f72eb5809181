"""Fault hooks of the Bluenet emulator for hostile devices (issue 10 item 5).

Plain bleak over the bench, no project client.
"""

from __future__ import annotations

from bleak import BleakClient

from bench.emulators.bluenet import (
    AVAILABLE_NETWORKS_UUID,
    CONNECTION_STATE_UUID,
    Faults,
    WifiNetwork,
)

from .bluenet_helpers import Daemons, collect, config, daemons, wait_for

__all__ = ["daemons"]  # the fixture, imported for pytest

LONG_SSID = "x" * 40


async def test_endless_networks_never_repeat(radio: object, daemons: Daemons) -> None:
    emulator, device = await daemons.start(
        config(networks=[WifiNetwork("home")], faults=Faults(endless_networks=True))
    )
    received: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.start_notify(AVAILABLE_NETWORKS_UUID, collect(received))
        await wait_for(lambda: len(received) >= 200)
        await raw.stop_notify(AVAILABLE_NETWORKS_UUID)
        flood = emulator.model.flood_task
        assert flood is not None
        await wait_for(flood.done)  # the flood ends with the subscription
    assert len(set(received)) == len(received)
    assert b"home" not in received


async def test_state_ssid_over_32_bytes(radio: object, daemons: Daemons) -> None:
    emulator, device = await daemons.start(
        config(initial_profile=("home", "correct horse"), faults=Faults(state_ssid=LONG_SSID))
    )
    states: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        assert bytes(await raw.read_gatt_char(CONNECTION_STATE_UUID)) == b"\x03" + b"x" * 40
        await raw.start_notify(CONNECTION_STATE_UUID, collect(states))
        emulator.model.set_connection_state(2, "home")  # any change notifies the lie
        await wait_for(lambda: len(states) == 1)
    assert states == [b"\x02" + b"x" * 40]
