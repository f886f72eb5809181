"""Fixtures of the integration tests.

Every test runs the real integration: Home Assistant's bluetooth manager discovers the bench's
emulators through the virtual proxy (or, for a test marked ``link_profiles``, through the path of
each link profile: ``link_scanner``), and the protocol clients talk to them over the emulated
radio. Nothing of the protocol layer is mocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components import bluetooth
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from bench.device import EmulatedPeripheral
from bench.emulators.bluenet import (
    BluenetConfig,
    BluenetDaemonEmulator,
    BluenetTimings,
    JoinBehaviour,
    WifiNetwork as BluenetNetwork,
)
from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp
from bench.link.profiles import ScannerHandle
from bench.radio import Radio
from custom_components.ble_provisioning import const
from custom_components.ble_provisioning.const import (
    CONF_LAST_SSID,
    CONF_PROTOCOL,
    CONF_PROTOCOL_VERSION,
    CONF_STATUS_INTERVAL,
    DOMAIN,
)

#: The password every "good" network uses; the leak test searches for it everywhere.
PASSWORD = "correct-horse-battery-staple"
BLUFI_ADDRESS = "24:0A:C4:00:00:01"
BLUENET_ADDRESS = "B0:0B:1E:00:00:01"
#: DH private value size of the emulated ESP32 in tests (the benchmark keeps the firmware's).
TEST_DH_PRIVATE_BITS = 256


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/ble_provisioning."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A DeprecationWarning raised from the integration's code fails its test."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(
                pytest.mark.filterwarnings("error::DeprecationWarning:custom_components")
            )


@pytest.fixture(autouse=True)
def fail_on_ha_deprecation(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Home Assistant reporting a deprecated use by this integration fails the test.

    Home Assistant logs these ("Detected that custom integration 'ble_provisioning' ...
    This will stop working in Home Assistant X") instead of raising.
    """
    yield
    reports = [
        record.getMessage()
        for record in (*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records)
        if f"integration '{DOMAIN}'" in record.getMessage()
    ]
    assert not reports, reports


@pytest.fixture(autouse=True)
def fast_timings() -> Iterator[None]:
    """Shorten the integration's timers: the emulators answer in milliseconds."""
    with (
        patch.object(const, "FLOW_IDLE_TIMEOUT", 0.0),
        # Generous: these bound answers the emulators do give (a busy machine must not turn
        # them into timeouts); tests of a timeout shorten the one they wait for.
        patch.object(const, "SCAN_TIMEOUT", 30.0),
        patch.object(const, "PROVISION_TIMEOUT", 30.0),
    ):
        yield


async def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``predicate`` until it holds (the radio runs in the same event loop)."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - emulator state has no event to await
            await asyncio.sleep(0.01)


def blufi_networks() -> list[WifiAp]:
    """The BluFi device's Wi-Fi environment."""
    return [
        WifiAp("Neighbour", rssi=-80, password="neighbour-secret"),
        WifiAp("HomeNet", rssi=-45, password=PASSWORD),
        WifiAp("Cafe", rssi=-60),
        WifiAp("Ghost", rssi=-70, password=PASSWORD, visible=False),
        # A second access point of the same network, weaker: listed once, strongest first.
        WifiAp("HomeNet", rssi=-85, password=PASSWORD),
    ]


def bluenet_networks() -> list[BluenetNetwork]:
    """The Bluenet daemon's Wi-Fi environment."""
    return [
        BluenetNetwork("HomeNet", PASSWORD),
        BluenetNetwork("Cafe"),
        BluenetNetwork("NoInternet", PASSWORD, behaviour=JoinBehaviour.NO_INTERNET),
        BluenetNetwork("Uplink", PASSWORD, behaviour=JoinBehaviour.OTHER_UPLINK),
        BluenetNetwork("Frozen", PASSWORD, behaviour=JoinBehaviour.FREEZE),
    ]


class Bench:
    """Puts emulators on the radio, waits until Home Assistant sees them, cleans up."""

    def __init__(self, hass: HomeAssistant, radio: Radio, proxy: ScannerHandle) -> None:
        """Keep the pieces."""
        self.hass = hass
        self.radio = radio
        self.proxy = proxy
        self.emulators: list[EmulatedPeripheral] = []

    async def add(self, emulator: EmulatedPeripheral, *, wait: bool = True) -> Any:
        """Power ``emulator`` on and wait until the bluetooth manager has seen it."""
        self.emulators.append(emulator)
        await self.radio.add_peripheral(emulator)
        if wait:
            await wait_for(
                lambda: bluetooth.async_address_present(
                    self.hass, emulator.address, connectable=True
                )
            )
            await self.hass.async_block_till_done()
        return emulator

    async def remove(self, emulator: EmulatedPeripheral) -> None:
        """Power ``emulator`` off (it stops advertising and drops its links)."""
        await self.radio.remove_peripheral(emulator)

    async def expire(self, address: str) -> None:
        """Make Home Assistant's bluetooth manager forget ``address`` (device gone).

        The proxy stops reporting, then the manager's availability check runs with its clock
        moved past every stale-advertisement limit.
        """
        await self.proxy.async_stop()
        # The clock jump below fires every pending timer handle, Bumble's too: let the
        # radio finish what it is doing first (e.g. re-advertising after a disconnect).
        await self.radio.settle()
        later = time.monotonic() + 3600
        with (
            patch("habluetooth.manager.monotonic_time_coarse", return_value=later),
            patch("habluetooth.base_scanner.monotonic_time_coarse", return_value=later),
        ):
            async_fire_time_changed(self.hass, dt_util.utcnow() + timedelta(minutes=10))
            await self.hass.async_block_till_done()

    async def blufi(
        self, config: BlufiDeviceConfig | None = None, *, wait: bool = True, **kwargs: Any
    ) -> Esp32BlufiEmulator:
        """Add an ESP32 BluFi emulator (default: v6.0 profile and :func:`blufi_networks`)."""
        if config is None:
            config = BlufiDeviceConfig(networks=blufi_networks(), seed=1)
        if config.dh_private_bits is None and config.dh_private_key is None:
            # The firmware's 3072-bit V2 private value costs ~1 s of CPU per negotiation (more
            # under load); the integration does not depend on its size.
            config.dh_private_bits = TEST_DH_PRIVATE_BITS
        emulator: Esp32BlufiEmulator = await self.add(
            Esp32BlufiEmulator(config, **kwargs), wait=wait
        )
        return emulator

    async def bluenet(
        self, config: BluenetConfig | None = None, *, wait: bool = True, **kwargs: Any
    ) -> BluenetDaemonEmulator:
        """Add a Bluenet daemon emulator with fast timers."""
        if config is None:
            config = BluenetConfig(networks=bluenet_networks())
        config.timings = BluenetTimings.fast(0.01)
        emulator: BluenetDaemonEmulator = await self.add(
            BluenetDaemonEmulator(config, **kwargs), wait=wait
        )
        return emulator

    async def async_cleanup(self) -> None:
        """End open flows and unload every entry (releasing connections), stop the emulators."""
        for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN):
            self.hass.config_entries.flow.async_abort(flow["flow_id"])
        await self.hass.async_block_till_done()
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            await self.hass.config_entries.async_unload(entry.entry_id)
        await self.hass.async_block_till_done()
        for emulator in self.emulators:
            close: Callable[[], Awaitable[None]] | None = getattr(emulator, "close", None)
            if close is not None:
                await close()


@pytest.fixture
def bench_scanner(request: pytest.FixtureRequest) -> ScannerHandle:
    """The path Home Assistant sees the radio through.

    ``link_scanner`` when the test runs on link profiles, else ``virtual_proxy``. (A plain
    fixture: an async one cannot request another async fixture by name.)
    """
    name = "link_scanner" if "link_profile" in request.fixturenames else "virtual_proxy"
    scanner: ScannerHandle = request.getfixturevalue(name)
    return scanner


@pytest.fixture
async def bench(
    hass: HomeAssistant, radio: Radio, bench_scanner: ScannerHandle
) -> AsyncIterator[Bench]:
    """Yield the bench helper; unload entries and stop emulators at teardown."""
    helper = Bench(hass, radio, bench_scanner)
    yield helper
    await helper.async_cleanup()


def make_entry(
    address: str,
    protocol: str,
    *,
    title: str = "Test device",
    version: str = "1.4",
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """A config entry as the flow creates it."""
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=address,
        title=title,
        data={
            CONF_ADDRESS: address,
            CONF_PROTOCOL: protocol,
            CONF_PROTOCOL_VERSION: version,
            CONF_LAST_SSID: "HomeNet",
        },
        options=options or {CONF_STATUS_INTERVAL: const.DEFAULT_STATUS_INTERVAL},
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add and set up ``entry``."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
