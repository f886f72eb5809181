"""GATT discovery on the proxy's radio and its encoding as BluetoothGATTGetServicesResponse (71).

An ESP32 proxy discovers the peripheral's services, characteristics and descriptors with its
own GATT client, then lists them to the API client one service per message (71) and ends with
GetServicesDone (72). Each attribute carries its ATT handle and its UUID either as two uint64
words (high word first: the 128-bit UUID as an integer, split) or, when both sides speak
API >= 1.12, as ``short_uuid`` for UUIDs the peripheral declared in 16- or 32-bit form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
import uuid as uuid_module

from .messages import PB, SCHEMA

SHORT_UUID_API = (1, 12)
_LOW_64 = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class GattDescriptor:
    """A discovered descriptor (ATT handle, UUID)."""

    handle: int
    uuid: Any
    """``bumble.core.UUID`` (2, 4 or 16 bytes as declared by the peripheral)."""


@dataclass(frozen=True, slots=True)
class GattCharacteristic:
    """A discovered characteristic (value handle, UUID, property bits, descriptors)."""

    handle: int
    uuid: Any
    properties: int
    descriptors: tuple[GattDescriptor, ...]


@dataclass(frozen=True, slots=True)
class GattService:
    """A discovered primary service."""

    handle: int
    uuid: Any
    characteristics: tuple[GattCharacteristic, ...]


async def discover(gatt_client: Any) -> list[GattService]:
    """Discover every service, characteristic and descriptor with a Bumble ``GattClient``."""
    services: list[GattService] = []
    for service in await gatt_client.discover_services():
        characteristics = []
        for characteristic in await gatt_client.discover_characteristics((), service):
            descriptors = await gatt_client.discover_descriptors(characteristic)
            characteristics.append(
                GattCharacteristic(
                    handle=int(characteristic.handle),
                    uuid=characteristic.uuid,
                    properties=int(characteristic.properties),
                    descriptors=tuple(
                        GattDescriptor(int(descriptor.handle), descriptor.type)
                        for descriptor in descriptors
                    ),
                )
            )
        services.append(GattService(int(service.handle), service.uuid, tuple(characteristics)))
    return services


def uuid_words(value: Any) -> tuple[int, int]:
    """Return a Bumble UUID as (high, low) 64-bit words of its 128-bit form."""
    full = uuid_module.UUID(bytes=bytes(value.to_bytes(force_128=True))[::-1]).int
    return full >> 64, full & _LOW_64


def _short_form(value: Any) -> int | None:
    raw = bytes(value.uuid_bytes)
    if len(raw) in (2, 4):
        return int.from_bytes(raw, "little")
    return None


def _set_uuid(message: Any, value: Any, short_uuids: bool) -> None:
    short = _short_form(value) if short_uuids else None
    if short is not None:
        message.short_uuid = short
    else:
        message.uuid.extend(uuid_words(value))


def uses_short_uuids(client_api_version: tuple[int, int]) -> bool:
    """Return True when the schema has ``short_uuid`` and the client announced API >= 1.12."""
    return SCHEMA.short_uuid and client_api_version >= SHORT_UUID_API


def service_response(address: int, service: GattService, short_uuids: bool) -> Any:
    """Build one BluetoothGATTGetServicesResponse (71) carrying ``service``."""
    service_msg = PB.BluetoothGATTService(handle=service.handle)
    _set_uuid(service_msg, service.uuid, short_uuids)
    for characteristic in service.characteristics:
        char_msg = service_msg.characteristics.add(
            handle=characteristic.handle, properties=characteristic.properties
        )
        _set_uuid(char_msg, characteristic.uuid, short_uuids)
        for descriptor in characteristic.descriptors:
            desc_msg = char_msg.descriptors.add(handle=descriptor.handle)
            _set_uuid(desc_msg, descriptor.uuid, short_uuids)
    return PB.BluetoothGATTGetServicesResponse(address=address, services=[service_msg])
