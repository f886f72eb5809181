"""Errors shared by every protocol client.

Every failure a public method of this package can produce is a :class:`ProvisioningError`.
Each class carries an ``error_key``: a stable, machine-readable name of what went wrong (the Home
Assistant layer uses it as the translation key of the message it shows; the console command
prints it). Messages never contain a password, a pre-shared key or a session key.
"""

from __future__ import annotations

from typing import ClassVar


class ProvisioningError(Exception):
    """Base class of every error raised by the protocol layer."""

    error_key: ClassVar[str] = "unknown"


class ProvisioningConnectionError(ProvisioningError):
    """The BLE connection could not be made."""

    error_key = "cannot_connect"


class ConnectionLostError(ProvisioningConnectionError):
    """The BLE connection was lost during an operation."""

    error_key = "connection_lost"


class NoConnectionSlotError(ProvisioningConnectionError):
    """Every adapter or proxy that reaches the device is busy with other connections."""

    error_key = "no_connection_slot"


class DeviceNotFoundError(ProvisioningConnectionError):
    """No adapter or proxy currently sees the device."""

    error_key = "device_not_found"


class ProvisioningTimeoutError(ProvisioningError, TimeoutError):
    """The device did not answer within the allowed time."""

    error_key = "timeout"


class ConnectTimeoutError(ProvisioningTimeoutError):
    """The connection (connect, service discovery, subscribing) timed out: nothing was sent.

    Unlike a device that stops answering in the middle of an exchange, this is a transient link
    failure that a batch may retry.
    """


class ProtocolDecodeError(ProvisioningError):
    """The device sent bytes that do not follow the protocol (malformed, short, bad value)."""

    error_key = "protocol_error"


class InvalidInputError(ProvisioningError, ValueError):
    """A caller-supplied value is out of range; nothing was sent to the device.

    ``field`` names the input (``ssid``, ``password``, ``bssid``, ``softap_ssid``, ...) and
    ``reason`` says what is wrong with it (``invalid_ssid``, ``invalid_password``, ...), so a
    form can put a translated message next to the right field.
    """

    error_key = "invalid_input"

    def __init__(self, message: str, *, field: str = "", reason: str = "invalid_input") -> None:
        """Keep the offending field and the reason next to the message."""
        super().__init__(message)
        self.field = field
        self.reason = reason


class MissingServiceError(ProvisioningConnectionError):
    """The device does not expose the expected GATT service or characteristic."""

    error_key = "not_supported_device"


class OperationNotSupportedError(ProvisioningError):
    """The device's protocol has no such operation (e.g. custom data on Bluenet)."""

    error_key = "not_supported_operation"


class DeviceClosedError(ProvisioningError):
    """The device object was closed (its owner is shutting down); nothing was sent."""

    error_key = "device_closed"
