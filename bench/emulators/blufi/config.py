"""Firmware profiles and the configuration of one emulated ESP32."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from custom_components.ble_provisioning.protocol.blufi.const import BlufiSecurity

from .faults import BlufiFaults
from .wifi import WifiAp

DEVICE_NAME = "BLUFI_DEVICE"
"""``BLUFI_DEVICE_NAME``, the example's advertised name."""
EXAMPLE_MAX_RETRY = 2
"""``CONFIG_EXAMPLE_WIFI_CONNECTION_MAXIMUM_RETRY`` default."""


@dataclass(frozen=True, slots=True)
class BlufiProfile:
    """Firmware profile: ESP-IDF release, BluFi version, security generation, name."""

    name: str
    version: tuple[int, int]
    security: BlufiSecurity
    strict_length: bool = True
    """``len(write) == 4 + data_len (+2)`` enforced (ESP-IDF >= 5.0.9 / 5.1.6 / ... / 5.5)."""
    adv_name: str | None = DEVICE_NAME
    """Advertised name; None: ``ESP32-XXXX`` from the address, as firmware that calls
    ``esp_blufi_adv_start_with_name`` (ESP-IDF >= 5.5.2 no longer names the device itself)."""


PROFILE_V5_5 = BlufiProfile("v5.5", (1, 3), BlufiSecurity.V1)
PROFILE_V5_5_2 = BlufiProfile("v5.5.2+", (1, 3), BlufiSecurity.V1, adv_name=None)
PROFILE_V6_0 = BlufiProfile("v6.0", (1, 4), BlufiSecurity.V2)
PROFILES = {p.name: p for p in (PROFILE_V5_5, PROFILE_V5_5_2, PROFILE_V6_0)}


def advertised_name(profile: BlufiProfile, address: str) -> str:
    """Return the name a device with this profile and address advertises by default."""
    if profile.adv_name is not None:
        return profile.adv_name
    tail = address.replace(":", "").upper()[-4:]
    return f"ESP32-{tail}"


@dataclass(slots=True)
class BlufiDeviceConfig:
    """Everything configurable about the emulated device."""

    profile: BlufiProfile = PROFILE_V6_0
    name: str | None = None
    """Advertised name (None: the profile's)."""
    networks: list[WifiAp] = field(default_factory=list)
    scan_delay: float = 0.01
    custom_reply: Callable[[bytes], bytes | None] | None = None
    """Application reply to custom data (None: echo it; the function may return None)."""
    faults: BlufiFaults = field(default_factory=BlufiFaults)
    seed: int | str | None = None
    """Seed of the device's random numbers (``esp_fill_random``); None: truly random."""
    dh_private_bits: int | None = None
    """Short DH private values of this many bits (speed); None: as the firmware."""
    dh_private_key: int | None = None
    """A fixed DH private value (tests)."""
    max_retry: int = EXAMPLE_MAX_RETRY
    dh_precompute: float = 0.0
    """Seconds a V2 key pair takes in software (chips without a big-number unit, e.g. the
    ESP32-C2: about 12 s); 0: a chip with one (no pre-computation). V2 profiles only: the
    pre-computation exists in the v6.0 example; v5.5 firmware computes V1 keys inline."""
    leave_delay: float = 0.0
    """Seconds from ``esp_wifi_disconnect`` to its STA_DISCONNECTED event; until then the
    example still reports the old network as connected."""
