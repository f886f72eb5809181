"""Emulator of the Bluenet daemon (``zenctrl/senic-hub`` ``senic_hub/bluenet``), quirks included.

Modelled from the daemon's own code (HEAD ``c8765c5``), split by job:

* :mod:`.config` — the Wi-Fi environment (:class:`WifiNetwork`, :class:`JoinBehaviour`), every
  timer (:class:`BluenetTimings`, ``BluenetTimings.fast()`` for tests), the read race
  (:class:`ReadRace`) and :class:`BluenetConfig`;
* :mod:`.faults` — fault hooks (:class:`Faults`);
* :mod:`.network_manager` — NetworkManager as the daemon sees it;
* :mod:`.service` and :mod:`.daemon` — the daemon's GATT service and the daemon
  (:class:`BluenetDaemonModel`): GLib timers and threads on asyncio;
* :mod:`.peripheral` — :class:`BluenetDaemonEmulator`, the daemon behind BlueZ on the bench.

Where the daemon differs from a kind reading of its profile (each has a test in
``tests/bench/emulators/``): its first scan of access points comes 20 s after start; the
first state read after a credentials write races the join thread; the host name is notified
on every transition to connected, even unchanged; a read returns up to ATT_MTU - 1 bytes and
ignores the offset; a wrong password is reported later than a success.

:meth:`BluenetDaemonEmulator.close` cancels every timer and task: call it at teardown (removing
the peripheral from the radio does not stop the daemon). The emulator shares nothing with the
client but UUIDs and constants.
"""

from __future__ import annotations

from .config import (
    BLUENET_SSID,
    BluenetConfig,
    BluenetTimings,
    JoinBehaviour,
    ReadRace,
    WifiNetwork,
)
from .const import (
    ATT_UNLIKELY_ERROR,
    AVAILABLE_NETWORKS_UUID,
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    HOSTNAME_UUID,
    NM_STATE_CONNECTED_GLOBAL,
    NM_STATE_CONNECTED_SITE,
    NM_STATE_CONNECTING,
    NM_STATE_DISCONNECTED,
    SERVICE_UUID,
    SSID_UUID,
    STATE_CONNECTED,
    STATE_CONNECTING,
    STATE_DISCONNECTED,
    STATE_DOWN,
    VERSION_UUID,
)
from .daemon import BluenetDaemonModel
from .faults import Faults
from .network_manager import Activation, NetworkManagerModel, Profile
from .peripheral import BLUENET_SERVICES, BluenetDaemonEmulator
from .service import AttWriteError, BluenetServiceModel

__all__ = [
    "ATT_UNLIKELY_ERROR",
    "AVAILABLE_NETWORKS_UUID",
    "BLUENET_SERVICES",
    "BLUENET_SSID",
    "CONNECTION_STATE_UUID",
    "CREDENTIALS_UUID",
    "HOSTNAME_UUID",
    "NM_STATE_CONNECTED_GLOBAL",
    "NM_STATE_CONNECTED_SITE",
    "NM_STATE_CONNECTING",
    "NM_STATE_DISCONNECTED",
    "SERVICE_UUID",
    "SSID_UUID",
    "STATE_CONNECTED",
    "STATE_CONNECTING",
    "STATE_DISCONNECTED",
    "STATE_DOWN",
    "VERSION_UUID",
    "Activation",
    "AttWriteError",
    "BluenetConfig",
    "BluenetDaemonEmulator",
    "BluenetDaemonModel",
    "BluenetServiceModel",
    "BluenetTimings",
    "Faults",
    "JoinBehaviour",
    "NetworkManagerModel",
    "Profile",
    "ReadRace",
    "WifiNetwork",
]
