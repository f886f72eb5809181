"""A small fleet behind the virtual proxy, for the batch tests (actions and flow).

BluFi devices alternate between the v5.5 (security V1) and v6.0 (V2) profiles with 256-bit DH
private values (as the engine tests: fast on a busy machine), plus Bluenet daemons. Every device
sees ``HomeNet`` and ``NewNet``; a device in ``wrong`` has access points whose password is not
the one the tests send (its join fails as with a wrong password).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from habluetooth import get_manager
from homeassistant.core import HomeAssistant

from bench.emulators.bluenet import BluenetConfig, WifiNetwork as BluenetNetwork
from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp
from bench.fleet import address_of
from bench.proxy import VirtualProxy
from custom_components.ble_provisioning.slots import ha_slots

from .conftest import PASSWORD, Bench, make_entry, setup_entry
from .helpers import device_for

NEW_SSID = "NewNet"
NEW_PASSWORD = "new-network-passphrase"
OTHER_PASSWORD = "not-the-password"
_PROFILES = {"blufi-v1": ("v5.5", "1.3"), "blufi-v2": ("v6.0", "1.4")}
#: Five devices of both protocols (BluFi V1 and V2, one Bluenet daemon in the middle).
MIXED = ["blufi-v1", "blufi-v2", "bluenet", "blufi-v2", "blufi-v1"]


@dataclass
class FleetDevice:
    """One device of the bench fleet."""

    kind: str
    address: str
    emulator: object
    device_id: str | None = None

    @property
    def protocol(self) -> str:
        """The protocol's value."""
        return "bluenet" if self.kind == "bluenet" else "blufi"

    @property
    def sta_ssid(self) -> bytes:
        """The network a BluFi device was last given."""
        assert isinstance(self.emulator, Esp32BlufiEmulator)
        return self.emulator.model.sta_ssid


@dataclass
class SlotWatch:
    """The most connections the proxy reported at once."""

    most: int = 0
    unsubscribe: Callable[[], None] = field(default=lambda: None)


def watch_slots(proxy: VirtualProxy) -> SlotWatch:
    """Follow the proxy's allocation reports (call ``unsubscribe`` when done)."""
    watch = SlotWatch()

    def _report(allocations: object) -> None:
        watch.most = max(watch.most, len(getattr(allocations, "allocated", ())))

    watch.unsubscribe = get_manager().async_register_allocation_callback(_report, proxy.source)
    return watch


async def add_fleet(
    bench: Bench, kinds: list[str], *, wrong: Collection[int] = (), start: int = 1
) -> list[FleetDevice]:
    """Put one emulator per kind on the radio; ``wrong`` are indices into ``kinds``."""
    devices: list[FleetDevice] = []
    for index, kind in enumerate(kinds):
        number = start + index
        address = address_of(kind, number)
        home = OTHER_PASSWORD if index in wrong else PASSWORD
        new = OTHER_PASSWORD if index in wrong else NEW_PASSWORD
        if kind == "bluenet":
            config = BluenetConfig(
                networks=[BluenetNetwork("HomeNet", home), BluenetNetwork(NEW_SSID, new)]
            )
            emulator: object = await bench.bluenet(config, address=address)
        else:
            profile, _ = _PROFILES[kind]
            blufi = BlufiDeviceConfig(
                name=f"BLUFI_DEVICE-{number:02d}",
                networks=[WifiAp("HomeNet", -50 - index, home), WifiAp(NEW_SSID, -55, new)],
                seed=number,
                dh_private_bits=256,
            )
            emulator = await bench.blufi(blufi, address=address, profile=profile)
        devices.append(FleetDevice(kind, address, emulator))
    return devices


async def configure(hass: HomeAssistant, devices: list[FleetDevice]) -> None:
    """Create and load an entry for each device (as the flow would); note its device id."""
    for number, device in enumerate(devices, start=1):
        version = "1.0" if device.kind == "bluenet" else _PROFILES[device.kind][1]
        entry = make_entry(
            device.address, device.protocol, title=f"Device {number}", version=version
        )
        await setup_entry(hass, entry)
        device.device_id = device_for(hass, device.address).id


def assert_released(hass: HomeAssistant, proxy: VirtualProxy) -> None:
    """No connection left on the proxy, no slot claimed, nobody waiting."""
    slots = ha_slots(hass)
    assert proxy.allocated == []
    assert slots.in_flight(proxy.source) == 0
    assert slots.waiting == 0
