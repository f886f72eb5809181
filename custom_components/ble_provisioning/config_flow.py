"""Config flow: discover, identify, pick a network, provision; reconfigure; options."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_ADDRESS, CONF_PASSWORD
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.data_entry_flow import EVENT_DATA_ENTRY_FLOW_PROGRESSED, AbortFlow, section
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

from . import const
from .const import (
    CONF_ADVANCED,
    CONF_ALLOW_UNENCRYPTED,
    CONF_BSSID,
    CONF_HOSTNAME,
    CONF_LAST_SSID,
    CONF_MODE,
    CONF_PROTOCOL,
    CONF_PROTOCOL_VERSION,
    CONF_RESCAN,
    CONF_SECURITY_VERSION,
    CONF_SOFTAP_AUTH_MODE,
    CONF_SOFTAP_CHANNEL,
    CONF_SOFTAP_MAX_CONNECTIONS,
    CONF_SOFTAP_PASSWORD,
    CONF_SOFTAP_SSID,
    CONF_SSID,
    CONF_STATUS_INTERVAL,
    DEFAULT_STATUS_INTERVAL,
    DOMAIN,
    MAX_STATUS_INTERVAL,
    MIN_STATUS_INTERVAL,
)
from .device import flow_errors, ha_device, protocol_from_service_uuids
from .protocol.device import ProvisioningDevice, device_class
from .protocol.device_blufi import security_for_version
from .protocol.errors import InvalidInputError, MissingServiceError, ProvisioningError
from .protocol.limits import check_bssid
from .protocol.models import (
    DeviceIdentity,
    Protocol,
    ProvisioningSecurity,
    ProvisionOutcome,
    ProvisionReport,
    ProvisionRequest,
    SoftApAuth,
    SoftApSettings,
    WifiMode,
    WifiNetwork,
)

_LOGGER = logging.getLogger(__name__)


def _outcome_error(outcome: ProvisionOutcome) -> str:
    """Form error of an unsuccessful outcome ("timeout" alone means the device was silent)."""
    return "provision_timeout" if outcome is ProvisionOutcome.TIMEOUT else outcome.value


def _schema(fields: dict[Any, Any]) -> Any:
    """Build a form schema.

    Home Assistant 2026 annotates flow schemas with probatio's types while 2025.4 uses
    voluptuous; the voluptuous schema works at runtime on both, so the boundary is typed Any.
    """
    return vol.Schema(fields)


def _device_name(info: bluetooth.BluetoothServiceInfoBleak, protocol: Protocol) -> str:
    """Return the advertised name, or a readable fallback (Bluenet advertises no name)."""
    name = info.advertisement.local_name or info.name
    if name and name != info.address:
        return name
    suffix = info.address.replace(":", "")[-4:].upper()
    return f"{device_class(protocol).default_name} {suffix}"


class BleProvisioningConfigFlow(ConfigFlow, domain=DOMAIN):
    """Discover a device, identify it, put it on a Wi-Fi network and create its entry."""

    VERSION = 1

    def __init__(self) -> None:
        """Initialize the flow."""
        self._address = ""
        self._protocol = Protocol.BLUFI
        self._name = ""
        self._discovered: dict[str, tuple[Protocol, str]] = {}
        self._device: ProvisioningDevice | None = None
        self._identity: DeviceIdentity | None = None
        self._networks: list[WifiNetwork] | None = None
        self._request: ProvisionRequest | None = None
        self._suggested: dict[str, Any] = {}
        self._provision_task: asyncio.Task[ProvisionReport | str] | None = None
        self._unsub_advertisements: CALLBACK_TYPE | None = None
        self._resume_coordinator: CALLBACK_TYPE | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> BleProvisioningOptionsFlow:
        """Return the options flow."""
        return BleProvisioningOptionsFlow()

    # -------------------------------------------------------------- discovery

    async def async_step_bluetooth(
        self, discovery_info: bluetooth.BluetoothServiceInfoBleak
    ) -> ConfigFlowResult:
        """Handle a device found by Home Assistant's bluetooth manager."""
        if not discovery_info.connectable:
            return self.async_abort(reason="not_connectable")
        protocol = protocol_from_service_uuids(discovery_info.service_uuids)
        if protocol is None:
            return self.async_abort(reason="not_supported_device")
        await self.async_set_unique_id(discovery_info.address)
        self._abort_if_unique_id_configured()
        self._select(discovery_info.address, protocol, _device_name(discovery_info, protocol))
        self._unsub_advertisements = bluetooth.async_register_callback(
            self.hass,
            self._async_advertisement,
            bluetooth.BluetoothCallbackMatcher(address=discovery_info.address, connectable=True),
            bluetooth.BluetoothScanningMode.PASSIVE,
        )
        return await self.async_step_bluetooth_confirm()

    @callback
    def _async_advertisement(
        self, service_info: bluetooth.BluetoothServiceInfoBleak, change: bluetooth.BluetoothChange
    ) -> None:
        """Keep the discovery card's title in step with the advertised name."""
        name = _device_name(service_info, self._protocol)
        if name == self._name:
            return
        self._name = name
        self.context["title_placeholders"] = {"name": name}
        # Tell the frontend to reload the card (async_update_title_placeholders does exactly
        # this in newer Home Assistant; 2025.4 does not have it).
        self.hass.bus.async_fire(
            EVENT_DATA_ENTRY_FLOW_PROGRESSED,
            {"handler": self.handler, "flow_id": self.flow_id, "refresh": True},
        )

    def _select(self, address: str, protocol: Protocol, name: str) -> None:
        self._address = address
        self._protocol = protocol
        self._name = name
        self.context["title_placeholders"] = {"name": name}

    @callback
    def async_remove(self) -> None:
        """Release everything the flow holds when it ends or is aborted."""
        if self._unsub_advertisements is not None:
            self._unsub_advertisements()
            self._unsub_advertisements = None
        if self._provision_task is not None and not self._provision_task.done():
            self._provision_task.cancel()
        if self._device is not None:
            self.hass.async_create_task(self._device.close(), eager_start=True)
        if self._resume_coordinator is not None:
            self._resume_coordinator()
            self._resume_coordinator = None

    async def async_step_bluetooth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm the discovered device, then identify it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_identify()
            if not errors:
                return await self.async_step_wifi()
        self._set_confirm_only()
        return self.async_show_form(
            step_id="bluetooth_confirm",
            description_placeholders={"name": self._name},
            errors=errors,
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """List discovered devices that are not configured yet."""
        errors: dict[str, str] = {}
        if user_input is not None:
            address: str = user_input[CONF_ADDRESS]
            protocol, name = self._discovered[address]
            await self.async_set_unique_id(address, raise_on_progress=False)
            self._abort_if_unique_id_configured()
            self._select(address, protocol, name)
            errors = await self._async_identify()
            if not errors:
                return await self.async_step_wifi()

        current = self._async_current_ids(include_ignore=False)
        for info in bluetooth.async_discovered_service_info(self.hass, connectable=True):
            if info.address in current or info.address in self._discovered:
                continue
            if (found := protocol_from_service_uuids(info.service_uuids)) is not None:
                self._discovered[info.address] = (found, _device_name(info, found))
        if not self._discovered:
            return self.async_abort(reason="no_devices_found")
        return self.async_show_form(
            step_id="user",
            data_schema=_schema(
                {
                    vol.Required(CONF_ADDRESS): vol.In(
                        {
                            address: f"{name} ({address})"
                            for address, (_, name) in self._discovered.items()
                        }
                    )
                }
            ),
            errors=errors,
        )

    async def _async_identify(self) -> dict[str, str]:
        """Connect and identify; abort when the device does not speak the protocol.

        The flow keeps this device object (and its link, for ``FLOW_IDLE_TIMEOUT`` seconds
        after each step) until it ends: identify, scan and provision share one connection.
        """
        if self._device is None:
            self._device = ha_device(
                self.hass, self._address, self._protocol, idle_timeout=const.FLOW_IDLE_TIMEOUT
            )
        try:
            self._identity = await self._device.identify()
        except MissingServiceError as err:
            _LOGGER.debug("%s does not speak %s: %s", self._address, self._protocol, err)
            raise AbortFlow("not_supported_device") from err
        except ProvisioningError as err:
            _LOGGER.debug("Identifying %s failed: %s", self._address, err)
            return flow_errors(err)
        if self._unsub_advertisements is not None:
            self._unsub_advertisements()
            self._unsub_advertisements = None
        return {}

    # -------------------------------------------------------------- reconfigure

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Re-provision a configured device onto another network."""
        entry = self._get_reconfigure_entry()
        self._address = entry.data[CONF_ADDRESS]
        self._protocol = Protocol(entry.data[CONF_PROTOCOL])
        self._name = entry.title
        self._suggested = {
            CONF_SSID: entry.data.get(CONF_LAST_SSID),
            CONF_ADVANCED: {
                CONF_ALLOW_UNENCRYPTED: entry.options.get(CONF_ALLOW_UNENCRYPTED, False)
            },
        }
        if entry.state is ConfigEntryState.LOADED:
            self._resume_coordinator = await entry.runtime_data.async_suspend()
        version: str | None = entry.data.get(CONF_PROTOCOL_VERSION)
        self._device = ha_device(
            self.hass,
            self._address,
            self._protocol,
            idle_timeout=const.FLOW_IDLE_TIMEOUT,
            version=version,
        )
        if version is not None:
            self._identity = DeviceIdentity(
                protocol=self._protocol,
                version=version,
                security=security_for_version(version)
                if self._protocol is Protocol.BLUFI
                else ProvisioningSecurity.CLEARTEXT,
                hostname=entry.data.get(CONF_HOSTNAME),
            )
        return await self.async_step_wifi()

    # -------------------------------------------------------------- Wi-Fi

    async def async_step_wifi(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick a network from the device's own scan (or type one) and its password."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input.get(CONF_RESCAN):
                self._networks = None
                self._remember(user_input)
            else:
                errors = self._parse_wifi(user_input)
                if not errors:
                    return await self.async_step_provision()
        if self._networks is None:
            errors = await self._async_scan() | errors
        return self._show_wifi_form(errors)

    async_step_wifi_cleartext = async_step_wifi

    async def _async_scan(self) -> dict[str, str]:
        assert self._device is not None
        try:
            self._networks = await self._device.scan(const.SCAN_TIMEOUT)
        except ProvisioningError as err:
            _LOGGER.debug("Scanning with %s failed: %s", self._address, err)
            self._networks = []
            return flow_errors(err)
        return {}

    def _show_wifi_form(self, errors: dict[str, str]) -> ConfigFlowResult:
        assert self._device is not None
        capabilities = self._device.capabilities
        options = [
            SelectOptionDict(
                value=network.ssid,
                label=network.ssid
                if network.rssi is None
                else f"{network.ssid} ({network.rssi} dBm)",
            )
            for network in self._networks or []
        ]
        schema: dict[Any, Any] = {
            vol.Required(CONF_SSID): SelectSelector(
                SelectSelectorConfig(
                    options=options,
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                    sort=False,
                )
            ),
            vol.Optional(CONF_PASSWORD): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
            ),
            vol.Optional(CONF_RESCAN, default=False): BooleanSelector(),
        }
        if capabilities.advanced_wifi:
            schema[vol.Optional(CONF_ADVANCED, default={})] = section(
                _schema(
                    {
                        vol.Optional(CONF_BSSID): TextSelector(),
                        vol.Optional(CONF_MODE, default=WifiMode.STA.value): SelectSelector(
                            SelectSelectorConfig(
                                options=[mode.value for mode in WifiMode],
                                translation_key="mode",
                            )
                        ),
                        vol.Optional(CONF_SOFTAP_SSID): TextSelector(),
                        vol.Optional(CONF_SOFTAP_PASSWORD): TextSelector(
                            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
                        ),
                        vol.Optional(CONF_SOFTAP_AUTH_MODE, default=SoftApAuth.WPA2_PSK.value): (
                            SelectSelector(
                                SelectSelectorConfig(
                                    options=[auth.value for auth in SoftApAuth],
                                    translation_key="softap_auth_mode",
                                )
                            )
                        ),
                        vol.Optional(CONF_SOFTAP_CHANNEL): vol.All(
                            NumberSelector(
                                NumberSelectorConfig(min=1, max=13, mode=NumberSelectorMode.BOX)
                            ),
                            vol.Coerce(int),
                        ),
                        vol.Optional(CONF_SOFTAP_MAX_CONNECTIONS): vol.All(
                            NumberSelector(
                                NumberSelectorConfig(min=1, max=10, mode=NumberSelectorMode.BOX)
                            ),
                            vol.Coerce(int),
                        ),
                        vol.Optional(CONF_ALLOW_UNENCRYPTED, default=False): BooleanSelector(),
                    }
                ),
                {"collapsed": True},
            )
        identity = self._identity
        return self.async_show_form(
            step_id="wifi" if capabilities.encrypted else "wifi_cleartext",
            data_schema=self.add_suggested_values_to_schema(_schema(schema), self._suggested),
            errors=errors,
            description_placeholders={
                "name": self._name,
                "version": identity.version if identity else "-",
                "security": identity.security.value if identity else "-",
                "count": str(len(self._networks or [])),
            },
        )

    def _remember(self, user_input: dict[str, Any]) -> None:
        """Keep what the user typed for the next form, except any password."""
        advanced = {
            key: value
            for key, value in user_input.get(CONF_ADVANCED, {}).items()
            if key != CONF_SOFTAP_PASSWORD
        }
        self._suggested = {CONF_SSID: user_input.get(CONF_SSID), CONF_ADVANCED: advanced}

    def _parse_wifi(self, user_input: dict[str, Any]) -> dict[str, str]:
        """Validate the form and build the provisioning request."""
        self._remember(user_input)
        errors: dict[str, str] = {}
        ssid: str = user_input[CONF_SSID]
        password: str = user_input.get(CONF_PASSWORD, "")
        advanced: dict[str, Any] = user_input.get(CONF_ADVANCED, {})
        assert self._device is not None
        limits = self._device.limits
        for check, value, field in (
            (limits.check_ssid, ssid, CONF_SSID),
            (limits.check_password, password, CONF_PASSWORD),
        ):
            try:
                check(value)
            except InvalidInputError as err:
                errors[field] = err.reason
        bssid: str | None = advanced.get(CONF_BSSID) or None
        if bssid is not None:
            try:
                check_bssid(bssid)
            except InvalidInputError as err:
                errors[CONF_ADVANCED] = err.reason
        mode = WifiMode(advanced.get(CONF_MODE, WifiMode.STA))
        softap: SoftApSettings | None = None
        if mode is not WifiMode.STA:
            auth = SoftApAuth(advanced.get(CONF_SOFTAP_AUTH_MODE, SoftApAuth.WPA2_PSK))
            softap_password: str = advanced.get(CONF_SOFTAP_PASSWORD, "")
            softap_ssid: str = advanced.get(CONF_SOFTAP_SSID, "")
            try:
                limits.check_ssid(softap_ssid, field=CONF_SOFTAP_SSID)
                limits.check_password(softap_password, field=CONF_SOFTAP_PASSWORD)
            except InvalidInputError as err:
                errors[CONF_ADVANCED] = f"invalid_{err.field}"
            else:
                if (auth is SoftApAuth.OPEN) != (not softap_password):
                    errors[CONF_ADVANCED] = "invalid_softap_password"
            softap = SoftApSettings(
                ssid=softap_ssid,
                password=softap_password,
                channel=advanced.get(CONF_SOFTAP_CHANNEL),
                max_connections=advanced.get(CONF_SOFTAP_MAX_CONNECTIONS),
                auth=auth,
            )
        if errors:
            return errors
        self._request = ProvisionRequest(
            ssid=ssid,
            password=password,
            bssid=bssid,
            mode=mode,
            softap=softap,
            allow_unencrypted=bool(advanced.get(CONF_ALLOW_UNENCRYPTED, False)),
        )
        return {}

    # -------------------------------------------------------------- provisioning

    async def async_step_provision(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Send the credentials and wait for the device's real outcome."""
        assert self._request is not None
        if self._provision_task is None:
            self._provision_task = self.hass.async_create_task(
                self._async_provision(), f"{DOMAIN} provision {self._address}", eager_start=False
            )
        if not self._provision_task.done():
            return self.async_show_progress(
                step_id="provision",
                progress_action="provisioning",
                progress_task=self._provision_task,
                description_placeholders={"name": self._name, "ssid": self._request.ssid},
            )
        return self.async_show_progress_done(next_step_id="provision_done")

    async def _async_provision(self) -> ProvisionReport | str:
        """Run the provisioning; return the report or a form error key."""
        assert self._device is not None
        assert self._request is not None
        try:
            return await self._device.provision(self._request, const.PROVISION_TIMEOUT)
        except ProvisioningError as err:
            _LOGGER.debug("Provisioning %s failed: %s", self._address, err)
            return next(iter(flow_errors(err).values()))

    async def async_step_provision_done(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Create (or update) the entry, or go back to the Wi-Fi form with the reason."""
        assert self._provision_task is not None
        result = self._provision_task.result()
        self._provision_task = None
        if isinstance(result, str):
            return self._show_wifi_form({"base": result})
        if not result.success:
            return self._show_wifi_form({"base": _outcome_error(result.outcome)})
        # Done with the device: release the link before the entry's coordinator connects.
        assert self._device is not None
        await self._device.close()
        if self.source == SOURCE_RECONFIGURE:
            if self._resume_coordinator is not None:
                self._resume_coordinator()
                self._resume_coordinator = None
            updates: dict[str, Any] = {CONF_LAST_SSID: result.ssid}
            if result.hostname:
                updates[CONF_HOSTNAME] = result.hostname
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data_updates=updates
            )
        identity = self._identity
        assert identity is not None
        return self.async_create_entry(
            title=self._name,
            data={
                CONF_ADDRESS: self._address,
                CONF_PROTOCOL: self._protocol.value,
                CONF_PROTOCOL_VERSION: identity.version,
                CONF_SECURITY_VERSION: identity.security.value,
                CONF_HOSTNAME: result.hostname or identity.hostname,
                CONF_LAST_SSID: result.ssid,
            },
            options={CONF_STATUS_INTERVAL: DEFAULT_STATUS_INTERVAL, CONF_ALLOW_UNENCRYPTED: False},
        )


class BleProvisioningOptionsFlow(OptionsFlow):
    """Status interval and, for encrypted protocols, the unencrypted fallback."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and store the options."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        capabilities = device_class(Protocol(self.config_entry.data[CONF_PROTOCOL])).capabilities
        schema: dict[Any, Any] = {
            vol.Required(CONF_STATUS_INTERVAL, default=DEFAULT_STATUS_INTERVAL): vol.All(
                NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_STATUS_INTERVAL,
                        max=MAX_STATUS_INTERVAL,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Coerce(int),
            ),
        }
        if capabilities.encrypted:
            schema[vol.Required(CONF_ALLOW_UNENCRYPTED, default=False)] = BooleanSelector()
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _schema(schema), self.config_entry.options
            ),
        )
