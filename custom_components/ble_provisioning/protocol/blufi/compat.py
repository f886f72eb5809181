"""Seed-compatible synchronous ``BlufiClient`` (someburner/pyBlufi API) over the async client.

A background thread runs an event loop (as pyBlufi does); every method blocks until the async
client is done. Names, constants and exceptions follow the seed, and scripts written for
pyBlufi run unchanged except for the import line; behaviour is the async client's (typed
errors, timeouts, V1/V2 chosen from the device version, replies awaited). Differences a script
may notice: requests wait for the device's answer (``getVersion()`` right after
``requestVersion()`` has the version), SET_OPMODE asks for no ACK (so it also works after
``stopNotify()``), an empty password sends no password frame (open networks), and every failure
is one of the seed's exceptions (a scan's ``BleakError`` becomes a ``BluetoothError``).

Example::

    client = BlufiClient()
    client.connectByName("BLUFI_DEVICE")
    client.negotiateSecurity()
    client.postDeviceMode(OP_MODE_STA)
    client.postStaWifiInfo({"ssid": "MyNet", "pass": "secret123"})
    client.requestDeviceStatus()
    print(client.getWifiState())
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
import concurrent.futures
import contextlib
import threading
import time
from typing import Any, TypeVar

from bleak import BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError

from ..errors import ProvisioningConnectionError, ProvisioningError, ProvisioningTimeoutError
from .client import AsyncBlufiClient
from .const import NOTIFY_CHAR_UUID, NOTIFY_DESC_UUID, SERVICE_UUID, WRITE_CHAR_UUID
from .errors import BlufiSecurityError, BlufiTimeoutError
from .models import WifiStatus

_T = TypeVar("_T")

BLUFI_SERVICE_UUID = SERVICE_UUID
BLUFI_WRITE_CHAR_UUID = WRITE_CHAR_UUID
BLUFI_NOTIF_CHAR_UUID = NOTIFY_CHAR_UUID
BLUFI_NOTIF_DESC_UUID = NOTIFY_DESC_UUID

OP_MODE_NULL = 0x00
OP_MODE_STA = 0x01
OP_MODE_SOFTAP = 0x02
OP_MODE_STASOFTAP = 0x03

SOFTAP_SECURITY_OPEN = 0x00
SOFTAP_SECURITY_WEP = 0x01
SOFTAP_SECURITY_WPA = 0x02
SOFTAP_SECURITY_WPA2 = 0x03
SOFTAP_SECURITY_WPA_WPA2 = 0x04

STA_CONN_SUCCESS = 0x00
STA_CONN_FAIL = 0x01
STA_CONN_CONNECTING = 0x02
STA_CONN_NO_IP = 0x03

WIFI_REASON_4WAY_HANDSHAKE_TIMEOUT = 15
WIFI_REASON_NO_AP_FOUND = 201
WIFI_REASON_HANDSHAKE_TIMEOUT = 204
WIFI_REASON_CONNECTION_FAIL = 205

WIFI_SCAN_FAIL = 11

MIN_PACKAGE_LENGTH = 20
"""pyBlufi's smallest package limit (``setPostPackageLengthLimit``)."""


class BluetoothError(ProvisioningError):
    """Catch-all exception for Bluetooth related errors."""


class ConnectionError(BluetoothError, ProvisioningConnectionError):  # noqa: A001
    """Raised when a connection is unavailable."""


class RoleError(BluetoothError):
    """Raised when a resource is used with the mismatched role (e.g. not connected)."""


class SecurityError(BluetoothError, BlufiSecurityError):
    """Raised when a security related error occurs."""


def _translate(err: ProvisioningError) -> ProvisioningError:
    """Map library errors to the seed's exceptions; timeouts stay ``TimeoutError``s."""
    if isinstance(err, BluetoothError | ProvisioningTimeoutError):
        return err
    if isinstance(err, ProvisioningConnectionError):
        return ConnectionError(str(err))
    if isinstance(err, BlufiSecurityError):
        return SecurityError(str(err))
    return BluetoothError(str(err))


class BlufiClient:
    """Synchronous BluFi client with the seed's API (thin layer over AsyncBlufiClient)."""

    _margin = 5.0
    """Seconds a blocking call waits beyond three times its own timeout."""

    def __init__(
        self,
        blufi_service_uuid: str | None = None,
        blufi_write_char_uuid: str | None = None,
        blufi_notif_char_uuid: str | None = None,
        blufi_notif_desc_uuid: str | None = None,
        *,
        client_backend: type[BaseBleakClient] | None = None,
        scanner_backend: type[BaseBleakScanner] | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Start the background event loop; UUIDs default to the BluFi profile."""
        self.service_uuid = blufi_service_uuid or BLUFI_SERVICE_UUID
        self.write_char_uuid = blufi_write_char_uuid or BLUFI_WRITE_CHAR_UUID
        self.notif_char_uuid = blufi_notif_char_uuid or BLUFI_NOTIF_CHAR_UUID
        self.notif_desc_uuid = blufi_notif_desc_uuid or BLUFI_NOTIF_DESC_UUID
        self._client_backend = client_backend
        self._scanner_backend = scanner_backend
        self._timeout = timeout
        self._client: AsyncBlufiClient | None = None
        self._frame_limit: int | None = None
        self.version: str | None = None
        self.wifiState: dict[str, Any] = {"opMode": -1, "staConn": -1, "softAPConn": -1}
        self.ssidList: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ plumbing

    def _run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
        if self._loop.is_closed():
            coro.close()
            raise RoleError("client closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        limit = (timeout if timeout is not None else self._timeout) * 3 + self._margin
        try:
            return future.result(limit)
        except concurrent.futures.TimeoutError as err:
            future.cancel()
            raise BlufiTimeoutError("operation timed out") from err
        except ProvisioningError as err:
            raise _translate(err) from err

    def _require(self) -> AsyncBlufiClient:
        if self._client is None or not self._client.is_connected:
            raise RoleError("not connected (call connectByName first)")
        return self._client

    @property
    def connected(self) -> bool:
        """Whether the BLE link is up."""
        return self._client is not None and self._client.is_connected

    # ------------------------------------------------------------------ seed API

    def connectByName(self, name: str, timeout: float | None = None) -> bool:  # noqa: N802
        """Scan for ``name`` and connect; False if no such device was seen."""
        return self._run(self._connect_by_name(name, timeout or self._timeout), timeout)

    async def _connect_by_name(self, name: str, timeout: float) -> bool:
        if self._client is not None:
            # Before scanning: ESP-IDF's example does not advertise while it is connected.
            await self._client.disconnect()
            self._client = None
        kwargs: dict[str, Any] = {}
        if self._scanner_backend is not None:
            kwargs["backend"] = self._scanner_backend
        try:
            device = await BleakScanner.find_device_by_name(name, timeout=timeout, **kwargs)
        except (BleakError, OSError) as err:  # no adapter, adapter busy, D-Bus gone...
            raise BluetoothError(f"scan for {name!r} failed: {err}") from err
        if device is None:
            return False
        client = AsyncBlufiClient(
            device,
            backend=self._client_backend,
            timeout=self._timeout,
            service_uuid=self.service_uuid,
            write_uuid=self.write_char_uuid,
            notify_uuid=self.notif_char_uuid,
        )
        client.frame_limit = self._frame_limit
        client.register_custom_data_callback(self.onCustomData)
        client.register_status_callback(self._on_status)
        await client.connect()
        self._client = client
        self.version = None
        return True

    def setPostPackageLengthLimit(self, lengthLimit: int) -> None:  # noqa: N802, N803
        """Cap every written frame at ``lengthLimit - 4`` bytes (pyBlufi's meaning).

        The cap only lowers the frame size: a frame never exceeds one ATT write, which the
        client takes from the link (pyBlufi needs this call on Linux, where it cannot see the
        MTU; here it is optional). ``<= 0`` removes the cap.
        """
        if lengthLimit <= 0:
            self._frame_limit = None
        else:
            self._frame_limit = max(lengthLimit - 4, MIN_PACKAGE_LENGTH)
        if self._client is not None:
            self._client.frame_limit = self._frame_limit

    def _on_status(self, status: WifiStatus) -> None:
        """Every Wi-Fi report, asked for or pushed by the device, updates ``getWifiState()``."""
        self.wifiState = {
            "opMode": int(status.opmode),
            "staConn": int(status.sta_state),
            "softAPConn": status.softap_conn_count,
            "ssid": status.ssid,
            "bssid": status.bssid,
            "maxReconnects": status.max_reconnects,
            "endReason": None if status.end_reason is None else int(status.end_reason),
            "rssi": status.rssi,
        }

    def disconnect(self) -> None:
        """Close the BLE link."""
        if self._client is not None:
            self._run(self._client.disconnect())

    def close(self) -> None:
        """Disconnect, stop the background loop and its executor threads (DH work)."""
        if self._loop.is_closed():
            return
        if self._thread.is_alive():
            try:
                self.disconnect()
            finally:
                # Wait for the executor threads: loop.close() alone does not, and a thread
                # still alive after close() outlives the caller's check (pytest-homeassistant's
                # thread check failed for this reason).
                with contextlib.suppress(Exception):
                    self._run(self._loop.shutdown_default_executor())
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(5)
        self._loop.close()

    def __del__(self) -> None:
        """Clean the connection up on destruction."""
        with contextlib.suppress(Exception):  # best effort at interpreter teardown
            self.close()

    def startNotify(self) -> None:  # noqa: N802
        """Enable notifications on FF02 (enabled by connectByName)."""
        client = self._require()
        self._run(client.set_notify(enabled=True))

    def stopNotify(self) -> None:  # noqa: N802
        """Disable notifications on FF02."""
        client = self._require()
        self._run(client.set_notify(enabled=False))

    def negotiateSecurity(self) -> None:  # noqa: N802
        """Negotiate V1 or V2 (chosen from the device version); SecurityError on failure."""
        client = self._require()
        try:
            self._run(client.negotiate_security(None))
        except SecurityError:
            raise
        except BluetoothError as err:
            raise SecurityError(str(err)) from err

    def requestVersion(self) -> None:  # noqa: N802
        """Ask the device for its BluFi version (see :meth:`getVersion`)."""
        client = self._require()
        self.version = str(self._run(client.get_version()))

    def getVersion(self) -> str | None:  # noqa: N802
        """Return the cached version string (``"1.3"``)."""
        return self.version

    def requestDeviceStatus(self) -> None:  # noqa: N802
        """Ask for the Wi-Fi state (see :meth:`getWifiState`; pushed reports update it too)."""
        client = self._require()
        self._on_status(self._run(client.get_wifi_status()))

    def getWifiState(self) -> dict[str, Any]:  # noqa: N802
        """Return the cached state: ``opMode``, ``staConn``, ``softAPConn`` (+ TLV fields)."""
        return self.wifiState

    def requestDeviceScan(self, timeout: float = 10) -> None:  # noqa: N802
        """Ask the device to scan (see :meth:`getSSIDList`)."""
        client = self._require()
        networks = self._run(client.scan_wifi(timeout), timeout)
        self.ssidList = [{"ssid": n.ssid, "rssi": n.rssi} for n in networks]

    def getSSIDList(self) -> list[dict[str, Any]]:  # noqa: N802
        """Return the cached scan results."""
        return self.ssidList

    def postDeviceMode(self, opMode: int) -> None:  # noqa: N802, N803
        """Set the Wi-Fi mode (the write is acknowledged by the link; no BluFi ACK asked)."""
        client = self._require()
        self._run(client.set_opmode(opMode))

    def postStaWifiInfo(self, params: dict[str, Any]) -> None:  # noqa: N802
        """Send ``{"ssid": ..., "pass": ...}`` then CONN_TO_AP (no password: open network)."""
        client = self._require()
        self._run(client.set_sta_config(params["ssid"], params.get("pass"), params.get("bssid")))
        self._run(client.connect_ap())

    def postCustomData(self, data: bytes | bytearray) -> None:  # noqa: N802
        """Send custom data to the device."""
        client = self._require()
        self._run(client.send_custom_data(bytes(data)))

    def onCustomData(self, data: bytes) -> None:  # noqa: N802
        """Override to receive custom data from the device (runs on the BLE thread)."""

    def wait(self, timeout: float) -> None:
        """Sleep ``timeout`` seconds (used between operations)."""
        time.sleep(timeout)


__all__ = [
    "BLUFI_NOTIF_CHAR_UUID",
    "BLUFI_NOTIF_DESC_UUID",
    "BLUFI_SERVICE_UUID",
    "BLUFI_WRITE_CHAR_UUID",
    "MIN_PACKAGE_LENGTH",
    "OP_MODE_NULL",
    "OP_MODE_SOFTAP",
    "OP_MODE_STA",
    "OP_MODE_STASOFTAP",
    "SOFTAP_SECURITY_OPEN",
    "SOFTAP_SECURITY_WEP",
    "SOFTAP_SECURITY_WPA",
    "SOFTAP_SECURITY_WPA2",
    "SOFTAP_SECURITY_WPA_WPA2",
    "STA_CONN_CONNECTING",
    "STA_CONN_FAIL",
    "STA_CONN_NO_IP",
    "STA_CONN_SUCCESS",
    "WIFI_REASON_4WAY_HANDSHAKE_TIMEOUT",
    "WIFI_REASON_CONNECTION_FAIL",
    "WIFI_REASON_HANDSHAKE_TIMEOUT",
    "WIFI_REASON_NO_AP_FOUND",
    "WIFI_SCAN_FAIL",
    "BluetoothError",
    "BlufiClient",
    "ConnectionError",
    "RoleError",
    "SecurityError",
]
