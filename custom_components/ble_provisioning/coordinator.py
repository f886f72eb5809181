"""Coordinator: refresh the Wi-Fi status on demand; the link is released right after each use.

The library's device object owns the link (one operation at a time, no idle hold: a proxy has
~3 connection slots and a background refresh must not keep one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ADDRESS
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import const
from .const import (
    CONF_ALLOW_UNENCRYPTED,
    CONF_HOSTNAME,
    CONF_LAST_SSID,
    CONF_PROTOCOL,
    CONF_PROTOCOL_VERSION,
    CONF_STATUS_INTERVAL,
    DEFAULT_STATUS_INTERVAL,
    DOMAIN,
    EVENT_CUSTOM_DATA,
    EVENT_PROVISIONING_FAILED,
    EVENT_PROVISIONING_SUCCEEDED,
)
from .device import ha_device
from .issues import async_check_adapters
from .protocol.device import ProvisioningDevice
from .protocol.errors import ProvisioningError
from .protocol.models import (
    DeviceStatus,
    Protocol,
    ProvisionOutcome,
    ProvisionReport,
    ProvisionRequest,
    WifiNetwork,
    WifiState,
)

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


def configuration_url(hostname: str | None) -> str | None:
    """Turn a reported host name or URL into a device configuration URL."""
    if not hostname:
        return None
    if "://" in hostname:
        return hostname
    return f"http://{hostname}"


class BleProvisioningCoordinator(DataUpdateCoordinator[CoordinatorData]):
    """Own one device: status refresh, scans, provisioning, custom data."""

    config_entry: BleProvisioningConfigEntry

    def __init__(self, hass: HomeAssistant, entry: BleProvisioningConfigEntry) -> None:
        """Create the coordinator and its protocol adapter."""
        interval = entry.options.get(CONF_STATUS_INTERVAL, DEFAULT_STATUS_INTERVAL)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(seconds=interval),
            always_update=False,
        )
        self.options: dict[str, Any] = dict(entry.options)
        self.address: str = entry.data[CONF_ADDRESS]
        self.device: ProvisioningDevice = ha_device(
            hass,
            self.address,
            Protocol(entry.data[CONF_PROTOCOL]),
            version=entry.data.get(CONF_PROTOCOL_VERSION),
        )
        self.device.set_custom_data_callback(self._async_custom_data)
        self._event_listeners: list[EventListener] = []
        self._suspended = 0
        self.data = CoordinatorData(hostname=entry.data.get(CONF_HOSTNAME))

    @property
    def allow_unencrypted(self) -> bool:
        """Whether the user allowed sending BluFi credentials without negotiated security."""
        return bool(self.options.get(CONF_ALLOW_UNENCRYPTED, False))

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
        ]

        @callback
        def _stop() -> None:
            for unsub in unsubs:
                unsub()

        return _stop

    async def async_shutdown(self) -> None:
        """Cancel timers, refuse further operations and release the connection."""
        await super().async_shutdown()
        await self.device.close()

    @callback
    def _async_advertisement(
        self, service_info: bluetooth.BluetoothServiceInfoBleak, change: bluetooth.BluetoothChange
    ) -> None:
        """Refresh as soon as a device that was gone advertises again."""
        if not self.last_update_success and not self._suspended:
            self.config_entry.async_create_background_task(
                self.hass, self.async_request_refresh(), f"{DOMAIN} refresh {self.address}"
            )

    @callback
    def _async_unavailable(self, service_info: bluetooth.BluetoothServiceInfoBleak) -> None:
        """Mark the entities unavailable (logged once by the coordinator)."""
        self.async_set_update_error(
            UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="device_not_found",
                translation_placeholders={"address": self.address},
            )
        )

    # -------------------------------------------------------------- reconfiguration

    async def async_suspend(self) -> CALLBACK_TYPE:
        """Release the device and stop touching it until the returned callback is called.

        A reconfigure flow uses this so the coordinator does not compete for the connection.
        """
        self._suspended += 1
        await self.device.disconnect()

        @callback
        def _resume() -> None:
            self._suspended -= 1

        return _resume

    # -------------------------------------------------------------- data

    async def _async_update_data(self) -> CoordinatorData:
        """Read the Wi-Fi status while the device is in range."""
        if self._suspended:
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
            status = await self.device.get_status()
        except ProvisioningError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=err.error_key,
                translation_placeholders={"address": self.address},
            ) from err
        return self._with_status(status)

    def _with_status(self, status: DeviceStatus) -> CoordinatorData:
        failure = self.data.failure_reason
        if status.failure is not None:
            failure = status.failure
        elif status.state is WifiState.CONNECTED:
            failure = None
        hostname = status.hostname or self.data.hostname
        if hostname != self.data.hostname:
            self._async_store_hostname(hostname)
        return replace(self.data, status=status, failure_reason=failure, hostname=hostname)

    @callback
    def _async_store_hostname(self, hostname: str | None) -> None:
        """Keep the host name in the entry and the device's configuration URL up to date."""
        entry = self.config_entry
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_HOSTNAME: hostname}
        )
        registry = dr.async_get(self.hass)
        # async_get_device(identifiers=...) is deprecated in newer Home Assistant and its
        # replacement does not exist in 2025.4: look the device up through the entry.
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if (DOMAIN, self.address) in device.identifiers:
                registry.async_update_device(
                    device.id, configuration_url=configuration_url(hostname)
                )

    # -------------------------------------------------------------- operations

    async def async_scan(self) -> list[WifiNetwork]:
        """Scan with the device's radio and keep the result."""
        networks = await self.device.scan(const.SCAN_TIMEOUT)
        self.async_set_updated_data(
            replace(self.data, networks=tuple(networks), last_scan=dt_util.utcnow())
        )
        return networks

    async def async_get_status(self) -> DeviceStatus:
        """Read the status now."""
        status = await self.device.get_status()
        self.async_set_updated_data(self._with_status(status))
        return status

    async def async_provision(self, request: ProvisionRequest) -> ProvisionReport:
        """Provision the device, keep the outcome and fire the event."""
        report = await self.device.provision(request, const.PROVISION_TIMEOUT)
        data = replace(
            self.data,
            last_provision=report,
            failure_reason=None if report.success else report.outcome,
            hostname=report.hostname or self.data.hostname,
        )
        if report.hostname and report.hostname != self.data.hostname:
            self._async_store_hostname(report.hostname)
        if report.success:
            self.hass.config_entries.async_update_entry(
                self.config_entry,
                data={**self.config_entry.data, CONF_LAST_SSID: report.ssid},
            )
        self.async_set_updated_data(data)
        self._async_fire(
            EVENT_PROVISIONING_SUCCEEDED if report.success else EVENT_PROVISIONING_FAILED,
            {"ssid": report.ssid, "outcome": report.outcome.value},
        )
        # The status changed on the device: read it again in the background.
        await self.async_request_refresh()
        return report

    async def async_send_custom_data(
        self, data: bytes, *, wait_reply: bool, timeout: float
    ) -> bytes | None:
        """Send custom data; optionally wait for the reply and return it."""
        if wait_reply:
            return await self.device.send_and_wait_custom_data(data, timeout)
        await self.device.send_custom_data(data)
        return None

    async def async_disconnect_wifi(self) -> None:
        """Ask the device to leave its network."""
        await self.device.disconnect_wifi()
        await self.async_request_refresh()

    # -------------------------------------------------------------- events

    @callback
    def async_add_event_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        """Listen to custom data and provisioning outcomes."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    @callback
    def _async_fire(self, event_type: str, attributes: dict[str, Any]) -> None:
        for listener in list(self._event_listeners):
            listener(event_type, attributes)

    @callback
    def _async_custom_data(self, data: bytes) -> None:
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        self._async_fire(EVENT_CUSTOM_DATA, {"data_hex": data.hex(), "data_text": text})
