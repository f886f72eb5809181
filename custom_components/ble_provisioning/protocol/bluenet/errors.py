"""Errors raised by the Bluenet client.

All of them derive from :class:`BluenetError` and from the matching shared error of
:mod:`..errors`, so callers may catch either family. Messages never contain a password.
"""

from __future__ import annotations

from ..errors import (
    InvalidInputError,
    MissingServiceError,
    ProtocolDecodeError,
    ProvisioningConnectionError,
    ProvisioningError,
    ProvisioningTimeoutError,
)


class BluenetError(ProvisioningError):
    """Base class of every Bluenet error."""


class NotBluenetDeviceError(BluenetError, MissingServiceError):
    """The device does not expose the Bluenet service or one of its characteristics."""


class BluenetConnectionError(BluenetError, ProvisioningConnectionError):
    """The connection to the daemon could not be made or was lost."""


class BluenetTimeoutError(BluenetError, ProvisioningTimeoutError):
    """The daemon did not answer within the allowed time."""


class BluenetDecodeError(BluenetError, ProtocolDecodeError):
    """The daemon sent bytes that do not follow the profile (empty state, bad UTF-8, ...)."""


class BluenetStillScanningError(BluenetError):
    """The daemon notified no network: it is still scanning, or no network is in range.

    The daemon scans for access points for the first time 20 s after it starts and notifies
    nothing until then; with no network in range it is just as silent, and nothing in the
    profile tells the two apart. The link stays up: scanning again later may succeed.
    """

    error_key = "still_scanning"


class InvalidCredentialsError(BluenetError, InvalidInputError):
    """The SSID or the password is invalid; nothing was written to the daemon."""


class ValueTooLongError(BluenetError, InvalidInputError):
    """A value does not fit in one ATT write (as the link offers it); nothing was written.

    The daemon ignores the offset of long (prepared) writes, so a value that needs more than one
    ATT packet would be stored corrupted. Negotiate a larger MTU, or use a shorter value.
    """


def as_bluenet_error(err: BaseException) -> BaseException:
    """Map a shared or transport error onto the Bluenet family (keeps the shared base).

    A shared error without a Bluenet counterpart (e.g. no connection slot) is kept as it is;
    a bare ``TimeoutError`` becomes :class:`BluenetTimeoutError`, anything else (a bleak or
    OS error) :class:`BluenetConnectionError`.
    """
    if isinstance(err, BluenetError):
        return err
    message = str(err) or type(err).__name__
    if isinstance(err, MissingServiceError):
        return NotBluenetDeviceError(message)
    if isinstance(err, ProvisioningTimeoutError):
        return BluenetTimeoutError(message)
    if isinstance(err, ProvisioningConnectionError):
        return BluenetConnectionError(message)
    if isinstance(err, ProtocolDecodeError):
        return BluenetDecodeError(message)
    if isinstance(err, ProvisioningError):
        return err
    if isinstance(err, TimeoutError):
        return BluenetTimeoutError(message)
    return BluenetConnectionError(message)
