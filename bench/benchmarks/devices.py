"""The emulated devices the benchmarks provision, and the names of their characteristics.

P1-style devices answer as fast as the link lets them: Wi-Fi joins at once and a BluFi device
computes its DH key with a 256-bit private value (a few milliseconds of bench CPU), so what is
measured is the client and the link, not the device. A device with a wrong password fails its
join after ``fail_after`` seconds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from bench.device import EmulatedPeripheral
from bench.emulators.bluenet import (
    AVAILABLE_NETWORKS_UUID,
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    HOSTNAME_UUID,
    SSID_UUID,
    VERSION_UUID,
    BluenetConfig,
    BluenetDaemonEmulator,
    BluenetTimings,
    WifiNetwork as BluenetNetwork,
)
from bench.emulators.blufi import BlufiDeviceConfig, Esp32BlufiEmulator, WifiAp
from bench.fleet import build_fleet

SSID = "HomeNet"
PASSWORD = "correct-horse-battery"
WRONG = "not-the-password"
BLUFI_ADDRESS = "24:0A:C4:20:00:01"
BLUENET_ADDRESS = "B0:0B:1E:20:00:01"

FIRMWARE = {"V1": "v5.5", "V2": "v6.0"}
"""Emulator firmware profile of each BluFi security version (BluFi 1.3 / 1.4)."""

BLUFI_NAMES = {"ff01": "FF01", "ff02": "FF02"}
BLUENET_NAMES = {
    SSID_UUID: "SSID",
    CREDENTIALS_UUID: "Credentials",
    CONNECTION_STATE_UUID: "State",
    HOSTNAME_UUID: "Hostname",
    VERSION_UUID: "Version",
    AVAILABLE_NETWORKS_UUID: "Networks",
}


def blufi(
    security: str,
    *,
    seed: int = 1,
    address: str = BLUFI_ADDRESS,
    wrong_password: bool = False,
    join_time: float = 0.0,
    max_retry: int | None = None,
) -> Esp32BlufiEmulator:
    """Return a BluFi device of ``security`` ("V1" / "V2") whose access point is :data:`SSID`."""
    ap = WifiAp(
        ssid=SSID,
        rssi=-45,
        password=WRONG if wrong_password else PASSWORD,
        connect_delay=join_time,
        ip_delay=0.0,
    )
    config = BlufiDeviceConfig(networks=[ap], seed=seed)
    config.dh_private_bits = 256
    config.custom_reply = lambda _data: None  # no echo: custom data is measured one way
    if max_retry is not None:
        config.max_retry = max_retry
    return Esp32BlufiEmulator(config, profile=FIRMWARE[security], address=address)


def bluenet_timings(*, join_time: float = 0.0, fail_time: float | None = None) -> BluenetTimings:
    """Fast daemon timers; the join takes ``join_time`` (a failure ``fail_time``)."""
    return replace(
        BluenetTimings.fast(0.05),
        join_delay=0.0,
        connect_time=join_time,
        fail_time=join_time if fail_time is None else fail_time,
    )


def bluenet(
    *,
    address: str = BLUENET_ADDRESS,
    wrong_password: bool = False,
    join_time: float = 0.0,
    fail_time: float | None = None,
) -> BluenetDaemonEmulator:
    """Return a Bluenet daemon whose network is :data:`SSID`."""
    network = BluenetNetwork(SSID, WRONG if wrong_password else PASSWORD)
    config = BluenetConfig(
        networks=[network], timings=bluenet_timings(join_time=join_time, fail_time=fail_time)
    )
    return BluenetDaemonEmulator(config, address=address)


def fleet(
    kinds: list[str], *, ssid: str, password: str, wrong: Collection[int] = ()
) -> list[EmulatedPeripheral]:
    """:func:`bench.fleet.build_fleet`, with BluFi devices computing DH with 256-bit values.

    Every emulator shares the bench's one process and event loop with every other: a fleet of
    firmware-faithful V2 devices (3072-bit private values, about a second of CPU each here)
    would measure the bench's CPU, not the engine's concurrency.
    """
    emulators = build_fleet(kinds, ssid=ssid, password=password, wrong=wrong)
    for emulator in emulators:
        if isinstance(emulator, Esp32BlufiEmulator):
            config = getattr(emulator, "config", None) or emulator.model.config
            config.dh_private_bits = 256
    return emulators


def names_of(emulator: EmulatedPeripheral) -> dict[str, str]:
    """Return the characteristic names of ``emulator``'s protocol."""
    return BLUENET_NAMES if isinstance(emulator, BluenetDaemonEmulator) else BLUFI_NAMES
