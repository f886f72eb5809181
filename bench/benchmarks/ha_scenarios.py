"""Home Assistant benchmark scenarios (run by ``scripts/bench`` with :mod:`.ha_plugin`).

Each scenario runs the real integration in pytest-homeassistant-custom-component's harness
(HA's own bluetooth manager, config entries, actions, coordinators) on the plan's link profile
and interval, behind emulated proxies, and records figures; none is asserted.

* **P1** (``esphome-proxy``): one provisioning per protocol through HA's bluetooth stack and the
  emulated ESPHome proxy (aioesphomeapi + bleak-esphome), measured on the air as the stand-alone
  P1 is (:mod:`.provisioning`).
* **P4**: N BluFi devices (V1/V2 alternating, some with a wrong password) behind 2 proxies x 3
  slots, provisioned through the ``provision_wifi`` action x N concurrently (one config entry
  each), through the ``provision_many`` action when this commit has it, and through the
  library's engine with HA's connection slots. The ideal is ``⌈N / 6⌉`` times one provisioning
  by the same path (the mean of a V1 and a V2 device alone).
* **P5**: slot time per device at rest. Devices with config entries (default status interval);
  Home Assistant's clock jumps one status interval at a time until 10 minutes have passed
  (``async_fire_time_changed``, so the coordinators' background refreshes and every other
  timer fall due), while every refresh runs on the real link with its real latency; the slots
  are followed through the bluetooth manager's allocation reports, so the figure is what a
  proxy's slot is held for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
import math
import statistics
import time
from typing import Any

from habluetooth import get_manager
from homeassistant.components import bluetooth
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped,unused-ignore]
    MockConfigEntry,
    async_fire_time_changed,
)

from bench.device import EmulatedPeripheral
from bench.emulators.bluenet import BluenetDaemonEmulator
from bench.fleet import close_fleet, mixed, parse_spec
from bench.link.ha import stop_scanner
from bench.link.profiles import ESPHOME_PROXY, LinkProfile, ScannerHandle
from bench.proxy import VirtualProxy
from bench.radio import Radio
from custom_components.ble_provisioning.const import (
    CONF_ALLOW_CLEARTEXT,
    CONF_LAST_SSID,
    CONF_PROTOCOL,
    CONF_PROTOCOL_VERSION,
    CONF_STATUS_INTERVAL,
    DEFAULT_STATUS_INTERVAL,
    DOMAIN,
)
from custom_components.ble_provisioning.device import ha_device
from custom_components.ble_provisioning.protocol.engine import ProvisioningEngine
from custom_components.ble_provisioning.protocol.models import Protocol, ProvisionRequest
from custom_components.ble_provisioning.slots import ha_slots

from . import devices, provisioning
from .engine import ADVERTISING_MS
from .ha_plugin import plan, profiles_for
from .recorder import AirRecorder, handle_names

PLAN = plan()
INTERVAL_MS = float(PLAN["interval_ms"])
SSID = "HomeNet"
PASSWORD = "correct-horse-battery"
PROXIES = 2
SLOTS = 3
REST_MINUTES = 10
REST_FLEET = "blufi-v1:2,blufi-v2:2,bluenet:2"
JUMP = DEFAULT_STATUS_INTERVAL + 1.0
"""Seconds per clock jump: one status interval (and the coordinators' jitter).

``async_fire_time_changed`` fires the timers due within the jump *from now*; a timer a refresh
schedules is due one interval after the real moment it was scheduled, so each jump must be one
interval from now (cumulative jumps would fire it again at once, every jump)."""


# ---------------------------------------------------------------- the bench in Home Assistant
@pytest.fixture
async def radio(link_profile: LinkProfile) -> AsyncIterator[Radio]:
    """Yield the bench's radio on the scenario's profile, devices advertising as a fleet does.

    (Overrides the bench plugin's fixture: :data:`.engine.ADVERTISING_MS`.)
    """
    async with Radio(profile=link_profile, advertising_interval_ms=ADVERTISING_MS) as started:
        yield started


@pytest.fixture
def enable_event_loop_debug() -> None:
    """Leave the event loop out of debug mode (the HA harness turns it on for every test).

    Debug mode records a stack trace for every callback the loop schedules: a third of the
    CPU of a 20-device scenario went there (cProfile). Home Assistant does not run in debug
    mode, so the figures are taken without it. (Overrides the harness's fixture of that name.)
    """


@pytest.fixture
def expected_lingering_tasks() -> bool:
    """Only warn about tasks left running (the usb integration's watcher, for one).

    The scenarios measure; the suite's tests are the ones that must leave nothing behind.
    (Here, not in the plugin: a module's fixture overrides the HA harness's.)
    """
    return True


@pytest.fixture
def expected_lingering_timers() -> bool:
    """Only warn about timers left behind (a delayed storage write after a clock jump)."""
    return True


async def _attach(
    hass: HomeAssistant, radio: Radio, profile: LinkProfile, count: int
) -> list[ScannerHandle]:
    """``count`` proxies of ``SLOTS`` slots each on ``radio``, on ``profile``'s path."""
    handles: list[ScannerHandle] = []
    if profile.name == ESPHOME_PROXY:
        from bench.esphome import ProxyConfig, ProxyIdentity, start_esphome_proxy  # noqa: PLC0415

        for index in range(count):
            identity = ProxyIdentity(
                name=f"bench-proxy-{index + 1}",
                friendly_name=f"Bench proxy {index + 1}",
                mac_address=f"A8:42:E3:00:01:{0x10 + 4 * index:02X}",
                bluetooth_mac_address=f"A8:42:E3:00:01:{0x12 + 4 * index:02X}",
            )
            config = ProxyConfig(identity=identity, slots=SLOTS)
            handles.append(await start_esphome_proxy(hass, radio, config=config))
        return handles
    client: Any = radio.client_backend_for(profile.name)
    return [
        await VirtualProxy.async_start(
            hass,
            radio,
            source=f"B0:B0:B0:B0:B1:{index + 1:02X}",
            name=f"bench-proxy-{index + 1}",
            slots=SLOTS,
            client=client,
        )
        for index in range(count)
    ]


@pytest.fixture
async def proxies(
    request: pytest.FixtureRequest,
    hass: HomeAssistant,
    quiet_bluez_stop_discovery: None,
    enable_bluetooth: None,
    link_requirements: None,
    radio: Radio,
    link_profile: LinkProfile,
) -> AsyncIterator[list[ScannerHandle]]:
    """Yield the scenario's proxies (``PROXIES``; 1 for P1), torn down cleanly."""
    count = 1 if request.node.get_closest_marker("single_proxy") else PROXIES
    handles = await _attach(hass, radio, link_profile, count)
    try:
        yield handles
    finally:
        for entry in hass.config_entries.async_entries(DOMAIN):
            await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        for handle in handles:
            await stop_scanner(hass, radio, handle)


async def _wait(predicate: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - HA's manager has no event for this
            await asyncio.sleep(0.02)


async def _add(hass: HomeAssistant, radio: Radio, emulators: list[EmulatedPeripheral]) -> None:
    for emulator in emulators:
        await radio.add_peripheral(emulator)
    await _wait(
        lambda: all(
            bluetooth.async_address_present(hass, emulator.address, connectable=True)
            for emulator in emulators
        ),
        60.0,
    )


def _version(emulator: EmulatedPeripheral) -> tuple[Protocol, str]:
    """Return the protocol of ``emulator`` and the version its config entry would hold."""
    if isinstance(emulator, BluenetDaemonEmulator):
        return Protocol.BLUENET, "1.0"
    config = getattr(emulator, "config", None) or emulator.model.config  # type: ignore[attr-defined]
    major, minor = config.profile.version
    return Protocol.BLUFI, f"{major}.{minor}"


async def _entries(hass: HomeAssistant, emulators: list[EmulatedPeripheral]) -> dict[str, str]:
    """Set up a config entry per device; return address -> device id.

    The first set-up loads the integration, which sets up every entry of the domain; the rest
    are set up one by one if they are still not loaded.
    """
    entries = []
    for emulator in emulators:
        protocol, version = _version(emulator)
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=emulator.address,
            title=emulator.name or emulator.address,
            data={
                CONF_ADDRESS: emulator.address,
                CONF_PROTOCOL: protocol.value,
                CONF_PROTOCOL_VERSION: version,
                CONF_LAST_SSID: SSID,
            },
            options={
                CONF_STATUS_INTERVAL: DEFAULT_STATUS_INTERVAL,
                CONF_ALLOW_CLEARTEXT: False,
            },
        )
        entry.add_to_hass(hass)
        entries.append(entry)
    await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done(wait_background_tasks=True)
    for entry in entries:
        if entry.state is ConfigEntryState.NOT_LOADED:
            await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    failed = [
        f"{entry.unique_id}: {entry.state} {entry.reason}"
        for entry in entries
        if entry.state is not ConfigEntryState.LOADED
    ]
    if failed:
        msg = f"config entries not loaded: {failed}"
        raise RuntimeError(msg)
    registry = dr.async_get(hass)
    found: dict[str, str] = {}
    for entry in entries:
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            found[str(entry.unique_id)] = device.id
    return found


def _allocated(handles: list[ScannerHandle]) -> int:
    return sum(len(handle.allocated) for handle in handles)


# ---------------------------------------------------------------- P1 through Home Assistant
if profiles_for("P1"):

    @pytest.mark.link_profiles(*profiles_for("P1"), interval_ms=INTERVAL_MS)
    @pytest.mark.report_key("P1")
    @pytest.mark.single_proxy
    async def test_p1_one_provisioning(
        hass: HomeAssistant,
        radio: Radio,
        proxies: list[ScannerHandle],
        link_profile: LinkProfile,
        record: Callable[[str, Any], None],
    ) -> None:
        """One provisioning per protocol through HA's bluetooth stack (P1)."""
        rows: list[dict[str, Any]] = []
        interval = link_profile.interval
        for case in provisioning.CASES:
            if case.client != "library":
                rows.append({"case": case.name, "unavailable": "runs stand-alone only"})
                continue
            measured = []
            for seed in range(int(PLAN["runs"])):
                emulator = case.emulator(seed)
                await _add(hass, radio, [emulator])
                names = handle_names(emulator, devices.names_of(emulator))
                protocol, _ = _version(emulator)
                device = ha_device(hass, emulator.address, protocol)
                loop = asyncio.get_running_loop()
                try:
                    await device.identify()
                    await radio.settle(10.0)
                    with AirRecorder(radio) as recorder:
                        start = loop.time()
                        report = await device.provision(
                            ProvisionRequest(devices.SSID, devices.PASSWORD),
                            provisioning.PROVISION_TIMEOUT,
                        )
                        wall = loop.time() - start
                        await radio.settle(10.0)
                finally:
                    await device.close()
                secured = provisioning.security_name(report.security)
                figures = provisioning.measure(
                    recorder,
                    emulator,
                    profile=link_profile.name,
                    interval=interval,
                    start=start,
                    wall=wall,
                    minimum_of=lambda mtu, case=case, secured=secured: (
                        provisioning.minimum_for(case, secured, mtu)
                    ),
                    names=names,
                )
                measured.append({"outcome": report.outcome.value, "security": secured, **figures})
                await radio.remove_peripheral(emulator)
                await close_fleet([emulator])
            rows.append(provisioning.aggregate(case.name, measured))
        record(f"P1@{link_profile.name}", rows)


# ---------------------------------------------------------------- P4: many devices
_RECORDED: dict[tuple[str, str], list[dict[str, Any]]] = {}
"""P4 rows of each (report key, path), in the order the scenarios ran."""


@dataclass(slots=True)
class _Batch:
    devices: int
    wrong: int
    statuses: dict[str, str] = field(default_factory=dict)
    total: float = 0.0
    busy_at_end: int = 0
    retries: int | None = None


def _row(batch: _Batch, wrong: set[str], handles: list[ScannerHandle], single: float) -> Any:
    failed = {address for address, status in batch.statuses.items() if status != "connected"}
    ideal = math.ceil(batch.devices / (PROXIES * SLOTS)) * single
    return {
        "devices": batch.devices,
        "expected_failures": batch.wrong,
        "failures": len(failed),
        "unexpected": sorted(
            f"{address} {status}"
            for address, status in batch.statuses.items()
            if (address in failed) != (address in wrong)
        ),
        "statuses": sorted(set(batch.statuses.values())),
        "total_s": round(batch.total, 3),
        "ideal_s": round(ideal, 3),
        "of_ideal": round(batch.total / ideal, 3) if ideal else None,
        "slots_busy_when_done": batch.busy_at_end,
        "all_slots_free": _allocated(handles) == 0,
        "retries": batch.retries,
    }


async def _by_action(hass: HomeAssistant, ids: list[str]) -> tuple[dict[str, str], float]:
    """``provision_wifi`` for every device id at once; status per id and the total time."""
    loop = asyncio.get_running_loop()

    async def one(device_id: str) -> str:
        try:
            await hass.services.async_call(
                DOMAIN,
                "provision_wifi",
                {"device_id": device_id, "ssid": SSID, "password": PASSWORD},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as err:
            key = err.translation_key or type(err).__name__
            return key.removeprefix("provision_")
        return "connected"

    start = loop.time()
    statuses = await asyncio.gather(*(one(device_id) for device_id in ids))
    return dict(zip(ids, statuses, strict=True)), loop.time() - start


async def _by_many(hass: HomeAssistant, addresses: list[str]) -> tuple[dict[str, str], float, int]:
    """Provision discovered devices (no config entries) with one ``provision_many`` call.

    Returns the status by address, the total time and the retries.
    """
    # The actions are registered when the integration is set up (no entry needed for them).
    assert await async_setup_component(hass, DOMAIN, {})
    loop = asyncio.get_running_loop()
    start = loop.time()
    response = await hass.services.async_call(
        DOMAIN,
        "provision_many",
        {"address": addresses, "ssid": SSID, "password": PASSWORD},
        blocking=True,
        return_response=True,
    )
    total = loop.time() - start
    assert response is not None
    results: list[dict[str, Any]] = response["results"]  # type: ignore[assignment]
    return (
        {str(item["address"]).upper(): str(item["status"]) for item in results},
        total,
        sum(int(item.get("attempts") or 1) - 1 for item in results),
    )


async def _by_engine(
    hass: HomeAssistant, emulators: list[EmulatedPeripheral]
) -> tuple[dict[str, str], float, int]:
    loop = asyncio.get_running_loop()
    engine = ProvisioningEngine(slots=ha_slots(hass))
    targets = [
        ha_device(hass, emulator.address, Protocol.BLUFI, version=_version(emulator)[1])
        for emulator in emulators
    ]
    start = loop.time()
    try:
        results = await engine.provision(targets, ProvisionRequest(SSID, PASSWORD)).wait()
    finally:
        for target in targets:
            await target.close()
    total = loop.time() - start
    return (
        {result.address: result.status for result in results},
        total,
        sum(result.attempts - 1 for result in results),
    )


def _scenarios() -> list[Any]:
    return [
        pytest.param(int(count), int(wrong), id=f"{count}:{wrong}")
        for count, wrong in PLAN["devices"]
    ]


if profiles_for("P4"):

    @pytest.mark.link_profiles(*profiles_for("P4"), interval_ms=INTERVAL_MS)
    @pytest.mark.report_key("P4")
    @pytest.mark.parametrize("path", ["provision_wifi", "provision_many", "engine"])
    @pytest.mark.parametrize(("count", "wrong"), _scenarios())
    async def test_p4_many_devices(
        hass: HomeAssistant,
        radio: Radio,
        proxies: list[ScannerHandle],
        link_profile: LinkProfile,
        record: Callable[[str, Any], None],
        path: str,
        count: int,
        wrong: int,
    ) -> None:
        """N devices behind 2 proxies x 3 slots through Home Assistant (P4)."""
        key = f"P4@{link_profile.name}"
        label = f"HA {path}" + (" x N" if path == "provision_wifi" else "")
        wrong_indices = set(range(1, 1 + wrong))
        emulators = devices.fleet(mixed(count), ssid=SSID, password=PASSWORD, wrong=wrong_indices)
        wrong_addresses = {emulators[index].address for index in wrong_indices}
        try:
            await _add(hass, radio, emulators)
            batch = _Batch(count, wrong)
            loop = asyncio.get_running_loop()
            singles: list[float] = []
            breakdown: dict[str, Any] = {}
            ids = await _entries(hass, emulators) if path == "provision_wifi" else {}

            async def alone(emulator: EmulatedPeripheral) -> float:
                if path == "provision_wifi":
                    return (await _by_action(hass, [ids[emulator.address]]))[1]
                if path == "provision_many":
                    return (await _by_many(hass, [emulator.address]))[1]
                return (await _by_engine(hass, [emulator]))[1]

            for emulator in emulators[:2]:  # a V1 and a V2 device alone (mixed() alternates)
                names = handle_names(emulator, devices.BLUFI_NAMES)
                with AirRecorder(radio) as recorder:
                    since = loop.time()
                    singles.append(await alone(emulator))
                    await hass.async_block_till_done(wait_background_tasks=True)
                    await radio.settle(10.0)
                breakdown[emulator.address] = {
                    "call_ms": round(singles[-1] * 1000, 1),
                    "connections": provisioning.connection_log(
                        recorder, emulator, names, link_profile.interval, since
                    ),
                }
            clock = _SlotClock([handle.source for handle in proxies])
            clock.start()
            cpu = time.process_time()
            try:
                if path == "provision_wifi":
                    by_id, batch.total = await _by_action(hass, list(ids.values()))
                    batch.busy_at_end = _allocated(proxies)
                    address_of = {device_id: address for address, device_id in ids.items()}
                    batch.statuses = {address_of[i]: status for i, status in by_id.items()}
                elif path == "provision_many":
                    batch.statuses, batch.total, batch.retries = await _by_many(
                        hass, [emulator.address for emulator in emulators]
                    )
                    batch.busy_at_end = _allocated(proxies)
                else:
                    batch.statuses, batch.total, batch.retries = await _by_engine(hass, emulators)
                    batch.busy_at_end = _allocated(proxies)
                await hass.async_block_till_done(wait_background_tasks=True)
            finally:
                clock.stop()
            cpu = time.process_time() - cpu
            single = statistics.mean(singles)
            row = _row(batch, wrong_addresses, proxies, single)
            row.update(clock.usage(batch.total, PROXIES * SLOTS))
            row["process_cpu_s"] = round(cpu, 3)
            row["process_cpu_share"] = round(cpu / batch.total, 3) if batch.total else None
            row["one_provisioning_s"] = round(single, 3)
            row["one_provisioning_each_s"] = [round(value, 3) for value in singles]
            row["one_provisioning_connections"] = breakdown
        finally:
            await close_fleet(emulators)
        scenarios = _RECORDED.setdefault((key, label), [])
        scenarios.append(row)
        record(key, {label: {"scenarios": scenarios}})


# ---------------------------------------------------------------- P5: slot time at rest
class _SlotClock:
    """Time each address holds a slot, from the manager's allocation reports."""

    def __init__(self, sources: list[str]) -> None:
        self.sources = sources
        self.held: dict[str, float] = {}
        self.holds: dict[str, int] = {}
        self._since: dict[tuple[str, str], float] = {}
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        manager = get_manager()
        for source in self.sources:
            self._unsubscribe.append(
                manager.async_register_allocation_callback(self._on_change, source)
            )

    def stop(self) -> None:
        while self._unsubscribe:
            self._unsubscribe.pop()()

    def usage(self, elapsed: float, slots: int) -> dict[str, Any]:
        """How busy the slots were over ``elapsed`` seconds (as the proxies reported them)."""
        held = sorted(self.held.values())
        return {
            "slot_holds": sum(self.holds.values()),
            "slot_busy_share": round(sum(held) / (elapsed * slots), 3) if elapsed else None,
            "slot_s_per_device_median": round(statistics.median(held), 3) if held else None,
        }

    def _on_change(self, allocations: Any) -> None:
        now = asyncio.get_running_loop().time()
        source = allocations.source if hasattr(allocations, "source") else allocations.adapter
        current = {address.upper() for address in allocations.allocated}
        for held_source, address in list(self._since):
            if held_source == source and address not in current:
                began = self._since.pop((held_source, address))
                self.held[address] = self.held.get(address, 0.0) + now - began
        for address in current:
            if (source, address) not in self._since:
                self._since[(source, address)] = now
                self.holds[address] = self.holds.get(address, 0) + 1


if profiles_for("P5"):

    @pytest.mark.link_profiles(*profiles_for("P5"), interval_ms=INTERVAL_MS)
    @pytest.mark.report_key("P5")
    async def test_p5_slot_time_at_rest(
        hass: HomeAssistant,
        radio: Radio,
        proxies: list[ScannerHandle],
        link_profile: LinkProfile,
        record: Callable[[str, Any], None],
    ) -> None:
        """Slot time per device over 10 minutes of background refreshes (P5)."""
        emulators = devices.fleet(parse_spec(REST_FLEET), ssid=SSID, password=PASSWORD)
        try:
            await _add(hass, radio, emulators)
            await _entries(hass, emulators)
            await radio.settle(10.0)
            clock = _SlotClock([handle.source for handle in proxies])
            clock.start()
            simulated = 0.0
            recorder = AirRecorder(radio)
            recorder.start()
            since = asyncio.get_running_loop().time()
            try:
                while simulated < REST_MINUTES * 60:
                    # A clock jump runs every timer due before it, the radio's too: let the
                    # radio finish what it is doing first.
                    await radio.settle(30.0)
                    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=JUMP))
                    simulated += JUMP
                    await hass.async_block_till_done(wait_background_tasks=True)
                await radio.settle(30.0)
                await hass.async_block_till_done(wait_background_tasks=True)
            finally:
                clock.stop()
                recorder.stop()
            air = {
                emulator.address: provisioning.connection_log(
                    recorder,
                    emulator,
                    handle_names(emulator, devices.names_of(emulator)),
                    link_profile.interval,
                    since,
                )
                for emulator in emulators
            }
        finally:
            await close_fleet(emulators)
        per_device = {
            emulator.address: round(clock.held.get(emulator.address, 0.0), 3)
            for emulator in emulators
        }
        values = sorted(per_device.values())
        record(
            f"P5@{link_profile.name}",
            {
                "devices": len(emulators),
                "fleet": REST_FLEET,
                "simulated_minutes": round(simulated / 60, 2),
                "clock_jumps": round(simulated / JUMP),
                "status_interval_s": DEFAULT_STATUS_INTERVAL,
                "refreshes": sum(clock.holds.values()),
                "slot_s_per_device": per_device,
                "holds_per_device": dict(clock.holds),
                "slot_s_per_device_median": statistics.median(values),
                "slot_s_per_device_max": values[-1],
                # Where the slot time goes: each refresh's connection on the air (CONNECT_IND
                # to LL_TERMINATE_IND) and when it began after its clock jump; the rest of a
                # hold is connection set-up and tear-down.
                "air_s_per_device": {
                    address: round(sum(c["session_ms"] or 0.0 for c in log) / 1000, 3)
                    for address, log in air.items()
                },
                "refresh_connections": {
                    address: [
                        {key: c[key] for key in ("at_ms", "session_ms", "requests")} for c in log
                    ]
                    for address, log in air.items()
                },
            },
        )
