"""Validate what a device reports about itself before Home Assistant stores or shows it.

A device chooses its host name (Bluenet reports one, e.g. ``http://192.168.1.20:6543/-/``) and
the SSID it says it is on. Home Assistant's device registry raises ``ValueError`` for a
configuration URL that is not http(s) with a host, and a device may report anything:
``javascript://x``, ``fe80::1``, 300 bytes. Everything a device reports goes through here first:
an unusable value becomes ``None`` (and is logged at debug level), it never raises.
"""

from __future__ import annotations

import ipaddress
import logging
import re

from yarl import URL

_LOGGER = logging.getLogger(__name__)

MAX_REPORTED_LENGTH = 255
"""Longest host name or URL accepted from a device (a DNS name has at most 253 characters)."""

MAX_SSID_BYTES = 32
"""802.11: an SSID has 1 to 32 bytes."""

_URL_SCHEMES = frozenset({"http", "https"})
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _valid_hostname(host: str) -> bool:
    """RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens."""
    name = host.removesuffix(".")
    if not name or len(name) > 253:
        return False
    return all(_LABEL.fullmatch(label) for label in name.split("."))


def _url_host(host: str) -> str | None:
    """Return ``host`` as it goes into a URL (IPv6 bracketed), or None when it is not one."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host if _valid_hostname(host) else None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return None  # a link-local zone is meaningless to a browser elsewhere
        return f"[{address.compressed}]"
    return str(address)


def _clean(reported: str | None) -> str | None:
    if not reported:
        return None
    value = reported.strip()
    if not value or len(value) > MAX_REPORTED_LENGTH or not value.isprintable():
        return None
    return value


def configuration_url(reported: str | None) -> str | None:
    """Turn a reported host name or URL into a configuration URL Home Assistant accepts.

    Only http(s) URLs whose host is a valid host name or IP address (IPv6 bracketed), without
    credentials, and bare host names or IP addresses (served over http) qualify.
    """
    value = _clean(reported)
    if value is None:
        return None
    if "://" not in value:
        host = _url_host(value)
        return None if host is None else f"http://{host}"
    try:
        url = URL(value)  # raises ValueError for a bad port or an unbracketed IPv6 address
    except (ValueError, TypeError):
        return None
    host = url.raw_host
    if (
        url.scheme not in _URL_SCHEMES
        or not host
        or url.user is not None
        or url.password is not None
        or (_url_host(host) is None)
    ):
        return None
    return str(url)


def accepted_hostname(reported: str | None) -> str | None:
    """Return the reported host name or URL when it is usable (see :func:`configuration_url`)."""
    value = _clean(reported)
    if value is None or configuration_url(value) is None:
        if reported:
            _LOGGER.debug("Ignoring a host name the device reported: %r", reported[:64])
        return None
    return value


def accepted_ssid(reported: str | None) -> str | None:
    """Return the SSID when it is 1 to 32 bytes of UTF-8, else None."""
    if not reported:
        return None
    try:
        size = len(reported.encode("utf-8"))
    except UnicodeEncodeError:
        return None
    return reported if size <= MAX_SSID_BYTES else None


MAX_VERSION_LENGTH = 32
"""Longest protocol version text kept (BluFi's is "major.minor"; Bluenet's is read as text)."""


def accepted_version(reported: str | None) -> str | None:
    """Return the protocol version when it is short printable text, else None."""
    value = _clean(reported)
    return value if value is not None and len(value) <= MAX_VERSION_LENGTH else None
