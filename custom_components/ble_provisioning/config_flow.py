"""Config flow: discover, identify, pick a network, provision; reconfigure.

One library device object serves the whole flow, and a reconfigure flow of a loaded entry uses
the entry's own (see :mod:`.flow_device`). The forms are built in :mod:`.wifi_form`, the input is
checked in :mod:`.wifi_request`; the options flow is in :mod:`.options_flow`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import logging
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
)
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.data_entry_flow import EVENT_DATA_ENTRY_FLOW_PROGRESSED, AbortFlow
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.util import dt as dt_util
import voluptuous as vol

from . import const
from .const import (
    CONF_CONTINUE_SETUP,
    CONF_FLOW_SCAN,
    CONF_HOSTNAME,
    CONF_LAST_SECURITY,
    CONF_LAST_SSID,
    CONF_MODE,
    CONF_PROTOCOL,
    CONF_PROTOCOL_VERSION,
    CONF_RESCAN,
    CONF_SECURITY_VERSION,
    CONF_STATUS_INTERVAL,
    DEFAULT_STATUS_INTERVAL,
    DOMAIN,
)
from .coordinator import flow_scan_data
from .device import async_forget_discovery, failure_form_error, flow_errors
from .device_data import accepted_hostname, accepted_ssid, accepted_version
from .flow_device import FlowDevice
from .flow_fleet import FleetSteps
from .flow_network import FlowNetwork
from .network import Sighting, async_entry_for_mac, async_seen, candidate_data, sighting_data
from .options_flow import BleProvisioningOptionsFlow
from .protocol.device import ProvisioningDevice
from .protocol.device_blufi import security_for_version
from .protocol.diagnosis import diagnose
from .protocol.discovery import device_filter, protocol_from_service_uuids
from .protocol.errors import MissingServiceError, ProvisioningError
from .protocol.identity import normalize_mac
from .protocol.models import (
    DeviceIdentity,
    Protocol,
    ProvisioningSecurity,
    ProvisionReport,
    ProvisionRequest,
    WifiMode,
    WifiNetwork,
)
from .targets import device_name as _device_name, discovered
from .wifi_form import (
    SECRET_FIELDS,
    SOFTAP_FIELDS,
    flat_values,
    schema,
    softap_schema,
    softap_suggestions,
    wifi_errors,
    wifi_schema,
    wifi_step_id,
    wifi_suggestions,
)
from .wifi_request import provision_request

_LOGGER = logging.getLogger(__name__)


def _failure_error(report: ProvisionReport, networks: list[WifiNetwork] | None) -> str:
    """Return the form error of a failed provisioning, diagnosed with the flow's scan."""
    failure = diagnose(
        report.outcome,
        report.ssid,
        end_reason_code=report.end_reason_code,
        rssi=report.rssi,
        networks=networks,
    )
    return failure_form_error(report.outcome, failure)


class BleProvisioningConfigFlow(FleetSteps, domain=DOMAIN):
    """Discover a device, identify it, put it on a Wi-Fi network and create its entry."""

    VERSION = 1

    def __init__(self) -> None:
        """Initialize the flow."""
        self._address = ""
        self._protocol = Protocol.BLUFI
        self._name = ""
        self._discovered: dict[str, tuple[Protocol, str]] = {}
        self._flow_device: FlowDevice | None = None
        self._identity: DeviceIdentity | None = None
        self._networks: list[WifiNetwork] | None = None
        self._scan_time: datetime | None = None
        self._wifi_values: dict[str, Any] = {}
        self._softap_values: dict[str, Any] = {}
        self._request: ProvisionRequest | None = None
        self._provision_task: asyncio.Task[ProvisionReport | str] | None = None
        self._unsub_advertisements: CALLBACK_TYPE | None = None
        self._network: FlowNetwork | None = None
        self._finish_data: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> BleProvisioningOptionsFlow:
        """Return the options flow."""
        return BleProvisioningOptionsFlow()

    # -------------------------------------------------------------- the device

    @property
    def _devices(self) -> FlowDevice:
        if self._flow_device is None:
            self._flow_device = FlowDevice(self.hass, self.flow_id)
        return self._flow_device

    @property
    def _device(self) -> ProvisioningDevice | None:
        """The device object the flow uses now (None before the first step needs one)."""
        return None if self._flow_device is None else self._flow_device.device

    def _current_device(self) -> ProvisioningDevice:
        version = self._identity.version if self._identity else None
        if self.source == SOURCE_RECONFIGURE:
            return self._devices.of_entry(
                self._get_reconfigure_entry(), self._address, self._protocol, version
            )
        return self._devices.own(self._address, self._protocol, version)

    @callback
    def async_remove(self) -> None:
        """Release everything the flow holds when it ends or is aborted."""
        if self._unsub_advertisements is not None:
            self._unsub_advertisements()
            self._unsub_advertisements = None
        if self._provision_task is not None and not self._provision_task.done():
            self._provision_task.cancel()
        if self._flow_device is not None:
            self._flow_device.async_end()
        if self._network is not None:
            self._network.async_end()
        self.async_remove_batch()

    # -------------------------------------------------------------- discovery

    async def async_step_bluetooth(
        self, discovery_info: bluetooth.BluetoothServiceInfoBleak
    ) -> ConfigFlowResult:
        """Handle a device found by Home Assistant's bluetooth manager."""
        if not discovery_info.connectable:
            return self.async_abort(reason="not_connectable")
        protocol = protocol_from_service_uuids(discovery_info.service_uuids)
        if protocol is None or not device_filter(discovery_info.advertisement):
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

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """Home Assistant's DHCP discovery saw a device's Wi-Fi MAC: keep its IP, then abort.

        The discovery comes for a MAC one of our devices lists in its connections (manifest
        ``dhcp: registered_devices``): a confirmed one or a candidate waiting for confirmation
        (see :mod:`.network`). It comes again whenever the address data changes.
        """
        mac = normalize_mac(discovery_info.macaddress)
        entry = None if mac is None else async_entry_for_mac(self.hass, mac)
        if entry is None or entry.unique_id is None:
            return self.async_abort(reason="not_supported_device")
        sighting = Sighting(discovery_info.ip, mac, discovery_info.hostname or None)
        async_seen(self.hass, entry, sighting)
        await self.async_set_unique_id(entry.unique_id)
        self._abort_if_unique_id_configured()
        return self.async_abort(reason="already_configured")  # not reached: the line above aborts

    def _select(self, address: str, protocol: Protocol, name: str) -> None:
        self._address = address
        self._protocol = protocol
        self._name = name
        self.context["title_placeholders"] = {"name": name}

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
        """Offer one device, several at once (``flow_batch``), a fleet move (``flow_fleet``)."""
        options = []
        if discovered(self.hass, self._unconfigured_exclude()):
            options += ["pick_device", "batch"]
        if self._loaded_entries():
            options.append("fleet")
        if not options:
            return self.async_abort(reason="no_devices_found")
        return self.async_show_menu(step_id="user", menu_options=options)

    async def async_step_pick_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """List the devices in range that advertise a supported service and are not set up.

        Unlike discovery, this list is not narrowed by :func:`device_filter`: the user picks
        the device, and identify still refuses one that does not speak the protocol.
        """
        errors: dict[str, str] = {}
        if user_input is not None:
            address: str = user_input[CONF_ADDRESS]
            protocol, name = self._discovered[address]
            await self.async_set_unique_id(address, raise_on_progress=False)
            self._abort_if_unique_id_configured()
            if address != self._address:
                self._identity = None
            self._select(address, protocol, name)
            errors = await self._async_identify()
            if not errors:
                return await self.async_step_wifi()

        for device in discovered(self.hass, self._unconfigured_exclude()):
            self._discovered.setdefault(device.address, (device.protocol, device.name))
        if not self._discovered:
            return self.async_abort(reason="no_devices_found")
        return self.async_show_form(
            step_id="pick_device",
            data_schema=schema(
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
        """Connect and identify; abort when the device does not speak the protocol."""
        device = self._current_device()
        try:
            self._identity = await device.identify()
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
        self._wifi_values = {"ssid": entry.data.get(CONF_LAST_SSID)}
        version = accepted_version(entry.data.get(CONF_PROTOCOL_VERSION))
        errors: dict[str, str] = {}
        if version is not None:
            self._identity = DeviceIdentity(
                protocol=self._protocol,
                version=version,
                security=security_for_version(version)
                if self._protocol is Protocol.BLUFI
                else ProvisioningSecurity.CLEARTEXT,
                hostname=accepted_hostname(entry.data.get(CONF_HOSTNAME)),
            )
            self._current_device()
        else:
            errors = await self._async_identify()
        if errors:
            self._networks = []
            return self._show_wifi_form(errors)
        return await self.async_step_wifi()

    # -------------------------------------------------------------- Wi-Fi

    def _security(self) -> ProvisioningSecurity | None:
        if self._identity is not None:
            return self._identity.security
        return ProvisioningSecurity.CLEARTEXT if self._protocol is Protocol.BLUENET else None

    async def async_step_wifi(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick a network from the device's own scan (or type one) and its password."""
        device = self._current_device()
        errors: dict[str, str] = {}
        if user_input is not None:
            values = flat_values(user_input)
            self._wifi_values = values
            if values.get(CONF_RESCAN):
                self._networks = None
            else:
                request, found = provision_request(device, values)
                if WifiMode(values.get(CONF_MODE) or WifiMode.STA) is not WifiMode.STA:
                    # The SoftAP fields come on their own form, next.
                    found = {key: value for key, value in found.items() if key not in SOFTAP_FIELDS}
                    if not found:
                        return await self.async_step_softap()
                errors = wifi_errors(found, device.capabilities)
                if request is not None:
                    self._request = request
                    return await self.async_step_provision()
        if self._networks is None:
            errors = await self._async_scan(device) | errors
        return self._show_wifi_form(errors)

    # The same step under the id that names how the password travels (see wifi_form).
    async_step_wifi_legacy = async_step_wifi
    async_step_wifi_cleartext = async_step_wifi
    async_step_wifi_unidentified = async_step_wifi

    async def _async_scan(self, device: ProvisioningDevice) -> dict[str, str]:
        try:
            self._networks = await device.scan(const.SCAN_TIMEOUT)
        except ProvisioningError as err:
            _LOGGER.debug("Scanning with %s failed: %s", self._address, err)
            self._networks = []
            return flow_errors(err)
        finally:
            self._scan_time = dt_util.now()
        return {}

    def _show_wifi_form(self, errors: dict[str, str]) -> ConfigFlowResult:
        assert self._device is not None
        suggested = wifi_suggestions(self._wifi_values)
        fields = wifi_schema(self._device.capabilities, self._networks, suggested)
        scan_time = dt_util.as_local(self._scan_time) if self._scan_time else dt_util.now()
        return self.async_show_form(
            step_id=wifi_step_id(self._security()),
            data_schema=self.add_suggested_values_to_schema(schema(fields), suggested),
            errors=errors,
            description_placeholders={
                "name": self._name,
                "version": self._identity.version if self._identity else "",
                "count": str(len(self._networks or [])),
                "scan_time": scan_time.strftime("%H:%M:%S"),
            },
        )

    async def async_step_softap(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """SoftAP modes: the device's own access point."""
        device = self._current_device()
        errors: dict[str, str] = {}
        if user_input is not None:
            self._softap_values = dict(user_input)
            request, found = provision_request(device, self._wifi_values | user_input)
            if request is not None:
                self._request = request
                return await self.async_step_provision()
            errors = {
                key if key in SOFTAP_FIELDS else "base": value for key, value in found.items()
            }
        return self.async_show_form(
            step_id="softap",
            data_schema=self.add_suggested_values_to_schema(
                schema(softap_schema()), softap_suggestions(self._softap_values)
            ),
            errors=errors,
            description_placeholders={"name": self._name},
        )

    # -------------------------------------------------------------- provisioning

    async def async_step_provision(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Send the credentials and wait for the device's real outcome."""
        assert self._request is not None
        if self._provision_task is None:
            device = self._current_device()
            # The request holds the passwords now; the remembered form input no longer does.
            for values in (self._wifi_values, self._softap_values):
                for key in SECRET_FIELDS:
                    values.pop(key, None)
            self._provision_task = self.hass.async_create_task(
                self._async_provision(device, self._request),
                f"{DOMAIN} provision {self._address}",
                eager_start=False,
            )
        if not self._provision_task.done():
            return self.async_show_progress(
                step_id="provision",
                progress_action="provisioning",
                progress_task=self._provision_task,
                description_placeholders={"name": self._name, "ssid": self._request.ssid},
            )
        return self.async_show_progress_done(next_step_id="provision_done")

    async def _async_provision(
        self, device: ProvisioningDevice, request: ProvisionRequest
    ) -> ProvisionReport | str:
        """Run the provisioning; return the report or a form error key."""
        try:
            return await device.provision(request, const.PROVISION_TIMEOUT)
        except ProvisioningError as err:
            _LOGGER.debug("Provisioning %s failed: %s", self._address, err)
            return next(iter(flow_errors(err).values()))

    async def async_step_provision_done(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Create (or update) the entry, or go back to the Wi-Fi form with the reason."""
        assert self._provision_task is not None
        assert self._request is not None
        result = self._provision_task.result()
        self._provision_task = None
        if isinstance(result, str):
            return self._show_wifi_form({"base": result})
        if not result.success:
            return self._show_wifi_form({"base": _failure_error(result, self._networks)})
        async_forget_discovery(self.hass, self._address, rediscover=False)
        await self._devices.async_done()
        hostname = accepted_hostname(result.hostname)
        ssid = accepted_ssid(result.ssid) or self._request.ssid
        security = result.security.value if result.security else None
        if self.source == SOURCE_RECONFIGURE:
            updates: dict[str, Any] = {CONF_LAST_SSID: ssid, CONF_LAST_SECURITY: security}
            if hostname:
                updates[CONF_HOSTNAME] = hostname
            entry = self._get_reconfigure_entry()
            updates |= candidate_data(FlowNetwork.candidates(self._protocol, self._address))
            return self.async_update_reload_and_abort(entry, data_updates=updates)
        self._network = FlowNetwork(
            self.hass, self._protocol, self._address, hostname or self._identity_hostname()
        )
        self._finish_data = self._entry_data(hostname, ssid, security)
        return await self.async_step_network()

    def _identity_hostname(self) -> str | None:
        return accepted_hostname(self._identity.hostname) if self._identity else None

    # -------------------------------------------------------------- on the network

    async def async_step_network(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Wait a bounded time for the device to appear on the network (when anything can tell)."""
        network = self._network
        assert network is not None
        task = network.async_wait()
        if task is not None and not task.done():
            return self.async_show_progress(
                step_id="network",
                progress_action="network",
                progress_task=task,
                description_placeholders={"name": self._name, "ssid": self._finish_ssid()},
            )
        if task is None:
            return await self.async_step_finish()
        return self.async_show_progress_done(next_step_id="finish")

    def _finish_ssid(self) -> str:
        return str(self._finish_data[CONF_LAST_SSID])

    async def async_step_finish(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Say where the device is on the network; offer its own integration's flow; create."""
        network = self._network
        assert network is not None
        sighting = network.sighting
        if user_input is not None:
            data = dict(self._finish_data)
            if sighting is not None:
                data |= sighting_data(sighting)
            return self.async_create_entry(
                title=self._name,
                data=data,
                options={CONF_STATUS_INTERVAL: DEFAULT_STATUS_INTERVAL},
                **network.handoff_result(bool(user_input.get(CONF_CONTINUE_SETUP))),
            )
        await network.async_find_handoff()
        return self.async_show_form(
            step_id="finish" if sighting is not None else "finish_unseen",
            data_schema=network.finish_schema(),
            description_placeholders={
                "name": self._name,
                "ssid": self._finish_ssid(),
                "ip": sighting.ip if sighting is not None else "",
                "integration": network.handoff.name if network.handoff else "",
            },
        )

    async_step_finish_unseen = async_step_finish

    def _entry_data(
        self,
        hostname: str | None,
        ssid: str,
        security: str | None,
    ) -> dict[str, Any]:
        """Return the new entry's data (the network's sighting is added at the end)."""
        identity = self._identity
        assert identity is not None
        data: dict[str, Any] = {
            CONF_ADDRESS: self._address,
            CONF_PROTOCOL: self._protocol.value,
            CONF_PROTOCOL_VERSION: accepted_version(identity.version),
            CONF_SECURITY_VERSION: identity.security.value,
            CONF_LAST_SECURITY: security,
            CONF_HOSTNAME: hostname or accepted_hostname(identity.hostname),
            CONF_LAST_SSID: ssid,
        }
        if self._networks and self._scan_time is not None:
            data[CONF_FLOW_SCAN] = flow_scan_data(self._networks, self._scan_time)
        data |= candidate_data(FlowNetwork.candidates(self._protocol, self._address))
        return data
