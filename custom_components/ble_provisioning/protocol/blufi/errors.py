"""Typed BluFi errors; every one is a :class:`~..errors.ProvisioningError`."""

from __future__ import annotations

from ..errors import (
    MissingServiceError,
    ProtocolDecodeError,
    ProvisioningError,
    ProvisioningTimeoutError,
)
from .const import ErrorCode


class BlufiError(ProvisioningError):
    """Base of every BluFi-specific error."""


class BlufiFrameError(BlufiError, ProtocolDecodeError):
    """A frame or message from the device is malformed (length, fragment, TLV, value)."""


class BlufiChecksumError(BlufiFrameError):
    """A frame from the device failed its CRC-16 check (often a wrong session key)."""


class BlufiSequenceError(BlufiFrameError):
    """A frame from the device carried an unexpected sequence number."""


class BlufiSecurityError(BlufiError):
    """Security negotiation failed, or it is required and not available."""

    error_key = "security_failed"


class BlufiTimeoutError(BlufiError, ProvisioningTimeoutError):
    """The device did not answer within the allowed time."""


class NotBlufiDeviceError(BlufiError, MissingServiceError):
    """The peer does not expose the BluFi service (0xFFFF) with FF01/FF02."""


class BlufiDeviceError(BlufiError):
    """The device sent an ERROR_INFO report (data subtype 0x12)."""

    error_key = "device_error"
    code: ErrorCode | int

    def __init__(self, code: ErrorCode | int, message: str | None = None) -> None:
        """Store the device's error code."""
        self.code = code
        name = code.name if isinstance(code, ErrorCode) else f"0x{code:02x}"
        super().__init__(message or f"device reported error {name}")


class BlufiDeviceSequenceError(BlufiDeviceError):
    """Device error 0x00: the device expected another sequence number."""


class BlufiDeviceChecksumError(BlufiDeviceError):
    """Device error 0x01: the device saw a bad CRC (often a key mismatch)."""


class BlufiDeviceSecurityError(BlufiDeviceError, BlufiSecurityError):
    """Device errors 0x02-0x08, 0x0A, 0x0D: the device's crypto or negotiation failed."""

    error_key = "security_failed"  # what the user can act on, not "the device reported an error"


class BlufiDeviceFormatError(BlufiDeviceError):
    """Device error 0x09: the device rejected a frame's length or a field's format."""


class BlufiWifiScanError(BlufiDeviceError):
    """Device error 0x0B: the device could not start a Wi-Fi scan."""

    error_key = "scan_failed"


class BlufiMessageStateError(BlufiDeviceError):
    """Device error 0x0C: a fragmented message started while another was pending."""


_DEVICE_ERROR_CLASSES: dict[int, type[BlufiDeviceError]] = {
    ErrorCode.SEQUENCE_ERROR: BlufiDeviceSequenceError,
    ErrorCode.CHECKSUM_ERROR: BlufiDeviceChecksumError,
    ErrorCode.DECRYPT_ERROR: BlufiDeviceSecurityError,
    ErrorCode.ENCRYPT_ERROR: BlufiDeviceSecurityError,
    ErrorCode.INIT_SECURITY_ERROR: BlufiDeviceSecurityError,
    ErrorCode.DH_MALLOC_ERROR: BlufiDeviceSecurityError,
    ErrorCode.DH_PARAM_ERROR: BlufiDeviceSecurityError,
    ErrorCode.READ_PARAM_ERROR: BlufiDeviceSecurityError,
    ErrorCode.MAKE_PUBLIC_ERROR: BlufiDeviceSecurityError,
    ErrorCode.DATA_FORMAT_ERROR: BlufiDeviceFormatError,
    ErrorCode.CALC_MD5_ERROR: BlufiDeviceSecurityError,
    ErrorCode.WIFI_SCAN_FAIL: BlufiWifiScanError,
    ErrorCode.MSG_STATE_ERROR: BlufiMessageStateError,
    ErrorCode.CALC_SHA_256_ERROR: BlufiDeviceSecurityError,
}


def device_error(code: int) -> BlufiDeviceError:
    """Return the typed error for a device error code (unknown codes give the base class)."""
    try:
        named: ErrorCode | int = ErrorCode(code)
    except ValueError:
        named = code
    return _DEVICE_ERROR_CLASSES.get(code, BlufiDeviceError)(named)
