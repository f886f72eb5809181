"""Protocol adapters: one small interface, a BluFi and a Bluenet implementation.

The rest of the integration talks to :class:`ProvisioningDevice` only. The adapters fetch a fresh
``BLEDevice`` from Home Assistant's bluetooth manager before each connection, pass a
``ble_device_callback`` so a retry may switch to a better adapter or proxy, and translate the
protocol clients' models and errors into :mod:`.models`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable
import contextlib
import logging
from typing import ClassVar

from bleak.backends.device import BLEDevice
from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant, callback

from . import const
from .const import (
    BLUENET_SERVICE_UUID,
    BLUFI_SERVICE_UUID,
    Protocol,
    SoftApAuth,
    WifiMode,
)
from .models import (
    Capabilities,
    DeviceConnectionError,
    DeviceConnectionLostError,
    DeviceError,
    DeviceIdentity,
    DeviceInputError,
    DeviceNotFoundError,
    DeviceNotSupportedError,
    DeviceProtocolError,
    DeviceReportedError,
    DeviceScanError,
    DeviceSecurityError,
    DeviceStatus,
    DeviceTimeoutError,
    FailureReason,
    OperationNotSupportedError,
    ProvisionOutcome,
    ProvisionReport,
    ProvisionRequest,
    WifiNetwork,
    WifiState,
)
from .protocol.bluenet import BluenetOutcome, BluenetState
from .protocol.bluenet.client import BluenetClient
from .protocol.blufi.client import AsyncBlufiClient
from .protocol.blufi.const import (
    AP_NOT_FOUND_REASONS,
    WRONG_PASSWORD_REASONS,
    OpMode,
    SoftApAuthMode,
    StaConnState,
)
from .protocol.blufi.errors import BlufiDeviceError, BlufiSecurityError, BlufiWifiScanError
from .protocol.blufi.models import (
    ProvisionOutcome as BlufiOutcome,
    SoftApConfig,
    WifiStatus as BlufiWifiStatus,
)
from .protocol.errors import (
    InvalidInputError,
    MissingServiceError,
    ProtocolDecodeError,
    ProvisioningConnectionError,
    ProvisioningError,
    ProvisioningTimeoutError,
)

_LOGGER = logging.getLogger(__name__)

CustomDataCallback = Callable[[bytes], None]

#: The ESP-IDF example's "no reason" placeholder in the Wi-Fi report.
_NO_END_REASON = 255


def protocol_from_service_uuids(service_uuids: Iterable[str]) -> Protocol | None:
    """Return the protocol an advertisement announces, if any."""
    uuids = {uuid.lower() for uuid in service_uuids}
    if BLUENET_SERVICE_UUID in uuids:
        return Protocol.BLUENET
    if BLUFI_SERVICE_UUID in uuids:
        return Protocol.BLUFI
    return None


class ProvisioningDevice(ABC):
    """One provisioning-capable BLE device, reached through Home Assistant's bluetooth stack.

    Every operation connects on demand; :meth:`async_disconnect` releases the connection. Every
    failure is a :class:`.models.DeviceError`.
    """

    protocol: ClassVar[Protocol]
    capabilities: ClassVar[Capabilities]
    default_name: ClassVar[str]
    manufacturer: ClassVar[str]
    model: ClassVar[str]

    def __init__(self, hass: HomeAssistant, address: str) -> None:
        """Describe the device; nothing happens on the radio until an operation runs."""
        self.hass = hass
        self.address = address
        self._custom_data_callback: CustomDataCallback | None = None

    # -------------------------------------------------------------- connection

    def _ble_device(self) -> BLEDevice:
        ble_device = bluetooth.async_ble_device_from_address(
            self.hass, self.address, connectable=True
        )
        if ble_device is None:
            raise DeviceNotFoundError(f"{self.address} is not in range of a connectable adapter")
        return ble_device

    @property
    @abstractmethod
    def is_connected(self) -> bool:
        """Whether a BLE connection is up."""

    @abstractmethod
    async def _async_open(self, ble_device: BLEDevice) -> None:
        """Create the protocol client for ``ble_device`` and connect it."""

    @abstractmethod
    async def async_disconnect(self) -> None:
        """Release the BLE connection; never raises."""

    async def async_connect(self) -> None:
        """Connect if not connected."""
        if self.is_connected:
            return
        ble_device = self._ble_device()
        try:
            await self._async_open(ble_device)
        except ProvisioningError as err:
            await self.async_disconnect()
            raise _translate(err, connected=False) from err

    def _ble_device_callback(self, fallback: BLEDevice) -> Callable[[], BLEDevice]:
        @callback
        def _get() -> BLEDevice:
            return (
                bluetooth.async_ble_device_from_address(self.hass, self.address, connectable=True)
                or fallback
            )

        return _get

    @contextlib.asynccontextmanager
    async def _operation(self) -> AsyncIterator[None]:
        """Connect, then translate protocol errors; drop the connection on a link failure."""
        await self.async_connect()
        try:
            yield
        except ProvisioningError as err:
            translated = _translate(err, connected=True)
            if not isinstance(translated, DeviceInputError):
                await self.async_disconnect()
            raise translated from err

    # -------------------------------------------------------------- operations

    @abstractmethod
    async def async_identify(self) -> DeviceIdentity:
        """Read what identifies the device (protocol version, security, host name)."""

    @abstractmethod
    async def async_get_status(self) -> DeviceStatus:
        """Read the Wi-Fi status."""

    @abstractmethod
    async def async_scan(self, timeout: float) -> list[WifiNetwork]:
        """Scan with the device's own radio; strongest first where the signal is known."""

    @abstractmethod
    async def async_provision(self, request: ProvisionRequest, timeout: float) -> ProvisionReport:
        """Send the credentials and wait for the real outcome."""

    async def async_send_custom_data(self, data: bytes) -> None:
        """Send opaque data to the device."""
        raise OperationNotSupportedError("custom data")

    async def async_send_and_wait_custom_data(self, data: bytes, timeout: float) -> bytes:
        """Send opaque data and return the device's reply."""
        raise OperationNotSupportedError("custom data")

    async def async_disconnect_wifi(self) -> None:
        """Ask the device to leave its Wi-Fi network."""
        raise OperationNotSupportedError("disconnect Wi-Fi")

    @callback
    def set_custom_data_callback(self, cb: CustomDataCallback | None) -> None:
        """Call ``cb`` with custom data the device sends while connected."""
        self._custom_data_callback = cb

    @callback
    def _on_custom_data(self, data: bytes) -> None:
        if self._custom_data_callback is not None:
            self._custom_data_callback(data)


def _translate(err: ProvisioningError, *, connected: bool) -> DeviceError:
    """Map a protocol error onto the Home Assistant layer's errors."""
    message = str(err) or type(err).__name__
    result: DeviceError
    if isinstance(err, MissingServiceError):
        result = DeviceNotSupportedError(message)
    elif isinstance(err, BlufiSecurityError):
        result = DeviceSecurityError(message)
    elif isinstance(err, BlufiWifiScanError):
        result = DeviceScanError(message, code=int(err.code))
    elif isinstance(err, BlufiDeviceError):
        result = DeviceReportedError(message, code=int(err.code))
    elif isinstance(err, InvalidInputError):
        result = DeviceInputError(message)
    elif isinstance(err, ProvisioningTimeoutError):
        result = DeviceTimeoutError(message)
    elif isinstance(err, ProvisioningConnectionError):
        result = DeviceConnectionLostError(message) if connected else DeviceConnectionError(message)
    elif isinstance(err, ProtocolDecodeError):
        result = DeviceProtocolError(message)
    else:
        result = DeviceError(message)
    return result


# ---------------------------------------------------------------------------- BluFi

_BLUFI_OUTCOMES: dict[BlufiOutcome, ProvisionOutcome] = {
    BlufiOutcome.CONNECTED: ProvisionOutcome.CONNECTED,
    BlufiOutcome.SOFTAP_STARTED: ProvisionOutcome.CONNECTED,
    BlufiOutcome.WRONG_PASSWORD: ProvisionOutcome.WRONG_PASSWORD,
    BlufiOutcome.AP_NOT_FOUND: ProvisionOutcome.NETWORK_NOT_FOUND,
    BlufiOutcome.CONNECTION_FAILED: ProvisionOutcome.FAILED,
    BlufiOutcome.TIMEOUT: ProvisionOutcome.TIMEOUT,
}

_OPMODES: dict[WifiMode, OpMode] = {
    WifiMode.STA: OpMode.STA,
    WifiMode.SOFTAP: OpMode.SOFTAP,
    WifiMode.STA_SOFTAP: OpMode.SOFTAP_STA,
}
_MODES = {opmode: mode for mode, opmode in _OPMODES.items()}

_SOFTAP_AUTH: dict[SoftApAuth, SoftApAuthMode] = {
    SoftApAuth.OPEN: SoftApAuthMode.OPEN,
    SoftApAuth.WPA_PSK: SoftApAuthMode.WPA_PSK,
    SoftApAuth.WPA2_PSK: SoftApAuthMode.WPA2_PSK,
    SoftApAuth.WPA_WPA2_PSK: SoftApAuthMode.WPA_WPA2_PSK,
    SoftApAuth.WPA3_PSK: SoftApAuthMode.WPA3_PSK,
    SoftApAuth.WPA2_WPA3_PSK: SoftApAuthMode.WPA2_WPA3_PSK,
}


def _blufi_failure_reason(end_reason: int | None) -> FailureReason:
    if end_reason is None or end_reason == _NO_END_REASON:
        return FailureReason.NONE
    if end_reason in WRONG_PASSWORD_REASONS:
        return FailureReason.WRONG_PASSWORD
    if end_reason in AP_NOT_FOUND_REASONS:
        return FailureReason.NETWORK_NOT_FOUND
    return FailureReason.CONNECTION_FAILED


def _blufi_status(status: BlufiWifiStatus) -> DeviceStatus:
    end_reason = None if status.end_reason is None else int(status.end_reason)
    failure = _blufi_failure_reason(end_reason)
    match status.sta_state:
        case StaConnState.CONNECTED:
            state = WifiState.CONNECTED
        case StaConnState.CONNECTING | StaConnState.CONNECTED_NO_IP:
            state = WifiState.CONNECTING
        case StaConnState.FAIL:
            state = WifiState.DISCONNECTED if failure is FailureReason.NONE else WifiState.FAILED
        case _:
            state = WifiState.UNKNOWN
    connected = state in (WifiState.CONNECTED, WifiState.CONNECTING)
    return DeviceStatus(
        state=state,
        ssid=status.ssid if connected else None,
        bssid=status.bssid if connected else None,
        rssi=status.rssi if status.rssi is not None and status.rssi > -128 else None,
        failure_reason=failure if state is WifiState.FAILED else FailureReason.NONE,
        end_reason_code=end_reason if end_reason != _NO_END_REASON else None,
        mode=_MODES.get(OpMode(status.opmode)) if status.opmode in set(OpMode) else None,
    )


class BlufiDevice(ProvisioningDevice):
    """An ESP32 running Espressif's BluFi."""

    protocol = Protocol.BLUFI
    capabilities = Capabilities(
        encrypted=True, rssi=True, custom_data=True, disconnect_wifi=True, advanced_wifi=True
    )
    default_name = "BluFi device"
    manufacturer = "Espressif"
    model = "BluFi device"

    def __init__(self, hass: HomeAssistant, address: str) -> None:
        """Describe the device."""
        super().__init__(hass, address)
        self._client: AsyncBlufiClient | None = None

    @property
    def is_connected(self) -> bool:
        """Whether a BLE connection is up."""
        return self._client is not None and self._client.is_connected

    async def _async_open(self, ble_device: BLEDevice) -> None:
        self._client = AsyncBlufiClient(
            ble_device,
            ble_device_callback=self._ble_device_callback(ble_device),
            timeout=const.CONNECT_TIMEOUT,
        )
        self._client.register_custom_data_callback(self._on_custom_data)
        await self._client.connect()

    async def async_disconnect(self) -> None:
        """Release the BLE connection; never raises."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(ProvisioningError):
                await client.disconnect()

    @property
    def _connected_client(self) -> AsyncBlufiClient:
        assert self._client is not None  # only used inside _operation(), after connecting
        return self._client

    async def async_identify(self) -> DeviceIdentity:
        """Read the BluFi version and negotiate the security it supports."""
        async with self._operation():
            client = self._connected_client
            version = await client.get_version()
            try:
                security = await client.negotiate_security()
            except ProvisioningConnectionError:
                raise
            except ProvisioningError as err:
                # Identification still succeeds: credentials will be refused later unless the
                # user explicitly allows sending them unencrypted.
                _LOGGER.debug("%s: security negotiation failed: %s", self.address, err)
                await self.async_disconnect()
                security_version = None
            else:
                security_version = security.name
        return DeviceIdentity(
            protocol=self.protocol, version=str(version), security_version=security_version
        )

    async def async_get_status(self) -> DeviceStatus:
        """Read the Wi-Fi connection report."""
        async with self._operation():
            return _blufi_status(await self._connected_client.get_wifi_status())

    async def async_scan(self, timeout: float) -> list[WifiNetwork]:
        """Scan with the device's radio; strongest first, one entry per SSID."""
        async with self._operation():
            found = await self._connected_client.scan_wifi(timeout)
        best: dict[str, int] = {}
        for network in found:
            if network.ssid and network.rssi > best.get(network.ssid, -1000):
                best[network.ssid] = network.rssi
        return [
            WifiNetwork(ssid, rssi)
            for ssid, rssi in sorted(best.items(), key=lambda item: (-item[1], item[0]))
        ]

    async def async_provision(self, request: ProvisionRequest, timeout: float) -> ProvisionReport:
        """Negotiate security, send the credentials and wait for the device's report."""
        softap = None
        if request.softap is not None:
            softap = SoftApConfig(
                ssid=request.softap.ssid,
                password=request.softap.password or None,
                channel=request.softap.channel,
                max_connections=request.softap.max_connections,
                auth_mode=_SOFTAP_AUTH[request.softap.auth],
            )
        async with self._operation():
            result = await self._connected_client.provision(
                request.ssid,
                request.password or None,
                bssid=request.bssid or None,
                mode=_OPMODES[request.mode],
                softap=softap,
                require_security=not request.allow_unencrypted,
                timeout=timeout,
            )
        return ProvisionReport(
            outcome=_BLUFI_OUTCOMES.get(result.outcome, ProvisionOutcome.FAILED),
            ssid=result.ssid or request.ssid,
            bssid=result.bssid,
            rssi=result.rssi,
            end_reason_code=None if result.end_reason is None else int(result.end_reason),
        )

    async def async_send_custom_data(self, data: bytes) -> None:
        """Send custom data (data subtype 0x13)."""
        async with self._operation():
            await self._connected_client.send_custom_data(data)

    async def async_send_and_wait_custom_data(self, data: bytes, timeout: float) -> bytes:
        """Send custom data and return the reply."""
        async with self._operation():
            client = self._connected_client
            await client.send_custom_data(data)
            return await client.wait_custom_data(timeout)

    async def async_disconnect_wifi(self) -> None:
        """Ask the device to disconnect from its access point."""
        async with self._operation():
            await self._connected_client.disconnect_ap()


# ---------------------------------------------------------------------------- Bluenet

_BLUENET_OUTCOMES: dict[BluenetOutcome, ProvisionOutcome] = {
    BluenetOutcome.CONNECTED: ProvisionOutcome.CONNECTED,
    BluenetOutcome.WRONG_PASSWORD: ProvisionOutcome.WRONG_PASSWORD,
    BluenetOutcome.NO_INTERNET: ProvisionOutcome.NO_INTERNET,
    BluenetOutcome.OTHER_UPLINK: ProvisionOutcome.OTHER_UPLINK,
    BluenetOutcome.TIMEOUT: ProvisionOutcome.TIMEOUT,
}

_BLUENET_STATES: dict[BluenetState, WifiState] = {
    BluenetState.CONNECTED: WifiState.CONNECTED,
    BluenetState.CONNECTING: WifiState.CONNECTING,
    BluenetState.DISCONNECTED: WifiState.DISCONNECTED,
    BluenetState.DOWN: WifiState.FAILED,
}


class BluenetDevice(ProvisioningDevice):
    """A Linux host running the Bluenet daemon (no encryption: the password goes in clear)."""

    protocol = Protocol.BLUENET
    capabilities = Capabilities(
        encrypted=False, rssi=False, custom_data=False, disconnect_wifi=False, advanced_wifi=False
    )
    default_name = "Bluenet device"
    manufacturer = "Bluenet"
    model = "Bluenet daemon"

    def __init__(self, hass: HomeAssistant, address: str) -> None:
        """Describe the device."""
        super().__init__(hass, address)
        self._client: BluenetClient | None = None

    @property
    def is_connected(self) -> bool:
        """Whether a BLE connection is up."""
        return self._client is not None and self._client.is_connected

    async def _async_open(self, ble_device: BLEDevice) -> None:
        self._client = BluenetClient(
            ble_device,
            ble_device_callback=self._ble_device_callback(ble_device),
            timeout=const.CONNECT_TIMEOUT,
        )
        await self._client.connect()

    async def async_disconnect(self) -> None:
        """Release the BLE connection; never raises."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(ProvisioningError):
                await client.disconnect()

    @property
    def _connected_client(self) -> BluenetClient:
        assert self._client is not None  # only used inside _operation(), after connecting
        return self._client

    async def async_identify(self) -> DeviceIdentity:
        """Read the service version and the host name."""
        async with self._operation():
            info = await self._connected_client.read_device_info()
        return DeviceIdentity(
            protocol=self.protocol, version=info.version, hostname=info.hostname or None
        )

    async def async_get_status(self) -> DeviceStatus:
        """Read the connection state and the host name."""
        async with self._operation():
            client = self._connected_client
            state = await client.get_state()
            hostname = await client.read_hostname()
        wifi_state = _BLUENET_STATES.get(state.state, WifiState.UNKNOWN)
        return DeviceStatus(
            state=wifi_state,
            ssid=state.ssid if wifi_state is not WifiState.DISCONNECTED else None,
            failure_reason=FailureReason.CONNECTION_FAILED
            if wifi_state is WifiState.FAILED
            else FailureReason.NONE,
            hostname=hostname.value or None,
        )

    async def async_scan(self, timeout: float) -> list[WifiNetwork]:
        """Collect the SSIDs the daemon notifies (no signal strength: daemon order)."""
        async with self._operation():
            ssids = await self._connected_client.scan_networks(timeout)
        return [WifiNetwork(ssid) for ssid in dict.fromkeys(ssids) if ssid]

    async def async_provision(self, request: ProvisionRequest, timeout: float) -> ProvisionReport:
        """Write SSID and credentials, then follow the state notifications."""
        if request.bssid or request.mode is not WifiMode.STA or request.softap is not None:
            raise OperationNotSupportedError("BSSID and Wi-Fi mode")
        async with self._operation():
            result = await self._connected_client.provision(
                request.ssid, request.password or None, timeout=timeout
            )
        return ProvisionReport(
            outcome=_BLUENET_OUTCOMES.get(result.outcome, ProvisionOutcome.FAILED),
            ssid=result.ssid,
            hostname=result.hostname or None,
        )


DEVICE_CLASSES: dict[Protocol, type[ProvisioningDevice]] = {
    Protocol.BLUFI: BlufiDevice,
    Protocol.BLUENET: BluenetDevice,
}


def create_device(hass: HomeAssistant, address: str, protocol: Protocol) -> ProvisioningDevice:
    """Return the adapter for ``protocol``."""
    return DEVICE_CLASSES[protocol](hass, address)
