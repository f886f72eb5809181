"""Bluenet behind :class:`~.device.ProvisioningDevice`: a Linux host running the daemon.

Bluenet has no encryption: the password travels in clear text over BLE.
"""

from __future__ import annotations

from bleak.backends.device import BLEDevice

from .bluenet.client import BluenetClient
from .bluenet.const import BluenetState
from .bluenet.errors import BluenetStillScanningError
from .bluenet.networks import NetworkStreamGuard
from .device import ProvisioningDevice
from .errors import OperationNotSupportedError
from .models import (
    Capabilities,
    DeviceIdentity,
    DeviceStatus,
    Protocol,
    ProvisioningSecurity,
    ProvisionOutcome,
    ProvisionReport,
    ProvisionRequest,
    WifiMode,
    WifiNetwork,
    WifiState,
)

_STATES: dict[BluenetState, WifiState] = {
    BluenetState.CONNECTED: WifiState.CONNECTED,
    BluenetState.CONNECTING: WifiState.CONNECTING,
    BluenetState.DISCONNECTED: WifiState.DISCONNECTED,
    BluenetState.DOWN: WifiState.FAILED,
}


class BluenetDevice(ProvisioningDevice):
    """A Linux host running the Bluenet daemon."""

    protocol = Protocol.BLUENET
    capabilities = Capabilities(
        encrypted=False, rssi=False, custom_data=False, disconnect_wifi=False, advanced_wifi=False
    )
    default_name = "Bluenet device"
    manufacturer = "Bluenet"
    model = "Bluenet daemon"

    _client: BluenetClient | None = None
    _network_guard: NetworkStreamGuard | None = None

    @property
    def is_connected(self) -> bool:
        """Whether a BLE connection is up."""
        return self._client is not None and self._client.is_connected

    async def _open(self, ble_device: BLEDevice) -> None:
        if self._network_guard is None:
            # One per device: the daemon's network timer chains outlive a client's link.
            self._network_guard = NetworkStreamGuard()
        client = BluenetClient(
            ble_device,
            ble_device_callback=self._ble_device_callback(ble_device),
            backend=self._backend,
            slots=self._slots,
            timeout=self._timeout,
            network_guard=self._network_guard,
        )
        self._client = client
        await client.connect()

    async def _close_link(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.disconnect()

    @property
    def _connected(self) -> BluenetClient:
        assert self._client is not None  # only inside _operation(), after connecting
        return self._client

    async def identify(self) -> DeviceIdentity:
        """Read the service version and the host name."""
        async with self._operation():
            info = await self._connected.read_device_info()
        self.version = info.version
        return DeviceIdentity(
            protocol=self.protocol,
            version=info.version,
            security=ProvisioningSecurity.CLEARTEXT,
            hostname=info.hostname or None,
        )

    async def get_status(self) -> DeviceStatus:
        """Read the connection state and the host name."""
        async with self._operation():
            client = self._connected
            state = await client.get_state()
            hostname = await client.read_hostname()
        wifi_state = _STATES.get(state.state, WifiState.UNKNOWN)
        return DeviceStatus(
            state=wifi_state,
            ssid=state.ssid if wifi_state is not WifiState.DISCONNECTED else None,
            failure=ProvisionOutcome.CONNECTION_FAILED if wifi_state is WifiState.FAILED else None,
            hostname=hostname.value or None,
        )

    async def scan(self, timeout: float) -> list[WifiNetwork]:
        """Collect the SSIDs the daemon notifies (no signal strength: daemon order).

        Raises :class:`~.bluenet.errors.BluenetStillScanningError` (``still_scanning``) when
        the daemon sent none; the link is kept as after a successful scan.
        """
        nothing: BluenetStillScanningError | None = None
        async with self._operation():
            try:
                ssids = await self._connected.scan_networks(timeout)
            except BluenetStillScanningError as err:
                nothing, ssids = err, []
        if nothing is not None:
            raise nothing
        return [WifiNetwork(ssid) for ssid in dict.fromkeys(ssids) if ssid]

    async def provision(self, request: ProvisionRequest, timeout: float) -> ProvisionReport:
        """Write SSID and credentials, then follow the state notifications."""
        if request.bssid or request.mode is not WifiMode.STA or request.softap is not None:
            raise OperationNotSupportedError("BSSID and Wi-Fi mode")
        self.limits.check(request.ssid, request.password)
        async with self._operation():
            result = await self._connected.provision(
                request.ssid, request.password or None, timeout=timeout
            )
        return ProvisionReport(
            outcome=result.outcome,
            ssid=result.ssid,
            hostname=result.hostname or None,
            security=ProvisioningSecurity.CLEARTEXT,
        )
