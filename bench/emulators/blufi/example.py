"""ESP-IDF's BluFi example application (``blufi_example_main.c``) on the emulated ESP32.

The example keeps its own state in globals and answers from them, which is where most of its
field behaviour comes from:

* ``sta_config`` is a static struct, zeroed at boot and never reset otherwise: a BSSID once
  received keeps ``bssid_set`` until reboot, and any STA password frame (even an empty one)
  sets ``threshold.authmode = WPA2_PSK`` for the rest of the boot, so an open AP is then
  refused (reason 211);
* GET_WIFI_STATUS is answered from ``gl_sta_connected`` / ``gl_sta_ssid`` / ``gl_sta_bssid``,
  which a new CONN_TO_AP does not clear: they stay until the STA_DISCONNECTED event of the old
  association arrives, so a status read in between reports the old network;
* success is pushed (IP_EVENT_STA_GOT_IP, and the state on SoftAP start); a failure is only
  recorded (end reason and RSSI) after ``max_retry`` reconnections and shows in the next
  status answer; after a deliberate disconnect the report is "not connected" with only the
  max-retry field of the last connect;
* an SSID of 32+ bytes or a password of 64+ bytes is refused with DATA_FORMAT_ERROR (0x09)
  and not stored; SoftAP max connections > 4, auth mode >= WIFI_AUTH_MAX and channel > 13 are
  silently ignored; an invalid opmode aborts the firmware (``ESP_ERROR_CHECK``): it reboots;
* a scan that cannot start (no station interface) is WIFI_SCAN_FAIL (0x0B); an empty scan
  sends nothing.

Custom data is answered by the emulator's ``custom_reply`` (echo by default): the stock
example only logs it.
"""

from __future__ import annotations

from dataclasses import replace
import logging
from typing import TYPE_CHECKING, Protocol

from custom_components.ble_provisioning.protocol.blufi.const import (
    ErrorCode,
    OpMode,
    SoftApAuthMode,
    StaConnState,
)

from .reports import ExtraInfo
from .wifi import (
    INVALID_RSSI,
    ApStart,
    GotIp,
    StaConfig,
    StaConnected,
    StaDisconnected,
    StaStart,
    WifiDriver,
    WifiEvent,
)

if TYPE_CHECKING:
    from .config import BlufiDeviceConfig

_LOGGER = logging.getLogger(__name__)

INVALID_REASON = 255
SSID_FIELD = 32
"""``sizeof(wifi_sta_config_t.ssid)``: an SSID of this length or more is refused."""
PASSWORD_FIELD = 64
WIFI_AUTH_MAX = 17
SOFTAP_MAX_CONN = 4
SOFTAP_MAX_CHANNEL = 13


class BlufiApi(Protocol):
    """What the example calls in the BluFi stack (``esp_blufi_*``)."""

    @property
    def ble_connected(self) -> bool:
        """``ble_is_connected``."""

    def record(self, name: str, value: bytes | int) -> None:
        """Keep a received field for test assertions (not ESP-IDF)."""

    async def send_report(self, opmode: int, state: int, info: ExtraInfo) -> None:
        """``esp_blufi_send_wifi_conn_report``."""

    async def send_wifi_list(self, records: list[tuple[bytes, int]]) -> None:
        """``esp_blufi_send_wifi_list``."""

    async def send_error_info(self, code: int) -> None:
        """``esp_blufi_send_error_info``."""

    async def send_custom_data(self, data: bytes) -> None:
        """``esp_blufi_send_custom_data``."""


def _c_string(raw: bytes) -> bytes:
    """Return what ``strncpy`` keeps: the bytes before the first NUL."""
    return raw.split(b"\0", 1)[0]


class ExampleApp:
    """The example's globals, its BluFi event callback and its Wi-Fi event handlers."""

    def __init__(self, config: BlufiDeviceConfig, api: BlufiApi) -> None:
        """Create the application (call :meth:`boot` inside the event loop)."""
        self.config = config
        self.api = api
        self.driver = WifiDriver(
            lambda: self.config.networks,
            self.on_wifi_event,
            leave_delay=lambda: self.config.leave_delay,
            scan_delay=lambda: self.config.scan_delay,
        )
        self.unsolicited_reports = 0
        self._zero_globals()

    def _zero_globals(self) -> None:
        self.sta_config = StaConfig()
        self.ap_fields: dict[str, bytes | int] = {}
        self.gl_sta_connected = False
        self.gl_sta_got_ip = False
        self.gl_sta_bssid = bytes(6)
        self.gl_sta_ssid = b""
        self.gl_sta_is_connecting = False
        self.gl_sta_conn_info = ExtraInfo()
        self.retry = 0
        self.bssid_received = False

    def boot(self) -> None:
        """``initialise_wifi``: STA mode, started (STA_START then connects from flash)."""
        self._record_conn_info(INVALID_RSSI, INVALID_REASON)
        self.driver.start()

    def reboot(self) -> None:
        """Power cycle: globals zeroed, the driver restarts with its flash configuration."""
        self.driver.reboot()
        self._zero_globals()
        self.boot()

    # ------------------------------------------------------------------ helpers of the example

    def _record_conn_info(self, rssi: int, reason: int) -> None:
        if self.gl_sta_is_connecting:
            self.gl_sta_conn_info = ExtraInfo(sta_max_conn_retry=self.config.max_retry)
        else:
            self.gl_sta_conn_info = ExtraInfo(sta_conn_rssi=rssi, sta_conn_end_reason=reason)

    def _wifi_connect(self) -> None:
        self.retry = 0
        self.gl_sta_is_connecting = self.driver.connect()
        self._record_conn_info(INVALID_RSSI, INVALID_REASON)

    def _wifi_reconnect(self) -> bool:
        if self.gl_sta_is_connecting and self.retry < self.config.max_retry:
            self.retry += 1
            self.gl_sta_is_connecting = self.driver.connect()
            self._record_conn_info(INVALID_RSSI, INVALID_REASON)
            return True
        return False

    def status(self) -> tuple[int, ExtraInfo]:
        """Return the state and fields a report sent now carries (the example's 3 branches)."""
        if self.gl_sta_connected:
            state = StaConnState.CONNECTED if self.gl_sta_got_ip else StaConnState.CONNECTED_NO_IP
            return state, ExtraInfo(sta_bssid=self.gl_sta_bssid, sta_ssid=self.gl_sta_ssid)
        if self.gl_sta_is_connecting:
            return StaConnState.CONNECTING, self.gl_sta_conn_info
        return StaConnState.FAIL, self.gl_sta_conn_info

    async def _push_status(self) -> None:
        if not self.api.ble_connected:
            _LOGGER.debug("BLUFI BLE is not connected yet")
            return
        self.unsolicited_reports += 1
        state, info = self.status()
        await self.api.send_report(self.driver.mode, state, info)

    # ------------------------------------------------------------------ Wi-Fi events

    async def on_wifi_event(self, event: WifiEvent) -> None:
        """``wifi_event_handler`` / ``ip_event_handler``."""
        match event:
            case StaStart():
                self._wifi_connect()
            case StaConnected(bssid=bssid, ssid=ssid):
                self.gl_sta_connected = True
                self.gl_sta_is_connecting = False
                self.gl_sta_bssid, self.gl_sta_ssid = bssid, ssid
            case StaDisconnected(reason=reason, rssi=rssi):
                if not self.gl_sta_connected and not self._wifi_reconnect():
                    self.gl_sta_is_connecting = False
                    self._record_conn_info(rssi, reason)
                self.gl_sta_connected = False
                self.gl_sta_got_ip = False
                self.gl_sta_ssid = b""
                self.gl_sta_bssid = bytes(6)
            case GotIp():
                self.gl_sta_got_ip = True
                await self._push_status()
            case ApStart():
                await self._push_status()

    # ------------------------------------------------------------------ BluFi events

    def set_opmode(self, mode: int) -> bool:
        """SET_WIFI_OPMODE; False when ``esp_wifi_set_mode`` fails (the firmware aborts)."""
        self.api.record("opmode", mode)
        if mode > OpMode.SOFTAP_STA:
            _LOGGER.debug("esp_wifi_set_mode(%d) fails: ESP_ERROR_CHECK aborts", mode)
            return False
        self.driver.set_mode(mode)
        return True

    def connect_to_ap(self) -> None:
        """REQ_CONNECT_TO_AP: disconnect, then connect with the stored configuration."""
        self.driver.disconnect()
        self._wifi_connect()

    def disconnect_from_ap(self) -> None:
        """REQ_DISCONNECT_FROM_AP."""
        self.driver.disconnect()

    async def get_wifi_status(self) -> None:
        """GET_WIFI_STATUS: answered from the globals."""
        state, info = self.status()
        await self.api.send_report(self.driver.mode, state, info)

    def recv_sta_bssid(self, bssid: bytes) -> None:
        """RECV_STA_BSSID: ``bssid_set = 1`` (until reboot)."""
        self.api.record("sta_bssid", bssid)
        self.sta_config = replace(self.sta_config, bssid=bssid, bssid_set=True)
        self.bssid_received = True
        self.driver.set_config(self.sta_config)

    async def recv_sta_ssid(self, ssid: bytes) -> None:
        """RECV_STA_SSID: 32 bytes or more is DATA_FORMAT_ERROR."""
        if len(ssid) >= SSID_FIELD:
            _LOGGER.debug("Invalid STA SSID")
            await self.api.send_error_info(ErrorCode.DATA_FORMAT_ERROR)
            return
        self.api.record("sta_ssid", ssid)
        self.sta_config = replace(self.sta_config, ssid=_c_string(ssid))
        self.driver.set_config(self.sta_config)

    async def recv_sta_passwd(self, password: bytes) -> None:
        """RECV_STA_PASSWD: 64 bytes or more is DATA_FORMAT_ERROR; sets the WPA2 threshold."""
        if len(password) >= PASSWORD_FIELD:
            _LOGGER.debug("Invalid STA PASSWORD")
            await self.api.send_error_info(ErrorCode.DATA_FORMAT_ERROR)
            return
        self.api.record("sta_passwd", password)
        self.sta_config = replace(
            self.sta_config,
            password=_c_string(password),
            threshold=SoftApAuthMode.WPA2_PSK,
        )
        self.driver.set_config(self.sta_config)

    async def recv_softap_text(self, name: str, value: bytes, limit: int) -> None:
        """RECV_SOFTAP_SSID / _PASSWD (refused at ``limit`` bytes or more)."""
        if len(value) >= limit:
            await self.api.send_error_info(ErrorCode.DATA_FORMAT_ERROR)
            return
        self.api.record(name, value)
        self.ap_fields[name] = _c_string(value)

    def recv_softap_number(self, name: str, value: int) -> None:
        """RECV_SOFTAP_MAX_CONN_NUM / _AUTH_MODE / _CHANNEL (out-of-range values ignored)."""
        limits = {
            "softap_max_conn_num": SOFTAP_MAX_CONN,
            "softap_auth_mode": WIFI_AUTH_MAX - 1,
            "softap_channel": SOFTAP_MAX_CHANNEL,
        }
        if value > limits[name]:
            return
        self.api.record(name, value)
        self.ap_fields[name] = value

    async def get_wifi_list(self) -> None:
        """GET_WIFI_LIST: a blocking scan, then the list (nothing for an empty scan)."""
        if self.config.faults.scan_error:
            await self.api.send_error_info(ErrorCode.WIFI_SCAN_FAIL)
            return
        found = await self.driver.scan()
        if found is None:
            await self.api.send_error_info(ErrorCode.WIFI_SCAN_FAIL)
            return
        if not found:
            _LOGGER.debug("Nothing AP found")
            return
        if self.api.ble_connected:
            await self.api.send_wifi_list(found)

    async def recv_custom_data(self, data: bytes) -> None:
        """RECV_CUSTOM_DATA: the emulator's application answers (echo by default)."""
        self.api.record("custom_data", data)
        reply = data if self.config.custom_reply is None else self.config.custom_reply(data)
        if reply:
            await self.api.send_custom_data(reply)
