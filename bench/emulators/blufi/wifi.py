"""The Wi-Fi side of the emulated ESP32: access points in range and the ``esp_wifi`` driver.

:class:`WifiDriver` models what the BluFi example relies on:

* the station configuration given with ``esp_wifi_set_config`` is kept in flash
  (``WIFI_STORAGE_FLASH``): it survives a reboot, the example's own copy does not;
* ``esp_wifi_connect`` starts one association attempt with the stored configuration; it fails
  at once (returns False) without a station interface or without an SSID. An attempt looks
  for a visible AP with the SSID (and the BSSID when ``bssid_set``): none is reason 201
  (NO_AP_FOUND); an AP weaker than the configured auth-mode threshold is skipped, and if only
  such APs match the reason is 211 (NO_AP_FOUND_IN_AUTHMODE_THRESHOLD); a forced ``outcome``
  or a wrong password (15, 4-way handshake timeout) fails after ``connect_delay``; otherwise
  STA_CONNECTED, then GOT_IP after ``ip_delay``;
* ``esp_wifi_disconnect`` drops the association; its STA_DISCONNECTED (reason 8, ASSOC_LEAVE)
  reaches the application ``leave_delay`` seconds later (default 0: on the next event-loop
  turn, before the next BLE write is handled);
* events reach the application one at a time and in order, as ESP-IDF's default event loop
  delivers them;
* a scan needs a station interface (SoftAP-only mode fails) and reports the visible APs
  that do not hide their SSID.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
import logging

from custom_components.ble_provisioning.protocol.blufi.const import (
    OpMode,
    SoftApAuthMode,
    WifiReason,
)

_LOGGER = logging.getLogger(__name__)

INVALID_RSSI = -128
NOT_FOUND_DELAY = 0.02
"""Seconds an attempt takes when no AP matches (the driver's scan)."""


def _raw(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


def parse_mac(text: str) -> bytes:
    """``aa:bb:cc:dd:ee:ff`` (or 12 hex digits) to 6 bytes."""
    raw = bytes.fromhex(text.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"not a MAC address: {text!r}")
    return raw


@dataclass(slots=True)
class WifiAp:
    """One access point of the emulated environment."""

    ssid: str | bytes
    rssi: int = -55
    password: str | bytes | None = field(default=None, repr=False)
    bssid: str = ""
    outcome: WifiReason | int | None = None
    """Force this end reason on every attempt (None: judge by password)."""
    connect_delay: float = 0.02
    ip_delay: float = 0.005
    visible: bool = True
    """False: out of range (neither scanned nor joinable)."""
    hidden: bool = False
    """A hidden SSID: joinable, but not in scan results (the example scans without
    ``show_hidden``)."""
    authmode: int | None = None
    """``wifi_auth_mode_t`` of the AP (None: WPA2-PSK with a password, open without)."""

    @property
    def ssid_raw(self) -> bytes:
        """SSID bytes."""
        return _raw(self.ssid)

    @property
    def password_raw(self) -> bytes:
        """Password bytes (empty = open)."""
        return b"" if self.password is None else _raw(self.password)

    @property
    def auth(self) -> int:
        """The AP's auth mode."""
        if self.authmode is not None:
            return self.authmode
        return SoftApAuthMode.WPA2_PSK if self.password_raw else SoftApAuthMode.OPEN

    def bssid_raw(self, index: int) -> bytes:
        """BSSID bytes (``a4:cf:12:00:00:<index>`` when not set)."""
        if self.bssid:
            return parse_mac(self.bssid)
        return bytes((0xA4, 0xCF, 0x12, 0x00, 0x00, index & 0xFF))


@dataclass(slots=True)
class StaConfig:
    """``wifi_sta_config_t``, the fields the example sets."""

    ssid: bytes = b""
    password: bytes = field(default=b"", repr=False)
    bssid: bytes = bytes(6)
    bssid_set: bool = False
    threshold: int = SoftApAuthMode.OPEN
    """``threshold.authmode``: the weakest auth mode accepted."""


@dataclass(frozen=True, slots=True)
class StaStart:
    """WIFI_EVENT_STA_START."""


@dataclass(frozen=True, slots=True)
class StaConnected:
    """WIFI_EVENT_STA_CONNECTED."""

    bssid: bytes
    ssid: bytes


@dataclass(frozen=True, slots=True)
class StaDisconnected:
    """WIFI_EVENT_STA_DISCONNECTED."""

    reason: int
    rssi: int


@dataclass(frozen=True, slots=True)
class GotIp:
    """IP_EVENT_STA_GOT_IP."""


@dataclass(frozen=True, slots=True)
class ApStart:
    """WIFI_EVENT_AP_START."""


WifiEvent = StaStart | StaConnected | StaDisconnected | GotIp | ApStart


def _has_sta(mode: int) -> bool:
    return mode in (OpMode.STA, OpMode.SOFTAP_STA)


def _has_ap(mode: int) -> bool:
    return mode in (OpMode.SOFTAP, OpMode.SOFTAP_STA)


class WifiDriver:
    """``esp_wifi`` for the example: mode, flash config, attempts, ordered events, scan."""

    def __init__(
        self,
        networks: Callable[[], list[WifiAp]],
        handler: Callable[[WifiEvent], Awaitable[None]],
        *,
        leave_delay: Callable[[], float] = lambda: 0.0,
        scan_delay: Callable[[], float] = lambda: 0.01,
    ) -> None:
        """``networks`` returns the APs in range now; ``handler`` gets every event.

        ``leave_delay`` and ``scan_delay`` return the current settings, in seconds.
        """
        self._networks = networks
        self._handler = handler
        self._leave_delay = leave_delay
        self._scan_delay = scan_delay
        self.mode: int = OpMode.NULL
        self.config = StaConfig()
        """The configuration kept in flash."""
        self.associated: tuple[bytes, WifiAp] | None = None
        self.attempts = 0
        self._attempt: asyncio.Task[None] | None = None
        self._events: asyncio.Queue[tuple[float, WifiEvent]] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ API used by the app

    def start(self) -> None:
        """``esp_wifi_set_mode(WIFI_MODE_STA)`` + ``esp_wifi_start`` (boot)."""
        self.set_mode(OpMode.STA)

    def set_mode(self, mode: int) -> None:
        """``esp_wifi_set_mode``: interfaces that appear start, those that go away stop."""
        old, self.mode = self.mode, mode
        if _has_sta(old) and not _has_sta(mode):
            self._cancel_attempt()
            self._leave()
        if _has_sta(mode) and not _has_sta(old):
            self.post(StaStart())
        if _has_ap(mode) and not _has_ap(old):
            self.post(ApStart())

    def set_config(self, config: StaConfig) -> None:
        """``esp_wifi_set_config(WIFI_IF_STA, ...)``: stored (in flash)."""
        self.config = replace(config)

    def connect(self) -> bool:
        """``esp_wifi_connect``: start an attempt; False (an error) when none can start."""
        if not _has_sta(self.mode) or not self.config.ssid:
            return False
        self._cancel_attempt()
        self._leave()
        self.attempts += 1
        self._attempt = asyncio.get_running_loop().create_task(
            self._run_attempt(replace(self.config))
        )
        return True

    def disconnect(self) -> None:
        """``esp_wifi_disconnect``: stop an attempt, leave the AP (event after leave_delay)."""
        self._cancel_attempt()
        self._leave()

    async def scan(self) -> list[tuple[bytes, int]] | None:
        """``esp_wifi_scan_start(block=true)``: visible APs, or None when it cannot start."""
        if not _has_sta(self.mode):
            return None
        await asyncio.sleep(self._scan_delay())
        return [(ap.ssid_raw, ap.rssi) for ap in self._networks() if ap.visible and not ap.hidden]

    # ------------------------------------------------------------------ lifecycle

    def reboot(self) -> None:
        """Power cycle: attempts, association and undelivered events are lost; flash stays."""
        self._cancel_attempt()
        self.associated = None
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        self._events = asyncio.Queue()
        self.mode = OpMode.NULL

    def close(self) -> None:
        """Stop every task."""
        self.reboot()

    # ------------------------------------------------------------------ internals

    def post(self, event: WifiEvent, delay: float = 0.0) -> None:
        """Queue an event for the application (delivered in order, not before ``delay``)."""
        loop = asyncio.get_running_loop()
        self._events.put_nowait((loop.time() + delay, event))
        if self._pump is None or self._pump.done():
            self._pump = loop.create_task(self._deliver())

    async def _deliver(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, event = await self._events.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await self._handler(event)
            except Exception:  # pragma: no cover - a bug in the emulator
                _LOGGER.exception("Wi-Fi event handler failed on %s", type(event).__name__)

    def _cancel_attempt(self) -> None:
        if self._attempt is not None and not self._attempt.done():
            self._attempt.cancel()
        self._attempt = None

    def _leave(self) -> None:
        if self.associated is None:
            return
        _bssid, ap = self.associated
        self.associated = None
        self.post(StaDisconnected(WifiReason.ASSOC_LEAVE, ap.rssi), self._leave_delay())

    async def _run_attempt(self, config: StaConfig) -> None:
        matches = [
            (index, ap)
            for index, ap in enumerate(self._networks())
            if ap.visible
            and ap.ssid_raw == config.ssid
            and (not config.bssid_set or ap.bssid_raw(index) == config.bssid)
        ]
        if not matches:
            await asyncio.sleep(NOT_FOUND_DELAY)
            self.post(StaDisconnected(WifiReason.NO_AP_FOUND, INVALID_RSSI))
            return
        eligible = [(index, ap) for index, ap in matches if ap.auth >= config.threshold]
        if not eligible:
            await asyncio.sleep(NOT_FOUND_DELAY)
            reason = WifiReason.NO_AP_FOUND_IN_AUTHMODE_THRESHOLD
            self.post(StaDisconnected(reason, INVALID_RSSI))
            return
        index, ap = eligible[0]
        await asyncio.sleep(ap.connect_delay)
        if ap.outcome is not None:
            self.post(StaDisconnected(int(ap.outcome), ap.rssi))
            return
        if ap.password_raw and ap.password_raw != config.password:
            self.post(StaDisconnected(WifiReason.FOURWAY_HANDSHAKE_TIMEOUT, ap.rssi))
            return
        bssid = ap.bssid_raw(index)
        self.associated = (bssid, ap)
        self.post(StaConnected(bssid, ap.ssid_raw))
        await asyncio.sleep(ap.ip_delay)
        if self.associated is not None and self.associated[1] is ap:
            self.post(GotIp())
