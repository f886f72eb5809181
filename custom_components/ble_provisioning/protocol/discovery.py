"""What an advertisement says about a device: pure functions, no I/O.

:func:`advertised_protocol` reads the service UUID a device announces. :func:`device_filter`
decides whether an advertisement *looks like* a provisioning device: BluFi's 16-bit UUID 0xFFFF
is generic (any gadget may use it), so it alone is not enough.

What ESP-IDF's BluFi advertises (``esp_blufi_adv_start`` / ``esp_blufi_adv_start_with_name``,
Bluedroid and NimBLE hosts alike): flags, the TX power level, the device name and the 16-bit
service UUID 0xFFFF, from the chip's public address; never manufacturer data or service data.
Before ESP-IDF 5.5.2 the name was ``BLUFI_DEVICE``; since then firmware picks its own name.
So a BluFi advertisement is accepted when it carries 0xFFFF and either

* a name containing ``BLUFI`` (any case), or
* nothing that belongs to another product: no other service UUID, no service data, and no
  manufacturer data except Espressif's own company identifier (firmware that adds its own
  record under Espressif's ID is still BluFi-shaped).

A gadget that uses 0xFFFF together with another company's manufacturer data, service data or
other services is not offered. The final word is still the device's GATT table: a device that
passes this filter but lacks BluFi's characteristics is refused when connecting.

Bluenet's 128-bit service UUID is specific to the daemon: it is enough on its own.
"""

from __future__ import annotations

from bleak.backends.scanner import AdvertisementData

from .bluenet.const import SERVICE_UUID as BLUENET_SERVICE_UUID
from .blufi.const import SERVICE_UUID as BLUFI_SERVICE_UUID
from .models import Protocol

ESPRESSIF_COMPANY_ID = 0x02E5
"""Bluetooth SIG company identifier of Espressif Incorporated."""

_BLUFI_NAME_MARK = "blufi"


def advertised_protocol(advertisement: AdvertisementData) -> Protocol | None:
    """Return the protocol whose service UUID the advertisement carries, if any."""
    uuids = {uuid.lower() for uuid in advertisement.service_uuids}
    if BLUENET_SERVICE_UUID in uuids:
        return Protocol.BLUENET
    if BLUFI_SERVICE_UUID in uuids:
        return Protocol.BLUFI
    return None


def _blufi_shaped(advertisement: AdvertisementData) -> bool:
    if _BLUFI_NAME_MARK in (advertisement.local_name or "").lower():
        return True
    other_uuids = {uuid.lower() for uuid in advertisement.service_uuids} - {BLUFI_SERVICE_UUID}
    foreign_manufacturers = set(advertisement.manufacturer_data) - {ESPRESSIF_COMPANY_ID}
    return not (other_uuids or advertisement.service_data or foreign_manufacturers)


def device_filter(advertisement: AdvertisementData) -> bool:
    """Return True when the advertisement looks like a BluFi or Bluenet provisioning device."""
    match advertised_protocol(advertisement):
        case Protocol.BLUENET:
            return True
        case Protocol.BLUFI:
            return _blufi_shaped(advertisement)
        case _:
            return False
