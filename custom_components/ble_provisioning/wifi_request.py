"""Provisioning input from the config flow or the ``provision_wifi`` action, checked once.

Both hand in the same fields (``ssid``, ``password``, ``bssid``, ``mode``, the ``softap_*``
fields and ``allow_cleartext``) and get back the :class:`ProvisionRequest`, or the errors keyed
by field with a translation key each, before anything is sent. The limits are the library's,
per protocol.

Clear text needs consent: a Bluenet device always receives the password in clear text, so
``allow_cleartext`` must be set for every Bluenet provisioning; for BluFi it allows the fallback
to an unencrypted send when the device cannot negotiate security.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.const import CONF_PASSWORD

from .const import (
    CONF_ALLOW_CLEARTEXT,
    CONF_BSSID,
    CONF_MODE,
    CONF_SOFTAP_AUTH_MODE,
    CONF_SOFTAP_CHANNEL,
    CONF_SOFTAP_MAX_CONNECTIONS,
    CONF_SOFTAP_PASSWORD,
    CONF_SOFTAP_SSID,
    CONF_SSID,
)
from .protocol import limits
from .protocol.device import ProvisioningDevice
from .protocol.errors import InvalidInputError
from .protocol.limits import check_bssid
from .protocol.models import ProvisionRequest, SoftApAuth, SoftApSettings, WifiMode

SOFTAP_CHANNELS: Final = (limits.SOFTAP_CHANNELS.start, limits.SOFTAP_CHANNELS.stop - 1)
"""Inclusive bounds of the SoftAP channel (the library's limit)."""
SOFTAP_MAX_CONNECTIONS: Final = (
    limits.SOFTAP_MAX_CONNECTIONS.start,
    limits.SOFTAP_MAX_CONNECTIONS.stop - 1,
)
"""Inclusive bounds of the SoftAP station count (the library's limit)."""

NOT_SUPPORTED: Final = "not_supported_operation"
CLEARTEXT_NOT_ALLOWED: Final = "cleartext_not_allowed"


def _check_range(
    values: Mapping[str, Any], field: str, limits: tuple[int, int], errors: dict[str, str]
) -> int | None:
    value = values.get(field)
    if value is None:
        return None
    low, high = limits
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        errors[field] = f"invalid_{field}"
        return None
    return int(value)


def _softap(
    device: ProvisioningDevice, values: Mapping[str, Any], errors: dict[str, str]
) -> SoftApSettings | None:
    """Return the SoftAP settings of a SoftAP mode (its network name is required)."""
    limits = device.limits
    ssid: str = values.get(CONF_SOFTAP_SSID) or ""
    password: str = values.get(CONF_SOFTAP_PASSWORD) or ""
    try:
        auth = SoftApAuth(values.get(CONF_SOFTAP_AUTH_MODE) or SoftApAuth.WPA2_PSK)
    except ValueError:
        errors[CONF_SOFTAP_AUTH_MODE] = "invalid_softap_auth_mode"
        auth = SoftApAuth.WPA2_PSK
    for check, value, field in (
        (limits.check_ssid, ssid, CONF_SOFTAP_SSID),
        (limits.check_password, password, CONF_SOFTAP_PASSWORD),
    ):
        try:
            check(value, field=field)
        except InvalidInputError:
            errors[field] = f"invalid_{field}"
    if CONF_SOFTAP_PASSWORD not in errors and (auth is SoftApAuth.OPEN) != (not password):
        errors[CONF_SOFTAP_PASSWORD] = "invalid_softap_password"
    channel = _check_range(values, CONF_SOFTAP_CHANNEL, SOFTAP_CHANNELS, errors)
    max_connections = _check_range(
        values, CONF_SOFTAP_MAX_CONNECTIONS, SOFTAP_MAX_CONNECTIONS, errors
    )
    return SoftApSettings(
        ssid=ssid, password=password, channel=channel, max_connections=max_connections, auth=auth
    )


def provision_request(
    device: ProvisioningDevice, values: Mapping[str, Any]
) -> tuple[ProvisionRequest | None, dict[str, str]]:
    """Check the input against ``device``'s protocol; return the request or the errors.

    The errors map a field name to the translation key of what is wrong with it.
    """
    errors: dict[str, str] = {}
    capabilities = device.capabilities
    try:
        mode = WifiMode(values.get(CONF_MODE) or WifiMode.STA)
    except ValueError:
        errors[CONF_MODE] = NOT_SUPPORTED
        mode = WifiMode.STA
    bssid: str | None = values.get(CONF_BSSID) or None
    if not capabilities.advanced_wifi and (bssid is not None or mode is not WifiMode.STA):
        errors[CONF_BSSID if bssid is not None else CONF_MODE] = NOT_SUPPORTED
    elif bssid is not None:
        try:
            check_bssid(bssid)
        except InvalidInputError:
            errors[CONF_BSSID] = "invalid_bssid"
    ssid: str = values.get(CONF_SSID) or ""
    password: str = values.get(CONF_PASSWORD) or ""
    if mode is not WifiMode.SOFTAP:
        for check, value, field in (
            (device.limits.check_ssid, ssid, CONF_SSID),
            (device.limits.check_password, password, CONF_PASSWORD),
        ):
            try:
                check(value)
            except InvalidInputError as err:
                errors[field] = err.reason
    softap = _softap(device, values, errors) if mode is not WifiMode.STA else None
    allow_cleartext = bool(values.get(CONF_ALLOW_CLEARTEXT, False))
    if not capabilities.encrypted and not allow_cleartext:
        errors[CONF_ALLOW_CLEARTEXT] = CLEARTEXT_NOT_ALLOWED
    if errors:
        return None, errors
    return (
        ProvisionRequest(
            ssid=ssid,
            password=password,
            bssid=bssid,
            mode=mode,
            softap=softap,
            allow_unencrypted=allow_cleartext,
        ),
        {},
    )
