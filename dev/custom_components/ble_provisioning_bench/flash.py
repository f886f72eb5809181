"""What the demo's emulated devices keep across restarts, as real ones keep it in flash.

* An ESP32 running the BluFi example keeps the station configuration it was given
  (``esp_wifi_set_config``: SSID, password, BSSID, auth threshold) in NVS flash, and at boot
  the example joins with it (``WIFI_EVENT_STA_START`` -> ``esp_wifi_connect``).
* A Bluenet host keeps its NetworkManager ``bluenet`` profile and activates it at boot.

The demo stores both in Home Assistant's storage (``<config>/.storage/`` key
:data:`STORE_KEY`), checked every :data:`SAVE_INTERVAL` seconds and at stop, and gives them
back at the next start (``scripts/develop --fresh`` wipes the whole config, this included).
The store is the devices' flash: it holds the Wi-Fi password in clear, as NVS does (a demo
network's); it is never logged.

Works with both generations of the bench's BluFi emulator: the one whose ``esp_wifi`` model
keeps a flash configuration (``model.app.driver.config``, restored before boot) and the
older one without a flash model (``model.sta_ssid`` ..., restored by joining right after
start, as the example does at boot).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.helpers.storage import Store

from bench.device import EmulatedPeripheral
from bench.emulators.bluenet import BluenetDaemonEmulator
from bench.emulators.blufi import Esp32BlufiEmulator

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)

STORE_KEY = "ble_provisioning_bench.flash"
STORE_VERSION = 1
SAVE_INTERVAL = timedelta(seconds=2)
OPMODE_STA = 1
"""BluFi / ``esp_wifi`` station mode."""

Record = dict[str, Any]


def _is_bluenet(emulator: EmulatedPeripheral) -> bool:
    return isinstance(emulator, BluenetDaemonEmulator)


def _is_blufi(emulator: EmulatedPeripheral) -> bool:
    return isinstance(emulator, Esp32BlufiEmulator)


def _flash_driver(emulator: EmulatedPeripheral) -> Any:
    """Return the ``esp_wifi`` model with a flash configuration (None: older emulator)."""
    model: Any = getattr(emulator, "model", None)
    return getattr(getattr(model, "app", None), "driver", None)


def snapshot(emulator: EmulatedPeripheral) -> Record | None:
    """Return what ``emulator`` keeps in flash now (None: nothing)."""
    model: Any = getattr(emulator, "model", None)
    if _is_bluenet(emulator):
        profile = getattr(getattr(model, "nm", model), "profile", None)
        if profile is None:
            return None
        return {"kind": "bluenet", "ssid": profile.ssid, "psk": profile.psk}
    if not _is_blufi(emulator):
        return None
    driver = _flash_driver(emulator)
    if driver is not None:
        config = driver.config
        if not config.ssid:
            return None
        return {
            "kind": "blufi",
            "ssid": bytes(config.ssid).hex(),
            "password": bytes(config.password).hex(),
            "bssid": bytes(config.bssid).hex() if config.bssid_set else None,
            "threshold": int(config.threshold),
        }
    if not model.sta_ssid:
        return None
    return {
        "kind": "blufi",
        "ssid": bytes(model.sta_ssid).hex(),
        "password": bytes(model.sta_password).hex(),
        "bssid": bytes(model.sta_bssid).hex() if model.sta_bssid else None,
    }


def bluenet_profile(record: Record | None) -> tuple[str, str | None] | None:
    """Return the NetworkManager profile to start a Bluenet host with."""
    if record is None or record.get("kind") != "bluenet":
        return None
    return str(record["ssid"]), record.get("psk")


def restore_before_boot(emulator: EmulatedPeripheral, record: Record | None) -> None:
    """Put the kept station configuration into the ESP32's flash (before it boots)."""
    driver = _flash_driver(emulator)
    if driver is None or record is None or record.get("kind") != "blufi":
        return
    bssid = record.get("bssid")
    fields: dict[str, Any] = {
        "ssid": bytes.fromhex(record["ssid"]),
        "password": bytes.fromhex(record["password"]),
        "bssid_set": bssid is not None,
    }
    if bssid is not None:
        fields["bssid"] = bytes.fromhex(bssid)
    if "threshold" in record:
        fields["threshold"] = record["threshold"]
    driver.config = dataclasses.replace(driver.config, **fields)


def restore_after_boot(emulator: EmulatedPeripheral, record: Record | None) -> None:
    """Older BluFi emulator (no flash model): join with the kept credentials, as at boot."""
    if _flash_driver(emulator) is not None or record is None or record.get("kind") != "blufi":
        return
    model: Any = getattr(emulator, "model", None)
    model.opmode = type(model.opmode)(OPMODE_STA)
    model.sta_ssid = bytes.fromhex(record["ssid"])
    model.sta_password = bytes.fromhex(record["password"])
    bssid = record.get("bssid")
    model.sta_bssid = bytes.fromhex(bssid) if bssid else None
    model._start_sta_connect()  # the example's esp_wifi_connect at boot


class DemoFlash:
    """The devices' flash, kept in Home Assistant's storage."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Bind to ``hass``'s storage (:meth:`async_load` reads it)."""
        self._store: Store[dict[str, Record]] = Store(hass, STORE_VERSION, STORE_KEY)
        self.records: dict[str, Record] = {}
        """Kept records by device address."""

    async def async_load(self) -> None:
        """Read what the devices kept at the previous run."""
        self.records = await self._store.async_load() or {}
        _LOGGER.info("Emulated devices kept Wi-Fi settings: %s", sorted(self.records))

    def record(self, address: str) -> Record | None:
        """Return what the device at ``address`` kept."""
        return self.records.get(address)

    def capture(self, emulators: list[EmulatedPeripheral]) -> bool:
        """Take a snapshot of every device; True when something changed."""
        records: dict[str, Record] = {}
        for emulator in emulators:
            if (kept := snapshot(emulator)) is not None:
                records[emulator.address] = kept
        if records == self.records:
            return False
        self.records = records
        return True

    def schedule_save(self) -> None:
        """Write soon (coalesced; flushed at Home Assistant's final write)."""
        self._store.async_delay_save(lambda: self.records, 0.5)

    async def async_save(self) -> None:
        """Write now."""
        await self._store.async_save(self.records)
