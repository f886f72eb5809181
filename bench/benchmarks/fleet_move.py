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

from bleak.backends.device import BLEDevice

from bench.fleet import close_fleet, mixed
from bench.link.profiles import get_profile
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.discovery import scan
from custom_components.ble_provisioning.protocol.engine import ProvisioningEngine, Target
from custom_components.ble_provisioning.protocol.fleet import FleetMove
from custom_components.ble_provisioning.protocol.models import ProvisionRequest
from custom_components.ble_provisioning.protocol.slots import AdapterSlots

from . import devices

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
    order = {emulator.address: index for index, emulator in enumerate(emulators)}

    def adapter_key(device: BLEDevice) -> str:
        return f"hci{order.get(device.address.upper(), 0) % 2}"

    try:
        async with Radio(profile=get_profile(profile, interval=interval)) as radio:
            for emulator in emulators:
                await radio.add_peripheral(emulator)
            found = await scan(
                60.0, backend=radio.scanner_backend, done=lambda seen: len(seen) >= count
            )
            engine = ProvisioningEngine(
                slots=AdapterSlots(3, adapter_key=adapter_key), backend=radio.client_backend
            )
            targets = [Target(item.ble_device, item.protocol, item.name) for item in found]
            fleet = FleetMove(
                engine,
                targets,
                ProvisionRequest(NEW_SSID, NEW_PASSWORD),
                wave_size=WAVE,
                canary=emulators[0].address,
            )
            start = time.monotonic()
            async with fleet:
                report = await fleet.wait()
            total = time.monotonic() - start
    finally:
        await close_fleet(emulators)
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
