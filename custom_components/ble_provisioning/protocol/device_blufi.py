"""BluFi behind :class:`~.device.ProvisioningDevice`: an ESP32 running Espressif's BluFi."""

from __future__ import annotations

import logging

from bleak.backends.device import BLEDevice

from .blufi.client import AsyncBlufiClient
from .blufi.const import BlufiSecurity, OpMode, SoftApAuthMode, StaConnState, WifiReason
from .blufi.fields import softap_fields, sta_fields
from .blufi.models import (
    BlufiVersion,
    SoftApConfig,
    WifiStatus as BlufiWifiStatus,
    outcome_for_reason,
)
from .blufi.negotiation import security_for_version as _blufi_security
from .device import ProvisioningDevice
from .models import (
    Capabilities,
    DeviceIdentity,
    DeviceStatus,
    Protocol,
    ProvisioningSecurity,
    ProvisionReport,
    ProvisionRequest,
    SoftApAuth,
    WifiMode,
    WifiNetwork,
    WifiState,
)

_LOGGER = logging.getLogger(__name__)

#: The ESP-IDF example's "no reason" placeholder in the Wi-Fi report.
_NO_END_REASON = 255

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

#: End reasons that mean the station left on purpose (DISCONN_FROM_AP), not a failed join.
_DELIBERATE_REASONS = frozenset({WifiReason.ASSOC_LEAVE})


_SECURITY: dict[BlufiSecurity, ProvisioningSecurity] = {
    BlufiSecurity.V2: ProvisioningSecurity.BLUFI_V2,
    BlufiSecurity.V1: ProvisioningSecurity.BLUFI_V1,
    BlufiSecurity.NONE: ProvisioningSecurity.CLEARTEXT,
}


def security_for_version(version: str) -> ProvisioningSecurity:
    """BluFi >= 1.4 negotiates security V2, older versions V1 (``version`` as "major.minor")."""
    parsed = BlufiVersion.from_text(version)
    if parsed is None:
        return ProvisioningSecurity.BLUFI_V1
    return _SECURITY[_blufi_security(parsed)]


def status_from_report(status: BlufiWifiStatus) -> DeviceStatus:
    """Translate a BluFi Wi-Fi report into a :class:`DeviceStatus`."""
    end_reason = None if status.end_reason is None else int(status.end_reason)
    if end_reason == _NO_END_REASON:
        end_reason = None
    failure = None
    if end_reason is not None and end_reason not in _DELIBERATE_REASONS:
        failure = outcome_for_reason(end_reason)
    match status.sta_state:
        case StaConnState.CONNECTED:
            state = WifiState.CONNECTED
        case StaConnState.CONNECTING | StaConnState.CONNECTED_NO_IP:
            state = WifiState.CONNECTING
        case StaConnState.FAIL:
            state = WifiState.DISCONNECTED if failure is None else WifiState.FAILED
        case _:
            state = WifiState.UNKNOWN
    connected = state in (WifiState.CONNECTED, WifiState.CONNECTING)
    return DeviceStatus(
        state=state,
        ssid=status.ssid if connected else None,
        bssid=status.bssid if connected else None,
        rssi=status.rssi if status.rssi is not None and status.rssi > -128 else None,
        failure=failure if state is WifiState.FAILED else None,
        end_reason_code=end_reason,
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

    _client: AsyncBlufiClient | None = None

    @property
    def is_connected(self) -> bool:
        """Whether a BLE connection is up."""
        return self._client is not None and self._client.is_connected

    async def _open(self, ble_device: BLEDevice) -> None:
        client = AsyncBlufiClient(
            ble_device,
            ble_device_callback=self._ble_device_callback(ble_device),
            backend=self._backend,
            slots=self._slots,
            timeout=self._timeout,
            version=self.version,
        )
        client.register_custom_data_callback(self._on_custom_data)
        self._client = client
        await client.connect()

    async def _close_link(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.disconnect()

    @property
    def _connected(self) -> AsyncBlufiClient:
        assert self._client is not None  # only inside _operation(), after connecting
        return self._client

    async def identify(self) -> DeviceIdentity:
        """Read the BluFi version; the security version follows from it (no throwaway DH)."""
        async with self._operation():
            version = str(await self._connected.get_version())
        self.version = version
        return DeviceIdentity(
            protocol=self.protocol, version=version, security=security_for_version(version)
        )

    async def get_status(self) -> DeviceStatus:
        """Read the Wi-Fi connection report."""
        async with self._operation():
            return status_from_report(await self._connected.get_wifi_status())

    async def scan(self, timeout: float) -> list[WifiNetwork]:
        """Scan with the device's radio; strongest first, one entry per SSID."""
        async with self._operation():
            found = await self._connected.scan_wifi(timeout)
        best: dict[str, int] = {}
        for network in found:
            if network.ssid and network.rssi > best.get(network.ssid, -1000):
                best[network.ssid] = network.rssi
        return [
            WifiNetwork(ssid, rssi)
            for ssid, rssi in sorted(best.items(), key=lambda item: (-item[1], item[0]))
        ]

    async def provision(self, request: ProvisionRequest, timeout: float) -> ProvisionReport:
        """Negotiate security, send the credentials and wait for the device's report.

        Every input is checked (BluFi's limits) before connecting.
        """
        if request.mode is not WifiMode.SOFTAP:
            sta_fields(request.ssid, request.password, request.bssid or None)
        softap = None
        if request.softap is not None:
            softap = SoftApConfig(
                ssid=request.softap.ssid,
                password=request.softap.password or None,
                channel=request.softap.channel,
                max_connections=request.softap.max_connections,
                auth_mode=_SOFTAP_AUTH[request.softap.auth],
            )
            softap_fields(softap)
        async with self._operation():
            client = self._connected
            result = await client.provision(
                request.ssid,
                request.password or None,
                bssid=request.bssid or None,
                mode=_OPMODES[request.mode],
                softap=softap,
                require_security=not request.allow_unencrypted,
                timeout=timeout,
            )
            security = _SECURITY[client.security]
            self.version = str(client.version) if client.version is not None else self.version
        return ProvisionReport(
            outcome=result.outcome,
            ssid=result.ssid or request.ssid,
            bssid=result.bssid,
            rssi=result.rssi,
            end_reason_code=None if result.end_reason is None else int(result.end_reason),
            security=security,
        )

    async def send_custom_data(self, data: bytes) -> None:
        """Send custom data (data subtype 0x13)."""
        async with self._operation():
            await self._connected.send_custom_data(data)

    async def send_and_wait_custom_data(self, data: bytes, timeout: float) -> bytes:
        """Send custom data and return the reply (never a message that came before it)."""
        async with self._operation():
            return await self._connected.request_custom_data(data, timeout)

    async def disconnect_wifi(self) -> None:
        """Ask the device to disconnect from its access point."""
        async with self._operation():
            await self._connected.disconnect_ap()
