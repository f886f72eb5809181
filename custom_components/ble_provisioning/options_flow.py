"""Options flow: the status interval (a change reloads the entry)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant import config_entries
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import NumberSelector, NumberSelectorConfig, NumberSelectorMode
import voluptuous as vol

from .const import (
    CONF_STATUS_INTERVAL,
    DEFAULT_STATUS_INTERVAL,
    MAX_STATUS_INTERVAL,
    MIN_STATUS_INTERVAL,
)
from .wifi_form import schema

if TYPE_CHECKING:
    _OptionsFlowBase = OptionsFlow
else:
    # Reloads the entry after an options change where Home Assistant can (OPTIONS_FLOW_RELOADS).
    _OptionsFlowBase = getattr(config_entries, "OptionsFlowWithReload", OptionsFlow)


class BleProvisioningOptionsFlow(_OptionsFlowBase):
    """The status interval."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and store the options (a change reloads the entry)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            interval = int(user_input[CONF_STATUS_INTERVAL])
            if MIN_STATUS_INTERVAL <= interval <= MAX_STATUS_INTERVAL:
                return self.async_create_entry(
                    data={**self.config_entry.options, CONF_STATUS_INTERVAL: interval}
                )
            errors[CONF_STATUS_INTERVAL] = "invalid_status_interval"
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema(
                    {
                        # No min/max on the selector: out-of-range values reach this step and
                        # get a translated error that states the limits.
                        vol.Required(CONF_STATUS_INTERVAL): NumberSelector(
                            NumberSelectorConfig(
                                step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                            )
                        ),
                    }
                ),
                user_input
                or {
                    CONF_STATUS_INTERVAL: self.config_entry.options.get(
                        CONF_STATUS_INTERVAL, DEFAULT_STATUS_INTERVAL
                    )
                },
            ),
            errors=errors,
            description_placeholders={
                "min": str(MIN_STATUS_INTERVAL),
                "max": str(MAX_STATUS_INTERVAL),
            },
        )
