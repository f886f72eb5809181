"""The protobuf messages of ESPHome's native API, as the installed ``aioesphomeapi`` ships them.

Never hand-rolled: message classes come from ``aioesphomeapi.api_pb2`` and the id of each
message from ``aioesphomeapi.core.MESSAGE_TYPE_TO_PROTO`` (the client's own table), so the
server speaks exactly the schema of the leg's client. What that schema can carry decides
the API version the emulated firmware reports (:data:`SCHEMA`).

``google.protobuf`` ships no type information, so message objects are typed ``Any`` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aioesphomeapi import api_pb2
from aioesphomeapi.core import MESSAGE_TYPE_TO_PROTO

PB: Any = api_pb2
"""``aioesphomeapi.api_pb2`` (its classes are built at import time: invisible to mypy)."""

MESSAGE_CLASSES: dict[int, Any] = dict(MESSAGE_TYPE_TO_PROTO)
"""Message type id -> protobuf class."""
_IDS: dict[Any, int] = {cls: msg_id for msg_id, cls in MESSAGE_CLASSES.items()}

# Ids whose message names changed between aioesphomeapi releases (3/4 were Connect*, now
# Authentication*): always build these by id.
CONNECT_REQUEST_ID = 3
CONNECT_RESPONSE_ID = 4


def message_id(message: Any) -> int:
    """Return the API type id of a protobuf message object."""
    return _IDS[type(message)]


def decode(msg_type: int, payload: bytes) -> Any | None:
    """Parse ``payload`` as message ``msg_type``; None for an id this schema does not know."""
    cls = MESSAGE_CLASSES.get(msg_type)
    if cls is None:
        return None
    message = cls()
    message.ParseFromString(payload)
    return message


def has_field(message_name: str, field_name: str) -> bool:
    """Return True when this schema's ``message_name`` has a field ``field_name``."""
    cls = getattr(api_pb2, message_name, None)
    if cls is None:
        return False
    return any(field.name == field_name for field in cls.DESCRIPTOR.fields)


def has_message(message_name: str) -> bool:
    """Return True when this schema defines ``message_name``."""
    return getattr(api_pb2, message_name, None) is not None


@dataclass(frozen=True, slots=True)
class Schema:
    """What the installed schema can express, and the API version that goes with it."""

    short_uuid: bool
    """``short_uuid`` on GATT services/characteristics/descriptors (API 1.12)."""
    device_capabilities: bool
    """DeviceCapabilitiesRequest/Response, ids 149/150 (API 1.15)."""
    scanner_state: bool
    """BluetoothScannerStateResponse / SetModeRequest, ids 126/127."""
    connection_params: bool
    """BluetoothSetConnectionParamsRequest/Response, ids 145/146."""
    allocated_slots: bool
    """``allocated`` in BluetoothConnectionsFreeResponse."""

    @property
    def api_version(self) -> tuple[int, int]:
        """The newest API version whose Bluetooth proxy messages this schema carries."""
        if self.device_capabilities:
            return (1, 15)
        if self.short_uuid:
            return (1, 12)
        return (1, 10)


SCHEMA = Schema(
    short_uuid=has_field("BluetoothGATTService", "short_uuid"),
    device_capabilities=has_message("DeviceCapabilitiesResponse"),
    scanner_state=has_message("BluetoothScannerStateResponse"),
    connection_params=has_message("BluetoothSetConnectionParamsResponse"),
    allocated_slots=has_field("BluetoothConnectionsFreeResponse", "allocated"),
)
