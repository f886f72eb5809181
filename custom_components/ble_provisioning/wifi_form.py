"""The config flow's Wi-Fi and SoftAP forms: schemas, suggested values, where errors show.

Home Assistant's forms have no conditional fields, so the Wi-Fi form's *Advanced settings*
section holds the BSSID, the mode (station preselected) and, for BluFi, the clear-text fallback;
the SoftAP fields get a form of their own that only follows when a SoftAP mode was chosen.

Which Wi-Fi form is shown depends on how the password will travel (its description says so,
translated): ``wifi`` (BluFi security V2), ``wifi_legacy`` (BluFi V1), ``wifi_cleartext``
(Bluenet: clear text, with a required acknowledgement) and ``wifi_unidentified`` (a BluFi
device whose version could not be read yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_PASSWORD
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import (
    CONF_ADVANCED,
    CONF_ALLOW_CLEARTEXT,
    CONF_BSSID,
    CONF_MODE,
    CONF_RESCAN,
    CONF_SOFTAP_AUTH_MODE,
    CONF_SOFTAP_CHANNEL,
    CONF_SOFTAP_MAX_CONNECTIONS,
    CONF_SOFTAP_PASSWORD,
    CONF_SOFTAP_SSID,
    CONF_SSID,
)
from .protocol.models import (
    Capabilities,
    ProvisioningSecurity,
    SoftApAuth,
    WifiMode,
    WifiNetwork,
)
from .wifi_request import SOFTAP_CHANNELS, SOFTAP_MAX_CONNECTIONS

#: Fields of the Wi-Fi form's advanced section.
ADVANCED_FIELDS = (CONF_BSSID, CONF_MODE, CONF_ALLOW_CLEARTEXT)
SOFTAP_FIELDS = (
    CONF_SOFTAP_SSID,
    CONF_SOFTAP_PASSWORD,
    CONF_SOFTAP_AUTH_MODE,
    CONF_SOFTAP_CHANNEL,
    CONF_SOFTAP_MAX_CONNECTIONS,
)
#: Values never offered back to the user.
SECRET_FIELDS = frozenset({CONF_PASSWORD, CONF_SOFTAP_PASSWORD})

_STEP_IDS: dict[ProvisioningSecurity | None, str] = {
    ProvisioningSecurity.BLUFI_V2: "wifi",
    ProvisioningSecurity.BLUFI_V1: "wifi_legacy",
    ProvisioningSecurity.CLEARTEXT: "wifi_cleartext",
    None: "wifi_unidentified",
}
WIFI_STEP_IDS = tuple(_STEP_IDS.values())


def schema(fields: dict[Any, Any]) -> Any:
    """Build a form schema.

    Home Assistant 2026 annotates flow schemas with probatio's types while 2025.4 uses
    voluptuous; the voluptuous schema works at runtime on both, so the boundary is typed Any.
    """
    return vol.Schema(fields)


def wifi_step_id(security: ProvisioningSecurity | None) -> str:
    """Return the Wi-Fi form's step id for how the password will travel."""
    return _STEP_IDS[security]


def flat_values(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Return the Wi-Fi form's input with the advanced section's fields at the top level."""
    values = {key: value for key, value in user_input.items() if key != CONF_ADVANCED}
    values.update(user_input.get(CONF_ADVANCED) or {})
    return values


def wifi_suggestions(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a redisplayed Wi-Fi form offers back: everything typed but passwords."""
    return {
        CONF_SSID: values.get(CONF_SSID),
        # The clear-text acknowledgement: a top-level field for Bluenet, advanced for BluFi.
        CONF_ALLOW_CLEARTEXT: values.get(CONF_ALLOW_CLEARTEXT, False),
        CONF_ADVANCED: {key: values[key] for key in ADVANCED_FIELDS if key in values},
    }


def wifi_errors(errors: Mapping[str, str], capabilities: Capabilities) -> dict[str, str]:
    """Put each field's error where the field is on the Wi-Fi form."""
    placed: dict[str, str] = {}
    for field, reason in errors.items():
        if field in (CONF_SSID, CONF_PASSWORD) or (
            field == CONF_ALLOW_CLEARTEXT and not capabilities.encrypted
        ):
            placed[field] = reason
        elif field in ADVANCED_FIELDS:
            placed[CONF_ADVANCED] = reason
        else:
            placed.setdefault("base", reason)
    return placed


def _password() -> TextSelector:
    return TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off"))


def wifi_schema(
    capabilities: Capabilities, networks: list[WifiNetwork] | None, suggested: Mapping[str, Any]
) -> dict[Any, Any]:
    """Return the Wi-Fi form: the device's networks (or a typed one), password, *Scan again*.

    The SSID is optional in the schema (validated by the step) so that *Scan again* can be
    submitted without choosing a network first.
    """
    options = [
        SelectOptionDict(
            value=network.ssid,
            label=network.ssid if network.rssi is None else f"{network.ssid} ({network.rssi} dBm)",
        )
        for network in networks or []
    ]
    fields: dict[Any, Any] = {
        vol.Optional(CONF_SSID): SelectSelector(
            SelectSelectorConfig(
                options=options, custom_value=True, mode=SelectSelectorMode.DROPDOWN, sort=False
            )
        ),
        vol.Optional(CONF_PASSWORD): _password(),
        vol.Optional(CONF_RESCAN, default=False): BooleanSelector(),
    }
    if not capabilities.encrypted:
        fields[vol.Optional(CONF_ALLOW_CLEARTEXT, default=False)] = BooleanSelector()
    if capabilities.advanced_wifi:
        advanced = suggested.get(CONF_ADVANCED) or {}
        changed = bool(advanced.get(CONF_BSSID)) or advanced.get(CONF_MODE, WifiMode.STA) != (
            WifiMode.STA
        )
        # No default on the section itself: the frontend then fills the section's own defaults
        # in (station mode preselected) instead of an empty mapping.
        fields[vol.Optional(CONF_ADVANCED)] = section(
            schema(
                {
                    vol.Optional(CONF_BSSID): TextSelector(),
                    vol.Optional(CONF_MODE, default=WifiMode.STA.value): SelectSelector(
                        SelectSelectorConfig(
                            options=[mode.value for mode in WifiMode],
                            translation_key="mode",
                            mode=SelectSelectorMode.LIST,
                        )
                    ),
                    vol.Optional(CONF_ALLOW_CLEARTEXT, default=False): BooleanSelector(),
                }
            ),
            {"collapsed": not changed},
        )
    return fields


def _number(limits: tuple[int, int]) -> Any:
    low, high = limits
    return vol.All(
        NumberSelector(NumberSelectorConfig(min=low, max=high, mode=NumberSelectorMode.BOX)),
        vol.Coerce(int),
    )


def softap_schema() -> dict[Any, Any]:
    """Return the SoftAP form (SoftAP and station + SoftAP modes only)."""
    return {
        vol.Required(CONF_SOFTAP_SSID): TextSelector(),
        vol.Optional(CONF_SOFTAP_PASSWORD): _password(),
        vol.Optional(CONF_SOFTAP_AUTH_MODE, default=SoftApAuth.WPA2_PSK.value): SelectSelector(
            SelectSelectorConfig(
                options=[auth.value for auth in SoftApAuth], translation_key="softap_auth_mode"
            )
        ),
        vol.Optional(CONF_SOFTAP_CHANNEL): _number(SOFTAP_CHANNELS),
        vol.Optional(CONF_SOFTAP_MAX_CONNECTIONS): _number(SOFTAP_MAX_CONNECTIONS),
    }


def softap_suggestions(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a redisplayed SoftAP form offers back (not the SoftAP password)."""
    return {key: values[key] for key in SOFTAP_FIELDS if key in values and key not in SECRET_FIELDS}
