"""Emulator of an ESP32 running ESP-IDF's BluFi stack and the stock BluFi example application.

Written device-side from the BluFi spec and ESP-IDF's own code (``blufi_prf.c``,
``blufi_protocol.c``, the example's ``blufi_example_main.c`` and ``blufi_security.c``); it
shares only UUIDs and constants with the client (``protocol/blufi/const.py``). One module per
job:

* :mod:`.wire` - frames, CRC-16, sequence numbers, fragmentation and reassembly;
* :mod:`.dh`, :mod:`.ciphers`, :mod:`.security` - the device's DH (Mbed TLS's choice of private
  values from ``esp_fill_random``), key derivation, AES-CFB (V1) and AES-CTR streams (V2), the
  negotiation handler and the V2 key pre-computation of chips without a big-number unit;
* :mod:`.wifi`, :mod:`.example`, :mod:`.reports` - access points, the ``esp_wifi`` driver, the
  example's globals and event handlers, the Wi-Fi report and list encoders;
* :mod:`.faults` - fault hooks; :mod:`.config` - profiles and device configuration;
* :mod:`.stack` - the send path and link state; :mod:`.model` - the device without a radio
  (receive path, dispatch, lifecycle); :mod:`.peripheral` - GATT glue and advertising.

Profiles: ``v5.5`` (BluFi 1.3, security V1), ``v5.5.2+`` (the same, advertised as
``ESP32-XXXX`` instead of ``BLUFI_DEVICE``), ``v6.0`` (BluFi 1.4, security V2).
"""

from __future__ import annotations

from .config import (
    DEVICE_NAME,
    PROFILE_V5_5,
    PROFILE_V5_5_2,
    PROFILE_V6_0,
    PROFILES,
    BlufiDeviceConfig,
    BlufiProfile,
)
from .faults import BlufiFaults
from .model import BlufiDeviceModel
from .peripheral import Esp32BlufiEmulator
from .wifi import WifiAp
from .wire import MAX_DATA_LEN, crc16_be


def crc_of(data: bytes) -> int:
    """Return the device's CRC-16 of ``data`` (``esp_crc16_be(0, data)``)."""
    return crc16_be(0, data)


__all__ = [
    "DEVICE_NAME",
    "MAX_DATA_LEN",
    "PROFILES",
    "PROFILE_V5_5",
    "PROFILE_V5_5_2",
    "PROFILE_V6_0",
    "BlufiDeviceConfig",
    "BlufiDeviceModel",
    "BlufiFaults",
    "BlufiProfile",
    "Esp32BlufiEmulator",
    "WifiAp",
    "crc_of",
]
