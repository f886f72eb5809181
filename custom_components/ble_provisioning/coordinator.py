"""Coordinator: one device's status, scans and operations.

The library's device object owns the link (one operation at a time; no idle hold here: a proxy
has ~3 connection slots and background work must not keep one). The entry's
:class:`~.gate.DeviceGate` decides when the device may be used (not while closing or paused).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
import logging
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import const
from .const import (
    CONF_FLOW_SCAN,
    CONF_HOSTNAME,
    CONF_IP_ADDRESS,
    CONF_LAST_SECURITY,
    CONF_LAST_SSID,
    CONF_PROTOCOL,
    CONF_PROTOCOL_VERSION,
    CONF_SECURITY_VERSION,
    CONF_STATUS_INTERVAL,
    DEFAULT_STATUS_INTERVAL,
    DOMAIN,
    EVENT_CUSTOM_DATA,
    EVENT_PROVISIONING_FAILED,
    EVENT_PROVISIONING_SUCCEEDED,
)
from .device import ha_device
from .device_data import accepted_hostname, accepted_ssid, configuration_url
from .gate import DeviceGate
from .issues import async_check_adapters
from .network import NetworkTracker, signal_network_updated
from .protocol.device import ProvisioningDevice
from .protocol.device_blufi import security_for_version
from .protocol.diagnosis import JoinFailure, diagnose
from .protocol.engine import DeviceResult
from .protocol.errors import ProvisioningError
from .protocol.identity import network_identity
from .protocol.models import (
    DeviceStatus,
    Protocol,
    ProvisioningSecurity,
    ProvisionOutcome,
    ProvisionReport,
    ProvisionRequest,
    WifiNetwork,
    WifiState,
)
from .slots import EntrySlots, ha_slots

_LOGGER = logging.getLogger(__name__)

type BleProvisioningConfigEntry = ConfigEntry[BleProvisioningCoordinator]

EventListener = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class CoordinatorData:
    """What the entities show."""

    status: DeviceStatus | None = None
    networks: tuple[WifiNetwork, ...] | None = None
    last_scan: datetime | None = None
    last_provision: ProvisionReport | None = None
    failure_reason: ProvisionOutcome | None = None
    hostname: str | None = None
    security: ProvisioningSecurity | None = None
    ip_address: str | None = None
    """Where the device is on the IP network (see :mod:`.network`)."""
    failure: JoinFailure | None = None
    """Why the last join failed, diagnosed (see :mod:`.protocol.diagnosis`)."""


def flow_scan_data(networks: list[WifiNetwork], when: datetime) -> dict[str, Any]:
    """Return the flow's scan as a new entry stores it (see :data:`~.const.CONF_FLOW_SCAN`)."""
    return {
        "networks": [[network.ssid, network.rssi] for network in networks],
        "time": when.isoformat(),
    }


def _flow_scan(value: Any) -> tuple[tuple[WifiNetwork, ...] | None, datetime | None]:
    """Read :func:`flow_scan_data` back; anything malformed is ignored."""
    if not isinstance(value, Mapping):
        return None, None
    when = dt_util.parse_datetime(str(value.get("time", "")))
    if when is None:
        return None, None
    networks: list[WifiNetwork] = []
    for item in value.get("networks") or ():
        if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str):
            ssid, rssi = item
            networks.append(WifiNetwork(ssid, rssi if isinstance(rssi, int) else None))
    return tuple(networks), when


def _initial_security(data: Mapping[str, Any]) -> ProvisioningSecurity | None:
    """How the credentials last travelled; else what the device's protocol version offers."""
    known = {security.value: security for security in ProvisioningSecurity}
    for key in (CONF_LAST_SECURITY, CONF_SECURITY_VERSION):
        if (security := known.get(str(data.get(key)))) is not None:
            return security
    if Protocol(data[CONF_PROTOCOL]) is Protocol.BLUENET:
        return ProvisioningSecurity.CLEARTEXT
    version = data.get(CONF_PROTOCOL_VERSION)
    return security_for_version(version) if isinstance(version, str) else None


class BleProvisioningCoordinator(DataUpdateCoordinator[CoordinatorData]):
    """Own one device: status refresh, scans, provisioning, custom data."""

    config_entry: BleProvisioningConfigEntry

    def __init__(self, hass: HomeAssistant, entry: BleProvisioningConfigEntry) -> None:
        """Create the coordinator and the library's device object."""
        interval = entry.options.get(CONF_STATUS_INTERVAL, DEFAULT_STATUS_INTERVAL)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(seconds=interval),
            always_update=False,
        )
        self.address: str = entry.data[CONF_ADDRESS]
        self.options: dict[str, Any] = dict(entry.options)
        self.slots = EntrySlots(ha_slots(hass))
        """The device's slots: a batch holding the entry lengthens the slot wait."""
        self.device: ProvisioningDevice = ha_device(
            hass,
            self.address,
            Protocol(entry.data[CONF_PROTOCOL]),
            version=entry.data.get(CONF_PROTOCOL_VERSION),
            slots=self.slots,
        )
        self.device.set_custom_data_callback(self._async_custom_data)
        self._event_listeners: list[EventListener] = []
        self.gate = DeviceGate(hass, entry, self.device)
        self.network = NetworkTracker(hass, entry)
        networks, last_scan = _flow_scan(entry.data.get(CONF_FLOW_SCAN))
        self.data = CoordinatorData(
            hostname=accepted_hostname(entry.data.get(CONF_HOSTNAME)),
            security=_initial_security(entry.data),
            networks=networks,
            last_scan=last_scan,
            ip_address=entry.data.get(CONF_IP_ADDRESS),
        )

    # -------------------------------------------------------------- lifecycle

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Follow the device's advertisements; return the function that stops it."""
        unsubs = [
            bluetooth.async_register_callback(
                self.hass,
                self._async_advertisement,
                bluetooth.BluetoothCallbackMatcher(address=self.address, connectable=True),
                bluetooth.BluetoothScanningMode.PASSIVE,
            ),
            bluetooth.async_track_unavailable(
                self.hass, self._async_unavailable, self.address, connectable=True
            ),
            async_dispatcher_connect(
                self.hass,
                signal_network_updated(self.config_entry.entry_id),
                self._async_network_updated,
            ),
            self.network.async_start(),
        ]

        # A sighting recorded while the entry was being set up (the DHCP discovery can come as
        # soon as the device is registered with its Wi-Fi MAC) was sent before this listened.
        self._async_network_updated()

        @callback
        def _stop() -> None:
            for unsub in unsubs:
                unsub()

        return _stop

    async def async_close(self) -> None:
        """Refuse and cancel every operation and close the device (see :class:`DeviceGate`)."""
        await self.gate.async_close()

    async def async_shutdown(self) -> None:
        """Cancel the coordinator's timers, then close (see :meth:`async_close`)."""
        await super().async_shutdown()
        await self.async_close()

    @callback
    def _async_advertisement(
        self, service_info: bluetooth.BluetoothServiceInfoBleak, change: bluetooth.BluetoothChange
    ) -> None:
        """Refresh as soon as a device that was gone advertises again."""
        if not self.last_update_success:
            self.async_refresh_later()

    @callback
    def _async_network_updated(self) -> None:
        """Show the entry's new network data (DHCP discovery, a resolved host name)."""
        ip_address = self.config_entry.data.get(CONF_IP_ADDRESS)
        if ip_address != self.data.ip_address:
            self.async_set_updated_data(replace(self.data, ip_address=ip_address))

    @callback
    def _async_unavailable(self, service_info: bluetooth.BluetoothServiceInfoBleak) -> None:
        """Mark the entities unavailable (logged once by the coordinator)."""
        if self.gate.closing:
            return
        self.async_set_update_error(
            UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="device_not_found",
                translation_placeholders={"address": self.address},
            )
        )

    # -------------------------------------------------------------- operations

    async def _async_update_data(self) -> CoordinatorData:
        """Read the Wi-Fi status while the device is in range (not while paused or closing)."""
        if self.gate.blocked:
            return self.data
        if not async_check_adapters(self.hass):
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="no_connectable_adapter")
        if not bluetooth.async_address_present(self.hass, self.address, connectable=True):
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="device_not_found",
                translation_placeholders={"address": self.address},
            )
        try:
            status = await self.gate.async_run(self.device.get_status)
        except ProvisioningError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=err.error_key,
                translation_placeholders={"address": self.address},
            ) from err
        except HomeAssistantError:
            # The gate's own error: the entry closed or paused meanwhile.
            return self.data
        return self._with_status(status)

    def _with_status(self, reported: DeviceStatus) -> CoordinatorData:
        status = replace(
            reported,
            ssid=accepted_ssid(reported.ssid),
            hostname=accepted_hostname(reported.hostname),
        )
        failure = self.data.failure_reason
        diagnosis = self.data.failure
        if status.failure is not None:
            failure = status.failure
            diagnosis = diagnose(
                status.failure,
                status.ssid or self._last_requested_ssid(),
                end_reason_code=status.end_reason_code,
                rssi=status.rssi,
                networks=self.data.networks,
            )
        elif status.state is WifiState.CONNECTED:
            failure = diagnosis = None
        hostname = status.hostname or self.data.hostname
        self._async_store_hostname(hostname)
        return replace(
            self.data, status=status, failure_reason=failure, failure=diagnosis, hostname=hostname
        )

    def _last_requested_ssid(self) -> str:
        """Return the network the last provisioning asked for (else the last one joined)."""
        if self.data.last_provision is not None and self.data.last_provision.ssid:
            return self.data.last_provision.ssid
        return str(self.config_entry.data.get(CONF_LAST_SSID) or "")

    @callback
    def _async_store_hostname(self, hostname: str | None) -> None:
        """Keep a changed host name in the entry and the device's configuration URL."""
        entry = self.config_entry
        if hostname == entry.data.get(CONF_HOSTNAME):
            return
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_HOSTNAME: hostname}
        )
        registry = dr.async_get(self.hass)
        # async_get_device(identifiers=...) is deprecated in newer Home Assistant and its
        # replacement does not exist in 2025.4: the entry's device (an entry has one).
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            registry.async_update_device(device.id, configuration_url=configuration_url(hostname))
        if hostname:
            self.network.async_check(hostname)  # a new host name: where the device is now

    async def async_scan(self) -> list[WifiNetwork]:
        """Scan with the device's radio and keep the result."""
        networks = await self.gate.async_run(partial(self.device.scan, const.SCAN_TIMEOUT))
        self.async_set_updated_data(
            replace(self.data, networks=tuple(networks), last_scan=dt_util.utcnow())
        )
        return networks

    async def async_get_status(self) -> DeviceStatus:
        """Read the status now (validated as the entities show it)."""
        data = self._with_status(await self.gate.async_run(self.device.get_status))
        self.async_set_updated_data(data)
        assert data.status is not None
        return data.status

    async def async_provision(self, request: ProvisionRequest) -> ProvisionReport:
        """Provision the device, keep the outcome and fire the event.

        What the device reports afterwards is validated before it is kept: the device may
        already have joined, so nothing it says may make this raise.
        """
        report = await self.gate.async_run(
            partial(self.device.provision, request, const.PROVISION_TIMEOUT)
        )
        report = self._async_keep_report(report, request.ssid)
        if report.outcome is not ProvisionOutcome.CONNECTED:
            # The status changed on the device, in a way the outcome alone does not tell
            # (state, mode): read it now (not debounced behind an earlier read).
            await self.async_refresh()
        return report

    @callback
    def async_keep_batch_result(self, result: DeviceResult) -> None:
        """Keep what a batch (``provision_many``, ``move_fleet``) reported for this device.

        As :meth:`async_provision` does (entry, entities, event, and a joined device's status);
        when the outcome alone does not tell the status, :meth:`async_refresh_later` reads it
        once the batch released the device.
        """
        if result.outcome is None:
            return
        self._async_keep_report(
            ProvisionReport(
                outcome=result.outcome,
                ssid=result.ssid or "",
                bssid=result.bssid,
                rssi=result.rssi,
                end_reason_code=result.reason_code,
                hostname=result.hostname,
                security=result.security,
            )
        )

    @callback
    def async_refresh_later(self) -> None:
        """Read the status in the background (after a batch released the device)."""
        if self.gate.blocked:
            return
        self.config_entry.async_create_background_task(
            self.hass, self.async_request_refresh(), f"{DOMAIN} refresh {self.address}"
        )

    @callback
    def _async_keep_report(
        self, report: ProvisionReport, requested_ssid: str | None = None
    ) -> ProvisionReport:
        """Validate and keep a provisioning's report; fire its event; return it validated.

        ``requested_ssid`` (default: the report's) is the network a failure is diagnosed for.
        """
        report = replace(report, hostname=accepted_hostname(report.hostname))
        hostname = report.hostname or self.data.hostname
        self._async_store_hostname(hostname)
        security = report.security or self.data.security
        updates: dict[str, Any] = {CONF_LAST_SECURITY: security.value if security else None}
        if report.success and (ssid := accepted_ssid(report.ssid)) is not None:
            updates[CONF_LAST_SSID] = ssid
        self.hass.config_entries.async_update_entry(
            self.config_entry, data={**self.config_entry.data, **updates}
        )
        failure = diagnose(
            report.outcome,
            requested_ssid if requested_ssid is not None else report.ssid,
            end_reason_code=report.end_reason_code,
            rssi=report.rssi,
            networks=self.data.networks,
        )
        data = replace(
            self.data,
            last_provision=report,
            failure_reason=None if report.success else report.outcome,
            failure=failure,
            hostname=hostname,
            security=security,
        )
        if report.outcome is ProvisionOutcome.CONNECTED:
            # The device's own report decided the outcome a moment ago: it is the status now.
            # No second connection for it (a proxy has ~3 slots; a batch would hold each twice).
            data = replace(data, status=self._status_after_success(report))
        self.async_set_updated_data(data)
        if report.success:
            identity = network_identity(self.device.protocol, self.address, hostname=hostname)
            self.network.async_provisioned(identity.mac_candidates, identity.hostname)
        self._async_fire(
            EVENT_PROVISIONING_SUCCEEDED if report.success else EVENT_PROVISIONING_FAILED,
            {"ssid": accepted_ssid(report.ssid), "outcome": report.outcome.value},
        )
        return report

    def _status_after_success(self, report: ProvisionReport) -> DeviceStatus:
        """Return the Wi-Fi status a station join leaves (the mode kept from the last read)."""
        previous = self.data.status
        return DeviceStatus(
            state=WifiState.CONNECTED,
            ssid=accepted_ssid(report.ssid),
            bssid=report.bssid,
            rssi=report.rssi,
            mode=previous.mode if previous is not None else None,
            hostname=report.hostname,
        )

    async def async_send_custom_data(
        self, data: bytes, *, wait_reply: bool, timeout: float
    ) -> bytes | None:
        """Send custom data; optionally wait for the reply and return it."""
        if wait_reply:
            return await self.gate.async_run(
                partial(self.device.send_and_wait_custom_data, data, timeout)
            )
        await self.gate.async_run(partial(self.device.send_custom_data, data))
        return None

    async def async_disconnect_wifi(self) -> None:
        """Ask the device to leave its network: a deliberate leave, not a failure."""
        await self.gate.async_run(self.device.disconnect_wifi)
        self.async_set_updated_data(replace(self.data, failure_reason=None, failure=None))
        await self.async_refresh()  # not debounced behind an earlier read: the state changed

    # -------------------------------------------------------------- events

    @callback
    def async_add_event_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        """Listen to custom data and provisioning outcomes."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    @callback
    def _async_fire(self, event_type: str, attributes: dict[str, Any]) -> None:
        if self.gate.closing:
            return
        for listener in list(self._event_listeners):
            listener(event_type, attributes)

    @callback
    def _async_custom_data(self, data: bytes) -> None:
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        self._async_fire(EVENT_CUSTOM_DATA, {"data_hex": data.hex(), "data_text": text})
