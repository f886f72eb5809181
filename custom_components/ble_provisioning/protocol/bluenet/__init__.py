"""Client for the Bluenet daemon (Senic hub BLE Wi-Fi provisioning). No Home Assistant imports."""

from __future__ import annotations

from .client import BluenetClient
from .const import SERVICE_UUID, BluenetState
from .errors import (
    BluenetConnectionError,
    BluenetDecodeError,
    BluenetError,
    BluenetStillScanningError,
    BluenetTimeoutError,
    InvalidCredentialsError,
    NotBluenetDeviceError,
    ValueTooLongError,
)
from .models import ConnectionState, DeviceInfo, ProvisionResult, ReadValue
from .networks import SCAN_CAP, DaemonTimings, NetworkStreamGuard

__all__ = [
    "SCAN_CAP",
    "SERVICE_UUID",
    "BluenetClient",
    "BluenetConnectionError",
    "BluenetDecodeError",
    "BluenetError",
    "BluenetState",
    "BluenetStillScanningError",
    "BluenetTimeoutError",
    "ConnectionState",
    "DaemonTimings",
    "DeviceInfo",
    "InvalidCredentialsError",
    "NetworkStreamGuard",
    "NotBluenetDeviceError",
    "ProvisionResult",
    "ReadValue",
    "ValueTooLongError",
]
