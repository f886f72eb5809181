"""Client for the Bluenet daemon (Senic hub BLE Wi-Fi provisioning). No Home Assistant imports."""

from __future__ import annotations

from .client import BluenetClient
from .const import SERVICE_UUID, BluenetState
from .errors import (
    BluenetConnectionError,
    BluenetDecodeError,
    BluenetError,
    BluenetTimeoutError,
    InvalidCredentialsError,
    NotBluenetDeviceError,
    ValueTooLongError,
)
from .models import ConnectionState, DeviceInfo, ProvisionResult, ReadValue

__all__ = [
    "SERVICE_UUID",
    "BluenetClient",
    "BluenetConnectionError",
    "BluenetDecodeError",
    "BluenetError",
    "BluenetState",
    "BluenetTimeoutError",
    "ConnectionState",
    "DeviceInfo",
    "InvalidCredentialsError",
    "NotBluenetDeviceError",
    "ProvisionResult",
    "ReadValue",
    "ValueTooLongError",
]
