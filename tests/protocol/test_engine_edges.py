"""The engine with scripted devices: a verification retried without re-sending, contradicting
status reads, a run closed before it started, and a slot lease given back twice."""

from __future__ import annotations

import pytest

from bench.bleak_backend import make_ble_device
from custom_components.ble_provisioning.protocol.engine import (
    ProvisioningEngine,
    Target,
    _SlotMeter,
)
from custom_components.ble_provisioning.protocol.errors import ConnectionLostError
from custom_components.ble_provisioning.protocol.models import (
    DeviceStatus,
    Protocol,
    ProvisionOutcome,
    ProvisionReport,
    WifiState,
)
from custom_components.ble_provisioning.protocol.slots import AdapterSlots

from .engine_helpers import REQUEST, SSID
from .scripted_device import ScriptedDevice

JOINED = ProvisionReport(ProvisionOutcome.CONNECTED, SSID, rssi=-50, end_reason_code=None)


def _engine() -> ProvisioningEngine:
    return ProvisioningEngine(retry_backoff=0.0, max_attempts=3)


async def test_a_failed_verification_read_is_retried_without_resending() -> None:
    """The device joined; the status read lost the link: read again, never re-send credentials."""
    device = ScriptedDevice(idle_timeout=0.0)
    device.provisions = [JOINED]
    device.statuses = [
        ConnectionLostError("dropped during the read"),
        DeviceStatus(WifiState.CONNECTED, ssid=SSID, bssid="aa:bb:cc:dd:ee:ff"),
    ]
    (result,) = await _engine().provision([device], REQUEST, verify=True).wait()
    assert result.success
    assert result.verified is True
    assert result.attempts == 2
    assert device.requests == [REQUEST]  # sent once
    assert not device.is_connected


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (DeviceStatus(WifiState.CONNECTED, ssid="Neighbour"), ProvisionOutcome.OTHER_NETWORK),
        (
            DeviceStatus(WifiState.FAILED, failure=ProvisionOutcome.WRONG_PASSWORD),
            ProvisionOutcome.WRONG_PASSWORD,
        ),
        (
            DeviceStatus(WifiState.DISCONNECTED, end_reason_code=201),
            ProvisionOutcome.CONNECTION_FAILED,
        ),
    ],
    ids=["another network", "failure reported", "just disconnected"],
)
async def test_a_status_read_that_contradicts_the_report_wins(
    status: DeviceStatus, outcome: ProvisionOutcome
) -> None:
    device = ScriptedDevice(idle_timeout=0.0)
    device.provisions = [JOINED]
    device.statuses = [status]
    run = _engine().provision([device], REQUEST, verify=True)
    assert run.addresses == [device.address]
    (result,) = await run.wait()
    assert not result.success
    assert (result.outcome, result.verified, result.error_key) == (outcome, False, None)
    assert result.reason_code == status.end_reason_code
    assert result.rssi == JOINED.rssi  # what the provisioning report said is kept


async def test_a_run_closed_before_it_started() -> None:
    """Closing an unstarted run closes the devices it created; it cannot start afterwards."""
    targets = [
        Target(make_ble_device("24:0A:C4:00:00:31"), Protocol.BLUFI),
        Target(make_ble_device("B0:0B:1E:00:00:32"), Protocol.BLUENET),
    ]
    run = _engine().provision(targets, REQUEST)
    assert run.addresses == ["24:0A:C4:00:00:31", "B0:0B:1E:00:00:32"]
    await run.aclose()
    assert all(job.device.closed for job in run._jobs)
    with pytest.raises(RuntimeError, match="closed"):
        run.start()
    assert (run.done, run.slots_held) == (0, 0)


async def test_a_lease_given_back_twice_counts_once() -> None:
    slots = AdapterSlots(1)
    meter = _SlotMeter(slots, 1.0)
    ble_device = make_ble_device("24:0A:C4:00:00:33")
    lease = await meter.acquire(ble_device, 1.0)
    assert meter.held == 1
    lease.release()
    lease.release()
    assert meter.held == 0
    again = await meter.acquire(ble_device, 0.01)  # the one slot is free again
    assert meter.held == 1
    again.release()
