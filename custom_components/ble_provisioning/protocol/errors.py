"""Errors shared by every protocol client.

Every failure a public method of this package can produce is a :class:`ProvisioningError`.
Messages never contain a password, a pre-shared key or a session key.
"""

from __future__ import annotations


class ProvisioningError(Exception):
    """Base class of every error raised by the protocol layer."""


class ProvisioningConnectionError(ProvisioningError):
    """The BLE connection could not be made, or it was lost."""


class ProvisioningTimeoutError(ProvisioningError, TimeoutError):
    """The device did not answer within the allowed time."""


class ProtocolDecodeError(ProvisioningError):
    """The device sent bytes that do not follow the protocol (malformed, short, bad value)."""


class InvalidInputError(ProvisioningError, ValueError):
    """A caller-supplied value is out of range; nothing was sent to the device."""


class MissingServiceError(ProvisioningConnectionError):
    """The device does not expose the expected GATT service or characteristic."""
