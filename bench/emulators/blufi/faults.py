"""Fault hooks of the emulated ESP32 (not ESP-IDF behaviour: ways a test breaks the link).

Indices count per BLE connection, from 0: ``writes`` are GATT writes to FF01 in the order the
device handles them, ``notifications`` are the frames the device sends on FF02.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, auto

from custom_components.ble_provisioning.protocol.blufi.const import FrameControl


@dataclass(slots=True)
class BlufiFaults:
    """What to break, and where."""

    drop_notifications: set[int] = field(default_factory=set)
    corrupt_crc_notifications: set[int] = field(default_factory=set)
    disconnect_at_write: int | None = None
    error_at_write: dict[int, int] = field(default_factory=dict)
    """Answer write N with this error report instead of handling it."""
    scan_error: bool = False
    """Every scan fails (error 0x0B)."""
    ignore_writes_from: int | None = None
    """Go silent (handle nothing) from write N on."""


class WriteFault(Enum):
    """What to do with a write instead of handling it."""

    DISCONNECT = auto()
    IGNORE = auto()
    ERROR = auto()


def write_fault(faults: BlufiFaults, index: int) -> tuple[WriteFault, int] | None:
    """Return the fault for write ``index`` (with the error code for ERROR), or None."""
    if faults.disconnect_at_write == index:
        return WriteFault.DISCONNECT, 0
    if faults.ignore_writes_from is not None and index >= faults.ignore_writes_from:
        return WriteFault.IGNORE, 0
    if index in faults.error_at_write:
        return WriteFault.ERROR, faults.error_at_write[index]
    return None


def notification_fault(faults: BlufiFaults, index: int, raw: bytes) -> tuple[bytes, bool]:
    """Return the frame as sent (CRC corrupted if asked) and whether it is dropped."""
    if index in faults.corrupt_crc_notifications and raw[1] & FrameControl.CHECK:
        raw = raw[:-2] + bytes((raw[-2] ^ 0xFF, raw[-1] ^ 0x5A))
    return raw, index in faults.drop_notifications
