"""The Bluenet daemon emulator as the daemon's own code behaves: scan start, host name, NM timing.

Driven with plain bleak over the bench (``radio.client_backend``); the project's client is not
used. Time is only ever checked as a lower bound on the model's own timers (asyncio never fires
a timer early), never as a wall-clock limit.
"""

from __future__ import annotations

from dataclasses import replace
import time

from bleak import BleakClient

from bench.emulators.bluenet import (
    AVAILABLE_NETWORKS_UUID,
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    HOSTNAME_UUID,
    NM_STATE_CONNECTED_GLOBAL,
    NM_STATE_DISCONNECTED,
    SSID_UUID,
    BluenetConfig,
    BluenetTimings,
    WifiNetwork,
)
from bench.emulators.bluenet.daemon import BluenetDaemonModel

from .bluenet_helpers import FAST, URL, Daemons, collect, config, daemons, equals, wait_for

__all__ = ["daemons"]  # the fixture, imported for pytest

NETWORKS = [WifiNetwork("home", "correct horse"), WifiNetwork("cafe", "espresso!")]


# ---------------------------------------------------------------- first scan after 20 s


def test_first_scan_default_is_one_rescan_interval() -> None:
    timings = BluenetTimings()
    assert timings.first_scan == timings.rescan_interval == 20.0
    fast = BluenetTimings.fast(0.01)
    assert fast.first_scan == fast.rescan_interval == 0.2
    assert fast.notify_interval / fast.first_scan == timings.notify_interval / timings.first_scan


async def test_scan_right_after_start_sees_nothing(radio: object, daemons: Daemons) -> None:
    # The real 20 s before the first scan, everything else fast.
    timings = replace(FAST, first_scan=20.0)
    emulator, device = await daemons.start(config(networks=NETWORKS, timings=timings))
    received: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.start_notify(AVAILABLE_NETWORKS_UUID, collect(received))
        # The daemon's chain polls its empty list every notify_interval and sends nothing.
        await wait_for(lambda: emulator.model.empty_polls >= 10)
        assert emulator.model.scans == 0
        assert emulator.model.networks_notifying
        assert received == []
        assert emulator.model.networks_notified() == []


async def test_list_appears_with_the_first_scan(radio: object, daemons: Daemons) -> None:
    timings = BluenetTimings.fast(0.02)  # first scan 0.4 s after start
    emulator, device = await daemons.start(config(networks=NETWORKS, timings=timings))
    received: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.start_notify(AVAILABLE_NETWORKS_UUID, collect(received))
        await wait_for(lambda: len(received) >= 2)
        assert received[:2] == [b"home", b"cafe"]
    model = emulator.model
    assert model.started_at is not None
    assert model.scan_times[0] - model.started_at >= timings.first_scan
    await wait_for(lambda: model.scans >= 2)
    assert model.scan_times[1] - model.scan_times[0] >= timings.rescan_interval


# ---------------------------------------------------------------- host name on every transition


async def test_hostname_notified_on_every_transition_to_connected(
    radio: object, daemons: Daemons
) -> None:
    emulator, device = await daemons.start(
        config(networks=NETWORKS, initial_profile=("home", "correct horse"))
    )
    assert emulator.model.hostname == URL
    states: list[bytes] = []
    hostnames: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.start_notify(CONNECTION_STATE_UUID, collect(states))
        await raw.start_notify(HOSTNAME_UUID, collect(hostnames))
        for round_ in (1, 2):
            # Re-join the same network: same address, same host name.
            await raw.write_gatt_char(SSID_UUID, b"home", response=True)
            await raw.write_gatt_char(CREDENTIALS_UUID, b"correct horse", response=True)
            await wait_for(equals(lambda: states.count(b"\x03home"), round_))
            await wait_for(equals(lambda: len(hostnames), round_))
    assert states == [b"\x01", b"\x02home", b"\x03home"] * 2
    assert hostnames == [URL.encode()] * 2
    assert emulator.model.hostname == URL


async def test_hostname_not_notified_without_a_transition(radio: object, daemons: Daemons) -> None:
    # An uplink keeps NetworkManager CONNECTED_GLOBAL: the join never changes the state number.
    emulator, device = await daemons.start(
        config(
            networks=NETWORKS,
            ethernet_uplink=True,
            initial_profile=("home", "correct horse"),
        )
    )
    hostnames: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.start_notify(HOSTNAME_UUID, collect(hostnames))
        await raw.write_gatt_char(SSID_UUID, b"cafe", response=True)
        await raw.write_gatt_char(CREDENTIALS_UUID, b"espresso!", response=True)
        model = emulator.model
        await wait_for(
            lambda: bool(model.nm.activations) and model.nm.activations[-1].ended is not None
        )
    assert hostnames == []
    assert emulator.model.states_notified() == []


# ---------------------------------------------------------------- NetworkManager timing


def test_failure_is_slower_than_success_by_default() -> None:
    timings = BluenetTimings()
    assert timings.fail_time > timings.connect_time
    fast = BluenetTimings.fast(0.01)
    assert fast.fail_time / fast.connect_time == timings.fail_time / timings.connect_time


async def test_wrong_password_reported_after_fail_time(radio: object, daemons: Daemons) -> None:
    # No rescan during the test: it would re-activate the failed profile (2 <-> 1 bouncing).
    timings = replace(FAST, connect_time=0.05, fail_time=0.4, first_scan=60.0)
    emulator, device = await daemons.start(config(networks=NETWORKS, timings=timings))
    activations = emulator.model.nm.activations
    states: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.start_notify(CONNECTION_STATE_UUID, collect(states))
        for count, password in enumerate((b"wrong password", b"correct horse"), start=1):
            await raw.write_gatt_char(SSID_UUID, b"home", response=True)
            await raw.write_gatt_char(CREDENTIALS_UUID, password, response=True)
            await wait_for(equals(lambda: len(activations), count))
            await wait_for(lambda: activations[-1].ended is not None)
        await wait_for(lambda: states[-1:] == [b"\x03home"])
    failed, joined = activations
    assert failed.result == NM_STATE_DISCONNECTED
    assert joined.result == NM_STATE_CONNECTED_GLOBAL
    assert failed.ended is not None
    assert joined.ended is not None
    assert failed.ended - failed.started >= timings.fail_time
    assert joined.ended - joined.started >= timings.connect_time
    assert states == [b"\x02home", b"\x01", b"\x02home", b"\x03home"]


async def test_absent_network_fails_after_fail_time(radio: object, daemons: Daemons) -> None:
    timings = replace(FAST, connect_time=0.01, fail_time=0.3)
    emulator, device = await daemons.start(config(networks=NETWORKS, timings=timings))
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.write_gatt_char(SSID_UUID, b"elsewhere", response=True)
        await raw.write_gatt_char(CREDENTIALS_UUID, b"password1", response=True)
        await wait_for(lambda: bool(emulator.model.nm.activations))
        activation = emulator.model.nm.activations[0]
        await wait_for(lambda: activation.ended is not None)
    assert activation.result == NM_STATE_DISCONNECTED
    assert activation.ended is not None
    assert activation.ended - activation.started >= timings.fail_time


# ---------------------------------------------------------------- timer chains under load


async def test_overdue_tick_counts_as_fired_at_start_notify() -> None:
    """A StartNotify after the old chain's tick was due finds the chain dead, as in GLib.

    The event loop is blocked past the tick (as a busy machine would delay it): the model runs
    the overdue tick before it handles the subscription, so a late subscriber never doubles
    the stream.
    """

    async def ignore(*_args: object) -> None:
        return None

    timings = replace(FAST, notify_interval=0.05)
    model = BluenetDaemonModel(
        BluenetConfig(networks=NETWORKS, timings=timings), send=ignore, drop=ignore
    )
    try:
        model.start_notify(AVAILABLE_NETWORKS_UUID)
        assert model.network_chains == 1
        model.stop_notify(AVAILABLE_NETWORKS_UUID)
        time.sleep(timings.notify_interval * 2)  # noqa: ASYNC251 - block the loop past the tick
        model.start_notify(AVAILABLE_NETWORKS_UUID)
        assert model.network_chains_at_start == [1, 1]
        # Within the tick the old chain is still alive: two chains (the daemon's bug 6).
        model.stop_notify(AVAILABLE_NETWORKS_UUID)
        model.start_notify(AVAILABLE_NETWORKS_UUID)
        assert model.network_chains_at_start == [1, 1, 2]
    finally:
        await model.close()
