"""The demo's emulated devices and the small Wi-Fi environment they all see.

* ``BLUFI_V1``: an ESP32 running ESP-IDF v5.5's BluFi example (BluFi 1.3, security V1);
* ``BLUFI_V2``: an ESP32 running ESP-IDF v6.0's BluFi example (BluFi 1.4, security V2);
* a Bluenet daemon (advertises only its service UUID, so HA shows its address).

Only ``DemoHome`` with the password ``provision-me`` can be joined; the other networks'
passwords are random per run.
"""

from __future__ import annotations

from dataclasses import dataclass
import secrets
from typing import Any

from bench.device import EmulatedPeripheral
from bench.emulators.bluenet import BluenetConfig, BluenetDaemonEmulator, WifiNetwork
from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp

WORKING_SSID = "DemoHome"
WORKING_PASSWORD = "provision-me"  # the demo's published Wi-Fi password
JOIN_DELAY = 0.8
"""Seconds a BluFi join takes: long enough for the config flow's progress step to show."""

BLUFI_V1_ADDRESS = "24:0A:C4:00:00:01"
BLUFI_V2_ADDRESS = "24:0A:C4:00:00:02"
BLUENET_ADDRESS = "B0:0B:1E:00:00:01"


@dataclass(frozen=True, slots=True)
class DemoNetwork:
    """One access point of the emulated Wi-Fi environment."""

    ssid: str
    rssi: int
    password: str


def networks() -> list[DemoNetwork]:
    """Return the environment: one network with a published password, three without."""
    return [
        DemoNetwork(WORKING_SSID, -45, WORKING_PASSWORD),
        DemoNetwork("IoT-Lab", -61, secrets.token_urlsafe(12)),
        DemoNetwork("Neighbour-5G", -74, secrets.token_urlsafe(12)),
        DemoNetwork("CoffeeShop-Guest", -83, secrets.token_urlsafe(12)),
    ]


def build_emulators(
    bluenet_profile: tuple[str, str | None] | None = None,
    *,
    join_delay: float = JOIN_DELAY,
    bluenet_timings: Any = None,
) -> list[EmulatedPeripheral]:
    """Two BluFi devices (security V1 and V2) and one Bluenet daemon, same environment.

    ``bluenet_profile`` is the NetworkManager profile the Bluenet host kept from its last run.
    ``join_delay`` and ``bluenet_timings`` (a ``BluenetTimings``; None: the daemon's own) let
    tests run the demo's devices faster.
    """
    environment = networks()

    def blufi_networks() -> list[WifiAp]:
        return [
            WifiAp(ssid=n.ssid, rssi=n.rssi, password=n.password, connect_delay=join_delay)
            for n in environment
        ]

    return [
        Esp32BlufiEmulator(
            BlufiDeviceConfig(name="BLUFI_V1", networks=blufi_networks()),
            profile="v5.5",
            address=BLUFI_V1_ADDRESS,
        ),
        Esp32BlufiEmulator(
            BlufiDeviceConfig(name="BLUFI_V2", networks=blufi_networks()),
            profile="v6.0",
            address=BLUFI_V2_ADDRESS,
        ),
        BluenetDaemonEmulator(
            BluenetConfig(
                networks=[WifiNetwork(n.ssid, n.password) for n in environment],
                initial_profile=bluenet_profile,
                **({} if bluenet_timings is None else {"timings": bluenet_timings}),
            ),
            address=BLUENET_ADDRESS,
        ),
    ]
