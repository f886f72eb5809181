"""P6: from the device's failure (a wrong password) to the outcome the library reports.

The device is watched from the bench every millisecond: the failure is the moment its state
turns from *connecting* to *failed* (BluFi: the state a GET_WIFI_STATUS answer would carry;
ESP-IDF pushes nothing on a failure, so a client learns it only by asking; Bluenet: the
daemon's connection state falling from 2 to 1, which it notifies). The figure is the time from
there to the return of ``provision()`` (the link released), and the outcome it returned.

BluFi: the access point refuses the password after ``join_time`` per attempt, with the
example's retries. Bluenet: NetworkManager gives up ``fail_time`` after the join started.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Self

from bench.device import EmulatedPeripheral
from bench.emulators.bluenet import STATE_CONNECTING, STATE_DISCONNECTED
from custom_components.ble_provisioning.protocol.blufi.const import StaConnState
from custom_components.ble_provisioning.protocol.device import create_device
from custom_components.ble_provisioning.protocol.errors import ProvisioningError
from custom_components.ble_provisioning.protocol.models import Protocol, ProvisionRequest

from . import devices
from .harness import bench_radio, ms

JOIN_TIME = 0.3
"""Seconds one BluFi association attempt takes before the AP refuses the password."""
FAIL_TIME = 0.6
"""Seconds the Bluenet daemon's NetworkManager takes to give up on a wrong password."""
PROBE = 0.001


def blufi_state(emulator: EmulatedPeripheral) -> int:
    """Return the STA state a status answer of the emulated ESP32 would carry now."""
    model: Any = getattr(emulator, "model", None)
    app = getattr(model, "app", None)
    if app is not None:  # the emulator split by job: the example application's status()
        return int(app.status()[0])
    return int(model.current_status().sta_state)


def bluenet_state(emulator: EmulatedPeripheral) -> int:
    """Return the daemon's connection state (0-3)."""
    model: Any = getattr(emulator, "model", None)
    return int(model.wifi_status)


class FailureProbe:
    """Note when a device's state goes from ``connecting`` to ``failed`` (the last time)."""

    def __init__(self, read: Any, connecting: int, failed: int) -> None:
        """``read()`` returns the state; the other two name the transition."""
        self._read = read
        self._connecting = connecting
        self._failed = failed
        self.failed_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        previous = self._read()
        while True:
            await asyncio.sleep(PROBE)
            state = self._read()
            if state == self._failed and previous == self._connecting:
                self.failed_at = loop.time()
            previous = state

    def __enter__(self) -> Self:
        """Start watching."""
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()


async def _one(protocol: Protocol, profile: str, interval: float, seed: int) -> dict[str, Any]:
    if protocol is Protocol.BLUFI:
        emulator: EmulatedPeripheral = devices.blufi(
            "V2", seed=seed, wrong_password=True, join_time=JOIN_TIME
        )

        def read() -> int:
            return blufi_state(emulator)

        transition = (int(StaConnState.CONNECTING), int(StaConnState.FAIL))
    else:
        emulator = devices.bluenet(wrong_password=True, join_time=0.0, fail_time=FAIL_TIME)

        def read() -> int:
            return bluenet_state(emulator)

        transition = (STATE_CONNECTING, STATE_DISCONNECTED)
    async with bench_radio(profile, interval, emulator) as (radio, found):
        device = create_device(protocol, found, backend=radio.client_backend)
        loop = asyncio.get_running_loop()
        outcome: str
        try:
            await device.identify()
            with FailureProbe(read, *transition) as probe:
                start = loop.time()
                try:
                    report = await device.provision(
                        ProvisionRequest(devices.SSID, devices.PASSWORD), 30.0
                    )
                    outcome = report.outcome.value
                except ProvisioningError as err:
                    outcome = f"error: {err.error_key}"
                end = loop.time()
        finally:
            with contextlib.suppress(ProvisioningError):
                await device.close()
    failed = probe.failed_at
    return {
        "outcome": outcome,
        "provision_ms": ms(end - start),
        "device_failed_after_ms": None if failed is None else ms(failed - start),
        "failure_to_outcome_ms": None if failed is None else ms(end - failed),
    }


async def run(profile: str, interval: float, runs: int) -> dict[str, Any]:
    """BluFi and Bluenet, ``runs`` times each."""
    results: dict[str, Any] = {}
    for protocol in (Protocol.BLUFI, Protocol.BLUENET):
        measured = [await _one(protocol, profile, interval, seed) for seed in range(runs)]
        values = sorted(
            run["failure_to_outcome_ms"]
            for run in measured
            if run["failure_to_outcome_ms"] is not None
        )
        results[protocol.value] = {
            "failure_to_outcome_ms": values[len(values) // 2] if values else None,
            "worst_ms": values[-1] if values else None,
            "outcomes": sorted({run["outcome"] for run in measured}),
            "runs": measured,
        }
    return results
