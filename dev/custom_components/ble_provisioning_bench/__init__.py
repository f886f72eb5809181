"""Dev-only bench glue for the demo (scripts/develop): never shipped, never in custom_components/.

On setup it starts the bench's in-process Bumble radio, puts three emulated devices on it and
registers the bench's virtual Bluetooth proxy with Home Assistant's own bluetooth manager:

* ``BLUFI_V1``: an ESP32 running ESP-IDF v5.5's BluFi example (BluFi 1.3, security V1);
* ``BLUFI_V2``: an ESP32 running ESP-IDF v6.0's BluFi example (BluFi 1.4, security V2);
* a Bluenet daemon (advertises only its service UUID, so HA shows its address).

All three see the same small Wi-Fi environment (:data:`NETWORKS`): only ``DemoHome`` with the
password ``provision-me`` can be joined; the other networks' passwords are random per run.
The integration (``custom_components/ble_provisioning``) is not touched: it discovers the devices
through HA's bluetooth manager and connects through the proxy, as it would through an ESPHome
Bluetooth proxy.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
import secrets
from typing import TYPE_CHECKING

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
import homeassistant.helpers.config_validation as cv
from homeassistant.helpers.typing import ConfigType

if TYPE_CHECKING:
    from bench.device import EmulatedPeripheral
    from bench.proxy import VirtualProxy
    from bench.radio import Radio

_LOGGER = logging.getLogger(__name__)

DOMAIN = "ble_provisioning_bench"
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)

WORKING_SSID = "DemoHome"
WORKING_PASSWORD = "provision-me"  # the demo's published Wi-Fi password


@dataclass(frozen=True, slots=True)
class DemoNetwork:
    """One access point of the emulated Wi-Fi environment."""

    ssid: str
    rssi: int
    password: str


def _networks() -> list[DemoNetwork]:
    """Return the environment: one network with a published password, three without."""
    return [
        DemoNetwork(WORKING_SSID, -45, WORKING_PASSWORD),
        DemoNetwork("IoT-Lab", -61, secrets.token_urlsafe(12)),
        DemoNetwork("Neighbour-5G", -74, secrets.token_urlsafe(12)),
        DemoNetwork("CoffeeShop-Guest", -83, secrets.token_urlsafe(12)),
    ]


def _build_emulators() -> list[EmulatedPeripheral]:
    """Two BluFi devices (security V1 and V2) and one Bluenet daemon, same environment."""
    from bench.emulators.bluenet import (  # noqa: PLC0415
        BluenetConfig,
        BluenetDaemonEmulator,
        WifiNetwork,
    )
    from bench.emulators.blufi import (  # noqa: PLC0415 - bench on sys.path only in the demo
        BlufiDeviceConfig,
        Esp32BlufiEmulator,
        WifiAp,
    )

    networks = _networks()

    def blufi_networks() -> list[WifiAp]:
        # A visible delay, as a real join takes: the config flow's progress step shows.
        return [
            WifiAp(ssid=n.ssid, rssi=n.rssi, password=n.password, connect_delay=0.8)
            for n in networks
        ]

    return [
        Esp32BlufiEmulator(
            BlufiDeviceConfig(name="BLUFI_V1", networks=blufi_networks()),
            profile="v5.5",
            address="24:0A:C4:00:00:01",
        ),
        Esp32BlufiEmulator(
            BlufiDeviceConfig(name="BLUFI_V2", networks=blufi_networks()),
            profile="v6.0",
            address="24:0A:C4:00:00:02",
        ),
        BluenetDaemonEmulator(
            BluenetConfig(networks=[WifiNetwork(n.ssid, n.password) for n in networks]),
            address="B0:0B:1E:00:00:01",
        ),
    ]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start the radio and the emulators; register the virtual proxy with HA's manager."""
    from bench.proxy import VirtualProxy  # noqa: PLC0415
    from bench.radio import Radio  # noqa: PLC0415

    radio = Radio()
    await radio.start()
    emulators = _build_emulators()
    for emulator in emulators:
        await radio.add_peripheral(emulator)
    proxy = await VirtualProxy.async_start(hass, radio, slots=3)
    _LOGGER.info(
        "Bench up: %d emulated devices behind virtual proxy %s; Wi-Fi %r / %r works",
        len(emulators),
        proxy.name,
        WORKING_SSID,
        "*" * len(WORKING_PASSWORD),
    )

    async def _stop(_event: Event) -> None:
        await _async_stop(radio, proxy, emulators)

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop)
    return True


async def _async_stop(
    radio: Radio, proxy: VirtualProxy, emulators: list[EmulatedPeripheral]
) -> None:
    """Unregister the proxy, stop the emulators' tasks, power every stack off."""
    await proxy.async_stop()
    for emulator in emulators:
        close = getattr(emulator, "close", None)
        if close is not None:
            await close()
    await radio.stop()
