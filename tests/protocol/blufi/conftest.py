"""Bench helpers for the BluFi client <-> ESP32 emulator tests (no Home Assistant)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
import pytest

from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp
from bench.radio import Radio
from custom_components.ble_provisioning.protocol.blufi import SERVICE_UUID, AsyncBlufiClient

HOME = WifiAp("HomeNet", rssi=-45, password="password1", bssid="a4:cf:12:34:56:78")
OFFICE = WifiAp("Office-5G", rssi=-67, password="office-pass")
CAFE = WifiAp("Cafe Free WiFi", rssi=-81)


def default_networks() -> list[WifiAp]:
    return [
        WifiAp(HOME.ssid, HOME.rssi, HOME.password, HOME.bssid),
        WifiAp(OFFICE.ssid, OFFICE.rssi, OFFICE.password),
        WifiAp(CAFE.ssid, CAFE.rssi),
    ]


@dataclass
class Bench:
    radio: Radio
    device: Esp32BlufiEmulator
    ble_device: BLEDevice

    def client(
        self, timeout: float = 30.0, ack_timeout: float = 30.0, version: str | None = None
    ) -> AsyncBlufiClient:
        return AsyncBlufiClient(
            self.ble_device,
            backend=self.radio.client_backend,
            timeout=timeout,
            ack_timeout=ack_timeout,
            version=version,
        )


async def find_blufi(radio: Radio, timeout: float = 30.0) -> BLEDevice:
    """Scan as the official apps do: by the advertised service 0xFFFF."""
    device = await BleakScanner.find_device_by_filter(
        lambda _d, adv: SERVICE_UUID in adv.service_uuids,
        timeout=timeout,
        backend=radio.scanner_backend,
    )
    assert device is not None, "BluFi device not seen"
    return device


BenchFactory = Callable[..., contextlib.AbstractAsyncContextManager[Bench]]


@pytest.fixture
def blufi_bench() -> BenchFactory:
    """``async with blufi_bench(profile="v5.5", mtu=23, config=...) as bench``."""

    @contextlib.asynccontextmanager
    async def make(
        profile: str = "v6.0", mtu: int = 517, config: BlufiDeviceConfig | None = None
    ) -> AsyncIterator[Bench]:
        if config is None:
            config = BlufiDeviceConfig(networks=default_networks(), seed=1)
        if config.dh_private_bits is None and config.dh_private_key is None:
            # The firmware's 3072-bit V2 private value costs ~1 s of CPU per negotiation (more
            # under load); the client's behaviour does not depend on its size.
            config.dh_private_bits = 256
        device = Esp32BlufiEmulator(config, profile=profile)
        async with Radio(mtu=mtu) as radio:
            await radio.add_peripheral(device)
            try:
                yield Bench(radio, device, await find_blufi(radio))
            finally:
                await device.close()

    return make
