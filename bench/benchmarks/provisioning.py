"""P1: one provisioning per protocol against its physical limit (and pyblufi as a peer).

For each case (BluFi V1, BluFi V2, Bluenet with this library; BluFi V1 and V2 devices with PyPI
pyblufi 0.1.0, plaintext) a fresh radio on the chosen link profile and interval carries one
device. The library first identifies the device (as the config flow does before it provisions:
the BluFi version is then known and ``bluez-local`` has the services cached), then provisions
it on a new connection, which is measured:

* **wall**: the ``provision()`` call, from the call to its return (link released);
* **session**: on the air, from CONNECT_IND to LL_TERMINATE_IND, against
  :meth:`~.limits.Minimum.session_limit`;
* **protocol**: from the first protocol request (after the MTU exchange, discovery and the
  CCCD writes) to the delivery of the outcome, against :meth:`~.limits.Minimum.protocol_limit`;
* ATT writes, reads, notifications, discovery requests, and the events the client and the
  device kept the link waiting beyond the model's minimum (:mod:`.timeline`), the longest
  first: the critical path.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import statistics
from typing import Any

from bench.device import EmulatedPeripheral
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.device import create_device
from custom_components.ble_provisioning.protocol.errors import ProvisioningError
from custom_components.ble_provisioning.protocol.models import (
    Protocol,
    ProvisioningSecurity,
    ProvisionRequest,
)

from . import devices, pyblufi_peer
from .harness import bench_radio, ms
from .limits import Minimum, bluenet_minimum, blufi_minimum
from .recorder import AirRecorder, handle_names
from .timeline import analyse

PROVISION_TIMEOUT = 15.0

_SECURITY = {
    ProvisioningSecurity.BLUFI_V1: "V1",
    ProvisioningSecurity.BLUFI_V2: "V2",
    ProvisioningSecurity.CLEARTEXT: None,
}


def security_name(security: ProvisioningSecurity | None) -> str | None:
    """Return "V1" / "V2" for a negotiated BluFi session, None for plaintext or Bluenet."""
    return None if security is None else _SECURITY.get(security)


@dataclass(frozen=True, slots=True)
class Case:
    """One P1 row."""

    name: str
    client: str
    """"library" or "pyblufi"."""
    security: str | None
    """BluFi device firmware ("V1" / "V2"); None: Bluenet."""

    def emulator(self, seed: int) -> EmulatedPeripheral:
        """Return a fresh device for one run."""
        if self.security is None:
            return devices.bluenet()
        return devices.blufi(self.security, seed=seed)


CASES = (
    Case("BluFi V1", "library", "V1"),
    Case("BluFi V2", "library", "V2"),
    Case("Bluenet", "library", None),
    Case("pyblufi -> V1 device", "pyblufi", "V1"),
    Case("pyblufi -> V2 device", "pyblufi", "V2"),
)


def minimum_for(case: Case, secured: str | None, mtu: int) -> Minimum:
    """Return the fewest exchanges of ``case`` at ``mtu`` (``secured``: its security)."""
    if case.security is None:
        return bluenet_minimum()
    return blufi_minimum(
        secured=secured, mtu=mtu, ssid=len(devices.SSID), password=len(devices.PASSWORD)
    )


def measure(
    recorder: AirRecorder,
    emulator: EmulatedPeripheral,
    *,
    profile: str,
    interval: float,
    start: float,
    wall: float,
    minimum_of: Any,
    names: dict[int, str],
) -> dict[str, Any]:
    """Figures of the connection that began after ``start`` (see the module).

    ``minimum_of(mtu) -> Minimum`` gives the limit once the connection's MTU is known;
    ``names`` names the device's ATT handles (:func:`~.recorder.handle_names`).
    """
    connections = [
        pdus for pdus in recorder.connections(emulator.address) if pdus[0].anchor >= start
    ]
    if not connections:
        msg = f"no connection to {emulator.address} was recorded"
        raise RuntimeError(msg)
    connection = analyse(connections[0], names, interval)
    minimum: Minimum = minimum_of(connection.mtu)
    # The ideal profile discovers on every connection: that is the profile's, not the client's.
    forced_discovery = connection.discovery if profile == "ideal" else 0
    session_limit = minimum.session_limit(interval, forced_discovery)
    protocol_limit = minimum.protocol_limit(interval)
    figures = connection.summary()
    figures.update(
        {
            "connections": len(connections),
            "wall_ms": ms(wall),
            "pre_connect_ms": ms(connection.anchor - start),
            "session_limit_ms": ms(session_limit),
            "protocol_limit_ms": ms(protocol_limit),
            "session_ratio": _ratio(connection.session, session_limit),
            "protocol_ratio": _ratio(connection.protocol, protocol_limit),
            "minimum": list(minimum.protocol),
            "minimum_exchanges": minimum.exchanges,
            "forced_discovery": forced_discovery,
        }
    )
    return figures


def connection_log(
    recorder: AirRecorder,
    emulator: EmulatedPeripheral,
    names: dict[int, str],
    interval: float,
    since: float,
) -> list[dict[str, Any]]:
    """Every connection to ``emulator`` after ``since``: when, how long, requests, waits."""
    log = []
    for pdus in recorder.connections(emulator.address):
        if pdus[0].anchor < since:
            continue
        connection = analyse(pdus, names, interval)
        log.append(
            {
                "at_ms": ms(connection.anchor - since),
                "session_ms": ms(connection.session),
                "requests": [step.label for step in connection.steps if step.by == "client"],
                "client_wait_ms": ms(connection.wait_total("client")),
                "device_wait_ms": ms(connection.wait_total("device")),
                "client_waits": connection.waits("client", top=4),
                "device_waits": connection.waits("device", top=4),
            }
        )
    return log


def _ratio(measured: float | None, limit: float) -> float | None:
    if measured is None or limit <= 0:
        return None
    return round(measured / limit, 3)


async def _library(case: Case, radio: Radio, found: Any) -> tuple[float, float, dict[str, Any]]:
    protocol = Protocol.BLUENET if case.security is None else Protocol.BLUFI
    device = create_device(protocol, found, backend=radio.client_backend)
    loop = asyncio.get_running_loop()
    try:
        await device.identify()
        await radio.settle()
        start = loop.time()
        report = await device.provision(
            ProvisionRequest(devices.SSID, devices.PASSWORD), PROVISION_TIMEOUT
        )
        wall = loop.time() - start
    finally:
        await device.close()
    secured = security_name(report.security)
    return start, wall, {"outcome": report.outcome.value, "security": secured}


async def _pyblufi(radio: Radio, found: Any) -> tuple[float, float, dict[str, Any]]:
    module = pyblufi_peer.load()
    loop = asyncio.get_running_loop()
    start = loop.time()
    result = await pyblufi_peer.provision(
        module, found.address, radio.client_backend, devices.SSID, devices.PASSWORD
    )
    wall = loop.time() - start
    connected = result["status"] == 0  # BluFi STA_CONN_SUCCESS
    return start, wall, {"outcome": "connected" if connected else "failed", "security": None}


async def run_case(case: Case, profile: str, interval: float, seed: int) -> dict[str, Any]:
    """One measured provisioning of ``case``."""
    emulator = case.emulator(seed)
    async with bench_radio(profile, interval, emulator) as (radio, found):
        names = handle_names(emulator, devices.names_of(emulator))
        with AirRecorder(radio) as recorder:
            if case.client == "library":
                start, wall, outcome = await _library(case, radio, found)
            else:
                start, wall, outcome = await _pyblufi(radio, found)
            await radio.settle(10.0)
    secured = outcome["security"]
    figures = measure(
        recorder,
        emulator,
        profile=profile,
        interval=interval,
        start=start,
        wall=wall,
        minimum_of=lambda mtu: minimum_for(case, secured, mtu),
        names=names,
    )
    return {**outcome, **figures}


NUMERIC = (
    "wall_ms",
    "pre_connect_ms",
    "session_ms",
    "session_limit_ms",
    "session_ratio",
    "protocol_ms",
    "protocol_limit_ms",
    "protocol_ratio",
    "client_wait_ms",
    "device_wait_ms",
)


def aggregate(case: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs, the counts and waits of the median-wall run, every run."""
    ordered = sorted(runs, key=lambda run: run["wall_ms"] or 0.0)
    typical = ordered[len(ordered) // 2]
    result = {key: value for key, value in typical.items() if key not in NUMERIC}
    for key in NUMERIC:
        values = [run[key] for run in runs if run.get(key) is not None]
        result[key] = round(statistics.median(values), 3) if values else None
    result["case"] = case
    result["outcomes"] = sorted({run["outcome"] for run in runs})
    result["runs"] = runs
    return result


async def run(
    profile: str,
    interval: float,
    runs: int,
    cases: tuple[Case, ...] = CASES,
    *,
    fetch_peer: bool = True,
) -> list[dict[str, Any]]:
    """Every case ``runs`` times; a case that cannot run here is reported, not dropped.

    Without ``fetch_peer`` (``--quick``: CI must not depend on a package index) pyblufi runs
    only from a wheel fetched by an earlier run.
    """
    rows: list[dict[str, Any]] = []
    for case in cases:
        if case.client == "pyblufi" and not fetch_peer and not pyblufi_peer.cached():
            rows.append({"case": case.name, "unavailable": "not fetched in --quick"})
            continue
        try:
            measured = [await run_case(case, profile, interval, seed) for seed in range(runs)]
        except pyblufi_peer.PeerUnavailableError as err:
            rows.append({"case": case.name, "unavailable": str(err)})
            continue
        except ProvisioningError as err:
            # A client that cannot provision on this profile is a finding, not a crash.
            rows.append({"case": case.name, "error": f"{type(err).__name__}: {err}"})
            continue
        rows.append(aggregate(case.name, measured))
    return rows
