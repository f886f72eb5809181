"""Find provisioning-capable devices: what an advertisement says, and a BLE scan.

:func:`protocol_from_service_uuids` reads the service UUID a device announces.
:func:`device_filter` decides whether an advertisement *looks like* a provisioning device:
BluFi's 16-bit UUID 0xFFFF is generic (any gadget may use it), so it alone is not enough.
Home Assistant discovers devices through its own bluetooth manager and uses these two; the
console command scans with :func:`scan`.

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
passes this filter but lacks BluFi's characteristics is refused when connecting. Bluenet's
128-bit service UUID is specific to the daemon: it is enough on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import contextlib
from dataclasses import dataclass
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from .bluenet.const import SERVICE_UUID as BLUENET_SERVICE_UUID
from .blufi.const import SERVICE_UUID as BLUFI_SERVICE_UUID
from .device import device_class
from .errors import ProvisioningConnectionError
from .models import Protocol

ESPRESSIF_COMPANY_ID = 0x02E5
"""Bluetooth SIG company identifier of Espressif Incorporated."""

_BLUFI_NAME_MARK = "blufi"

SERVICE_UUIDS: dict[Protocol, str] = {
    Protocol.BLUFI: BLUFI_SERVICE_UUID,
    Protocol.BLUENET: BLUENET_SERVICE_UUID,
}


def protocol_from_service_uuids(service_uuids: Iterable[str]) -> Protocol | None:
    """Return the protocol an advertisement announces, if any (Bluenet first: it is specific)."""
    uuids = {uuid.lower() for uuid in service_uuids}
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
    match protocol_from_service_uuids(advertisement.service_uuids):
        case Protocol.BLUENET:
            return True
        case Protocol.BLUFI:
            return _blufi_shaped(advertisement)
        case _:
            return False


@dataclass(frozen=True, slots=True)
class FoundDevice:
    """A device seen advertising a provisioning service."""

    address: str
    name: str
    """The advertised name, or the protocol's default name with the end of the address."""
    rssi: int
    protocol: Protocol
    ble_device: BLEDevice


def display_name(protocol: Protocol, address: str, advertised: str | None) -> str:
    """Return the advertised name, else e.g. ``Bluenet device 00:01`` (Bluenet advertises none)."""
    if advertised:
        return advertised
    return f"{device_class(protocol).default_name} {address[-5:]}"


async def scan(
    timeout: float,
    *,
    protocols: Iterable[Protocol] = tuple(Protocol),
    backend: type[BaseBleakScanner] | None = None,
    done: Callable[[dict[str, FoundDevice]], bool] | None = None,
) -> list[FoundDevice]:
    """Scan up to ``timeout`` seconds; strongest signal first.

    ``done`` is called with what was found so far after each new device: returning True ends the
    scan early (e.g. once every requested address was seen).
    """
    wanted = {SERVICE_UUIDS[protocol] for protocol in protocols}
    found: dict[str, FoundDevice] = {}
    finished = asyncio.Event()

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        protocol = protocol_from_service_uuids(adv.service_uuids)
        if protocol is None or SERVICE_UUIDS[protocol] not in wanted:
            return
        address = device.address.upper()
        new = address not in found
        found[address] = FoundDevice(
            address=address,
            name=display_name(protocol, address, adv.local_name or device.name),
            rssi=adv.rssi,
            protocol=protocol,
            ble_device=device,
        )
        if new and done is not None and done(found):
            finished.set()

    kwargs: dict[str, Any] = {}
    if backend is not None:
        kwargs["backend"] = backend
    try:
        async with BleakScanner(on_advertisement, sorted(wanted), **kwargs):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await finished.wait()
    except (BleakError, OSError) as err:
        raise ProvisioningConnectionError(f"cannot scan: {err}") from err
    return sorted(found.values(), key=lambda item: (-item.rssi, item.address))
