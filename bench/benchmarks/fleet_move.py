"""Fleet move with a canary: 10 BluFi devices moved to a new network, twice.

Through the library's :class:`~custom_components.ble_provisioning.protocol.fleet.FleetMove`
(the engine within 2 adapters x 3 slots, waves of 5, the canary verified by a status read on a
new connection): once where every device can join, once where the canary's access point refuses
the password (the move must stop there and touch nothing else). The figure is the move's report:
which devices moved, failed, or were left untouched, and how long it took.
"""

from __future__ import annotations

import time
from typing import Any

from bench.fleet import mixed
from custom_components.ble_provisioning.protocol.engine import ProvisioningEngine
from custom_components.ble_provisioning.protocol.fleet import FleetMove
from custom_components.ble_provisioning.protocol.models import ProvisionRequest

from . import devices
from .engine import fleet_on_radio

NEW_SSID = "NewNet"
NEW_PASSWORD = "moving-day-2026"
DEVICES = 10
WAVE = 5


async def move(
    *, canary_fails: bool, profile: str, interval: float, count: int = DEVICES
) -> dict[str, Any]:
    """One fleet move; the canary is the first device."""
    emulators = devices.fleet(
        mixed(count),
        ssid=NEW_SSID,
        password=NEW_PASSWORD,
        wrong={0} if canary_fails else set(),
    )
    async with fleet_on_radio(emulators, profile=profile, interval=interval, adapters=2) as on:
        engine = ProvisioningEngine(slots=on.slots(3), backend=on.radio.client_backend)
        fleet = FleetMove(
            engine,
            on.targets,
            ProvisionRequest(NEW_SSID, NEW_PASSWORD),
            wave_size=WAVE,
            canary=emulators[0].address,
        )
        start = time.monotonic()
        async with fleet:
            report = await fleet.wait()
        total = time.monotonic() - start
    canary = report.canary
    return {
        "devices": count,
        "waves": fleet.waves,
        "canary_status": None if canary is None else canary.status,
        "total_s": round(total, 3),
        "report": report.as_dict(),
    }


async def run(profile: str, interval: float) -> dict[str, Any]:
    """Run the succeeding move and the one whose canary fails."""
    return {
        "canary succeeds": await move(canary_fails=False, profile=profile, interval=interval),
        "canary fails": await move(canary_fails=True, profile=profile, interval=interval),
    }
