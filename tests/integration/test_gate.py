"""The device gate: several pause holders, renewals, expiry; cancellation by the caller."""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from bench.emulators.blufi import BlufiFaults
from custom_components.ble_provisioning import const
from custom_components.ble_provisioning.coordinator import _flow_scan

from .conftest import BLUFI_ADDRESS, Bench, make_entry, setup_entry, wait_for


async def test_pause_holders_renewal_and_expiry(hass: HomeAssistant, bench: Bench) -> None:
    """The entry is paused while any holder's pause runs; each expires on its own.

    No clock jump here (it would fire the radio's own timers too): short pauses run out by
    themselves, long ones are ended by their holder.
    """
    await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    gate = entry.runtime_data.gate
    device = entry.runtime_data.device

    def pause(holder: str, seconds: float) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(const, "PAUSE_TIMEOUT", seconds)
            gate.async_pause(holder)

    pause("long", 3600)
    assert device.idle_timeout == const.FLOW_IDLE_TIMEOUT
    pause("long", 3600)  # renewed
    pause("short", 0.01)
    await wait_for(lambda: "short" not in gate._pauses)
    assert gate.paused  # "long" still holds it
    assert device.idle_timeout == const.FLOW_IDLE_TIMEOUT
    gate.async_resume("short")  # already over: nothing happens
    gate._async_expired("short", dt_util.utcnow())  # a late timer of an ended pause: ignored
    gate.async_resume("long")
    assert not gate.paused
    assert device.idle_timeout == 0.0

    pause("last", 0.01)
    await wait_for(lambda: not gate.paused)  # the last pause expiring ends the pause
    assert device.idle_timeout == 0.0
    await hass.async_block_till_done()

    pause("open", 3600)
    await gate.async_close()  # drops the pause and its timer
    assert not gate.paused


async def test_caller_cancellation_is_not_reported_as_closing(
    hass: HomeAssistant, bench: Bench
) -> None:
    """A caller that gives up cancels its operation (the link is released); the entry stays
    usable.
    """
    emulator = await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    coordinator = entry.runtime_data
    emulator.model.config.faults = BlufiFaults(ignore_writes_from=0)
    caller = hass.async_create_task(coordinator.async_get_status())
    await wait_for(lambda: bool(emulator.connections))
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert not coordinator.gate._operations
    await wait_for(lambda: not emulator.connections)
    emulator.model.config.faults = BlufiFaults()
    status = await coordinator.async_get_status()
    assert status.state == "disconnected"


async def test_refresh_cancelled_by_closing_keeps_data(hass: HomeAssistant, bench: Bench) -> None:
    """A status read in flight when the entry closes ends quietly with the last data."""
    emulator = await bench.blufi()
    entry = await setup_entry(hass, make_entry(BLUFI_ADDRESS, "blufi"))
    coordinator = entry.runtime_data
    data = coordinator.data
    emulator.model.config.faults = BlufiFaults(ignore_writes_from=0)
    refresh = hass.async_create_task(coordinator._async_update_data())
    await wait_for(lambda: bool(emulator.connections))
    await coordinator.async_close()
    assert await refresh is data
    coordinator._async_unavailable(None)
    assert coordinator.last_update_success


def test_flow_scan_is_read_defensively() -> None:
    """The flow's hand-over in the entry data: anything malformed is ignored."""
    assert _flow_scan(None) == (None, None)
    assert _flow_scan({"networks": [["HomeNet", -40]], "time": "not a time"}) == (None, None)
    networks, when = _flow_scan(
        {
            "networks": [["HomeNet", -40], ["NoRssi", "x"], [3, -1], ["Short"], "junk"],
            "time": "2026-01-02T03:04:05+00:00",
        }
    )
    assert when is not None
    assert networks is not None
    assert [(network.ssid, network.rssi) for network in networks] == [
        ("HomeNet", -40),
        ("NoRssi", None),
    ]
