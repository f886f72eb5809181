"""Find provisioning-capable devices: the protocol an advertisement announces, and a BLE scan.

Home Assistant discovers devices through its own bluetooth manager and only uses
:func:`protocol_from_service_uuids`; the console command scans with :func:`scan`.
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
