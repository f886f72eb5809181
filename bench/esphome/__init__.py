"""An emulated ESPHome Bluetooth proxy: ESPHome's native API (plaintext) on loopback.

It behaves like an ESP32 running ESPHome's ``bluetooth_proxy`` whose radio is the bench's
Bumble central, so Home Assistant reaches the emulated devices through the real client
libraries (aioesphomeapi + bleak-esphome), as it reaches real devices through a real proxy.

* :mod:`.framing` — varints and plaintext frames;
* :mod:`.messages` — the protobuf schema the installed aioesphomeapi ships;
* :mod:`.config` — identity, feature flags, slots, ESP-IDF codes;
* :mod:`.api` — one API connection (handshake, device info, ping, disconnect);
* :mod:`.proxy` — advertisements, slots, device requests;
* :mod:`.link` — one slot's BLE link and its GATT operations; :mod:`.gatt` — discovery;
* :mod:`.server` — the TCP server;
* :mod:`.ha` — wiring into Home Assistant (``start_esphome_proxy``; imports HA).
"""

from __future__ import annotations

from .config import EspCode, ProxyConfig, ProxyIdentity
from .ha import EsphomeProxyHandle, start_esphome_proxy
from .server import EsphomeProxyServer

__all__ = [
    "EspCode",
    "EsphomeProxyHandle",
    "EsphomeProxyServer",
    "ProxyConfig",
    "ProxyIdentity",
    "start_esphome_proxy",
]
