"""Helpers of the engine tests: a fleet of emulators on the radio, and a counting slot wrapper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
import contextlib
from dataclasses import dataclass, field

from bleak.backends.device import BLEDevice

from bench.device import EmulatedPeripheral
from bench.fleet import LinkCounter, build_fleet, close_fleet
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.discovery import FoundDevice, scan
from custom_components.ble_provisioning.protocol.engine import ProvisioningEngine, Target
from custom_components.ble_provisioning.protocol.models import ProvisionRequest
from custom_components.ble_provisioning.protocol.slots import ConnectionSlots, SlotLease

SSID = "HomeNet"
PASSWORD = "correct-horse-battery"
REQUEST = ProvisionRequest(SSID, PASSWORD)


class CountingSlots:
    """Wraps a ``ConnectionSlots``: leases in use now and at most."""

    def __init__(self, inner: ConnectionSlots) -> None:
        self.inner = inner
        self.in_use = 0
        self.most = 0
        self.granted = 0

    async def acquire(self, ble_device: BLEDevice, timeout: float) -> SlotLease:
        lease = await self.inner.acquire(ble_device, timeout)
        self.in_use += 1
        self.granted += 1
        self.most = max(self.most, self.in_use)
        return _CountedLease(self, lease)


class _CountedLease:
    def __init__(self, owner: CountingSlots, lease: SlotLease) -> None:
        self._owner: CountingSlots | None = owner
        self._lease = lease

    def connected(self) -> None:
        self._lease.connected()

    def release(self) -> None:
        self._lease.release()
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.in_use -= 1


@dataclass
class Fleet:
    radio: Radio
    emulators: list[EmulatedPeripheral]
    found: dict[str, FoundDevice]
    links: LinkCounter
    slots: CountingSlots | None = None
    engines: list[ProvisioningEngine] = field(default_factory=list)

    def targets(self, addresses: Collection[str] | None = None) -> list[Target]:
        """Targets for the found devices (all, or ``addresses``), in fleet order."""
        chosen = [
            self.found[emulator.address]
            for emulator in self.emulators
            if addresses is None or emulator.address in addresses
        ]
        return [Target(found.ble_device, found.protocol, name=found.name) for found in chosen]

    def engine(self, slots: ConnectionSlots, **kwargs: object) -> ProvisioningEngine:
        self.slots = CountingSlots(slots)
        engine = ProvisioningEngine(
            slots=self.slots,
            backend=self.links.backend,
            retry_backoff=0.01,
            provision_timeout=5.0,
            step_timeout=5.0,
            **kwargs,  # type: ignore[arg-type]
        )
        self.engines.append(engine)
        return engine

    def assert_released(self) -> None:
        """No link up on the radio, none counted, no slot held."""
        assert self.links.stats.up == 0
        assert not self.radio.central.connections
        if self.slots is not None:
            assert self.slots.in_use == 0


@contextlib.asynccontextmanager
async def fleet_on(radio: Radio, kinds: list[str], **kwargs: object) -> AsyncIterator[Fleet]:
    """Put a fleet on ``radio`` and discover it (as the console command does)."""
    # 256-bit device DH values: the firmware's 3072-bit V2 value costs ~1 s of CPU per device.
    emulators = build_fleet(
        kinds,
        ssid=SSID,
        password=PASSWORD,
        dh_private_bits=256,
        **kwargs,  # type: ignore[arg-type]
    )
    try:
        for emulator in emulators:
            await radio.add_peripheral(emulator)
        wanted = {emulator.address for emulator in emulators}
        found = await scan(
            10.0, backend=radio.scanner_backend, done=lambda seen: wanted <= seen.keys()
        )
        by_address = {item.address: item for item in found}
        assert wanted <= by_address.keys(), "not every emulator was discovered"
        yield Fleet(radio, emulators, by_address, LinkCounter(radio.client_backend))
    finally:
        await close_fleet(emulators)
