"""The bench as a backend of the console command: ``--backend bench.cli_backend:factory``.

``factory()`` starts a :class:`~bench.radio.Radio` with emulated devices in this process and
yields it as the command's backend (its bleak client and scanner backends, and which emulated
adapter each device is reached through). Configured by environment variables:

* ``BLE_BENCH_DEVICES``: e.g. ``blufi-v1:2,blufi-v2:2,bluenet:1`` (the default);
* ``BLE_BENCH_SSID`` / ``BLE_BENCH_PASSWORD``: the one access point every device sees
  (default ``HomeNet`` / ``correct-horse-battery``);
* ``BLE_BENCH_WRONG``: 0-based indices of devices whose access point has another password;
* ``BLE_BENCH_FLAKY``: indices of BluFi devices that drop the link once;
* ``BLE_BENCH_ADAPTERS``: how many adapters the devices are spread over (default 1);
* ``BLE_BENCH_DH_BITS``: the BluFi devices' DH private value size (default: as the firmware,
  3072 bits for V2, about a second of CPU per negotiation; the tests use 256).

The bench must be importable (``PYTHONPATH`` at the repository); the command itself may come from
the installed wheel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
import contextlib
from dataclasses import dataclass, field
import os

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner

from .device import EmulatedPeripheral
from .fleet import build_fleet, close_fleet, parse_spec
from .radio import Radio

DEFAULT_DEVICES = "blufi-v1:2,blufi-v2:2,bluenet:1"
DEFAULT_SSID = "HomeNet"
DEFAULT_PASSWORD = "correct-horse-battery"


def _indices(value: str | None) -> set[int]:
    return {int(item) for item in (value or "").split(",") if item.strip()}


@dataclass(slots=True)
class BenchBackend:
    """What the command reads from a backend, plus the bench for whoever wants it."""

    radio: Radio
    emulators: list[EmulatedPeripheral]
    adapters: int = 1
    _index: dict[str, int] = field(default_factory=dict)

    @property
    def client_backend(self) -> type[BaseBleakClient]:
        """The radio's bleak client backend."""
        return self.radio.client_backend

    @property
    def scanner_backend(self) -> type[BaseBleakScanner]:
        """The radio's bleak scanner backend."""
        return self.radio.scanner_backend

    @property
    def adapter_key(self) -> Callable[[BLEDevice], str]:
        """Spread the devices over ``adapters`` emulated adapters, in fleet order."""
        self._index = {emulator.address: i for i, emulator in enumerate(self.emulators)}

        def key(ble_device: BLEDevice) -> str:
            return f"hci{self._index.get(ble_device.address.upper(), 0) % self.adapters}"

        return key


@contextlib.asynccontextmanager
async def factory(environ: Mapping[str, str] | None = None) -> AsyncIterator[BenchBackend]:
    """Start a radio with the configured emulators; stop everything at exit."""
    env = os.environ if environ is None else environ
    emulators = build_fleet(
        parse_spec(env.get("BLE_BENCH_DEVICES", DEFAULT_DEVICES)),
        ssid=env.get("BLE_BENCH_SSID", DEFAULT_SSID),
        password=env.get("BLE_BENCH_PASSWORD", DEFAULT_PASSWORD),
        wrong=_indices(env.get("BLE_BENCH_WRONG")),
        flaky=_indices(env.get("BLE_BENCH_FLAKY")),
        dh_private_bits=int(env["BLE_BENCH_DH_BITS"]) if env.get("BLE_BENCH_DH_BITS") else None,
    )
    try:
        async with Radio() as radio:
            for emulator in emulators:
                await radio.add_peripheral(emulator)
            yield BenchBackend(radio, emulators, max(1, int(env.get("BLE_BENCH_ADAPTERS", "1"))))
    finally:
        await close_fleet(emulators)
