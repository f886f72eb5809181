"""The state read right after a credentials write races the daemon's join thread.

The daemon answers the write at once and joins in a thread; its GLib main loop answers the next
read meanwhile. Run with BlueZ and NetworkManager replaced, the real daemon answered with the
pre-join state ("3" + old SSID), "1" or the new "2". Each answer is selected here with
``BluenetConfig.read_race``; plain bleak over the bench, no project client.
"""

from __future__ import annotations

from dataclasses import replace
import random

from bleak import BleakClient
import pytest

from bench.emulators.bluenet import (
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    SSID_UUID,
    ReadRace,
    WifiNetwork,
)

from .bluenet_helpers import FAST, Daemons, collect, config, daemons, equals, wait_for

__all__ = ["daemons"]  # the fixture, imported for pytest

NETWORKS = [WifiNetwork("home", "correct horse"), WifiNetwork("cafe", "espresso!")]


@pytest.mark.parametrize(
    ("race", "answer", "notified_before"),
    [
        # Taken before the thread ran; it arrives after the join's "1" and "2" notifications.
        (ReadRace.PRE_JOIN, b"\x03home", [b"\x01", b"\x02cafe"]),
        # Taken once the old profile was deleted.
        (ReadRace.DELETED, b"\x01", None),
        # Taken once the new profile was being activated.
        (ReadRace.CONNECTING, b"\x02cafe", [b"\x01", b"\x02cafe"]),
    ],
)
async def test_forced_race(
    radio: object,
    daemons: Daemons,
    race: ReadRace,
    answer: bytes,
    notified_before: list[bytes] | None,
) -> None:
    emulator, device = await daemons.start(
        config(networks=NETWORKS, initial_profile=("home", "correct horse"), read_race=race)
    )
    states: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.start_notify(CONNECTION_STATE_UUID, collect(states))
        assert bytes(await raw.read_gatt_char(CONNECTION_STATE_UUID)) == b"\x03home"
        await raw.write_gatt_char(SSID_UUID, b"cafe", response=True)
        await raw.write_gatt_char(CREDENTIALS_UUID, b"espresso!", response=True)
        value = bytes(await raw.read_gatt_char(CONNECTION_STATE_UUID))
        seen_at_answer = list(states)
        # Only the first read after the write races; the next one is the live state.
        await wait_for(lambda: states[-1:] == [b"\x03cafe"])
        assert bytes(await raw.read_gatt_char(CONNECTION_STATE_UUID)) == b"\x03cafe"
    assert value == answer
    if notified_before is not None:
        # Emitted before the answer left (the model's order), so received before it.
        emitted, answered = emulator.model.state_answers[1]
        assert answered == answer
        assert emulator.model.states_notified()[:emitted] == notified_before
        # Later ones may also land before the test resumes.
        assert seen_at_answer[: len(notified_before)] == notified_before
    assert states == [b"\x01", b"\x02cafe", b"\x03cafe"]
    assert emulator.model.read_races == [race]


async def test_timed_race_answers_the_deletion(radio: object, daemons: Daemons) -> None:
    # The thread deletes the old profile as it starts; the new one comes join_delay later.
    timings = replace(FAST, join_delay=30.0)
    emulator, device = await daemons.start(
        config(networks=NETWORKS, initial_profile=("home", "correct horse"), timings=timings)
    )
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.write_gatt_char(SSID_UUID, b"cafe", response=True)
        await raw.write_gatt_char(CREDENTIALS_UUID, b"espresso!", response=True)
        assert bytes(await raw.read_gatt_char(CONNECTION_STATE_UUID)) == b"\x01"
        assert emulator.model.is_joining
    assert emulator.model.read_races == [ReadRace.TIMED]


async def test_pre_join_race_with_a_wrong_password(radio: object, daemons: Daemons) -> None:
    """Issue 10 item 7 (a) at the emulator level: a stale "3" after "1", "2", then "1"."""
    emulator, device = await daemons.start(
        config(
            networks=NETWORKS,
            initial_profile=("home", "correct horse"),
            read_race=ReadRace.PRE_JOIN,
        )
    )
    states: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        await raw.start_notify(CONNECTION_STATE_UUID, collect(states))
        await raw.write_gatt_char(SSID_UUID, b"home", response=True)
        await raw.write_gatt_char(CREDENTIALS_UUID, b"wrong password", response=True)
        value = bytes(await raw.read_gatt_char(CONNECTION_STATE_UUID))
        seen_at_answer = list(states)
        await wait_for(lambda: len(states) >= 3)
    assert seen_at_answer[:2] == [b"\x01", b"\x02home"]
    assert emulator.model.state_answers == [(2, b"\x03home")]
    assert value == b"\x03home"  # the daemon never joined with this password
    assert states[:3] == [b"\x01", b"\x02home", b"\x01"]


async def test_random_race_is_seeded(radio: object, daemons: Daemons) -> None:
    seed, joins = 3, 6  # draws P, C, C, P, D, C
    draws = random.Random(seed)
    expected = [
        draws.choice((ReadRace.PRE_JOIN, ReadRace.DELETED, ReadRace.CONNECTING))
        for _ in range(joins)
    ]
    assert set(expected) == {ReadRace.PRE_JOIN, ReadRace.DELETED, ReadRace.CONNECTING}
    emulator, device = await daemons.start(
        config(
            networks=NETWORKS,
            initial_profile=("home", "correct horse"),
            read_race=ReadRace.RANDOM,
            seed=seed,
        )
    )
    model = emulator.model
    answers: list[bytes] = []
    async with BleakClient(device, backend=daemons.radio.client_backend) as raw:
        for index in range(joins):
            ssid, password = (
                (b"cafe", b"espresso!") if index % 2 == 0 else (b"home", b"correct horse")
            )
            await raw.write_gatt_char(SSID_UUID, ssid, response=True)
            await raw.write_gatt_char(CREDENTIALS_UUID, password, response=True)
            answers.append(bytes(await raw.read_gatt_char(CONNECTION_STATE_UUID)))
            await wait_for(equals(model.state_payload, b"\x03" + ssid))
    assert model.read_races == expected
    for index, (race, value) in enumerate(zip(expected, answers, strict=True)):
        new = b"cafe" if index % 2 == 0 else b"home"
        old = b"home" if index % 2 == 0 else b"cafe"
        assert (
            value
            == {
                ReadRace.PRE_JOIN: b"\x03" + old,
                ReadRace.DELETED: b"\x01",
                ReadRace.CONNECTING: b"\x02" + new,
            }[race]
        )
