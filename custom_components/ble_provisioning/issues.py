"""Repair issues raised by the integration."""

from __future__ import annotations

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, ISSUE_NO_CONNECTABLE_ADAPTER


@callback
def async_check_adapters(hass: HomeAssistant) -> bool:
    """Return True when a connectable adapter or proxy exists; raise or clear the repair issue."""
    if bluetooth.async_scanner_count(hass, connectable=True) > 0:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_NO_CONNECTABLE_ADAPTER)
        return True
    ir.async_create_issue(
        hass,
        DOMAIN,
        ISSUE_NO_CONNECTABLE_ADAPTER,
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_NO_CONNECTABLE_ADAPTER,
        learn_more_url="https://www.home-assistant.io/integrations/bluetooth/",
    )
    return False
