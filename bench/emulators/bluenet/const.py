"""Constants of the Bluenet daemon, of BlueZ and of NetworkManager (no behaviour here)."""

from __future__ import annotations

from typing import Final


def _uuid(short: int) -> str:
    return f"fbe5{short:04x}-b3e6-4f68-b6da-410c0bba1a78"


SERVICE_UUID: Final = _uuid(0x1523)
AVAILABLE_NETWORKS_UUID: Final = _uuid(0x1524)
CONNECTION_STATE_UUID: Final = _uuid(0x1525)
HOSTNAME_UUID: Final = _uuid(0x1526)
VERSION_UUID: Final = _uuid(0x1527)
SSID_UUID: Final = _uuid(0x1528)
CREDENTIALS_UUID: Final = _uuid(0x1529)

#: ATT "Read Not Permitted": BlueZ refuses a read of a characteristic without the read flag.
ATT_READ_NOT_PERMITTED: Final = 0x02
#: ATT "Invalid Offset".
ATT_INVALID_OFFSET: Final = 0x07
#: ATT "Unlikely Error": what BlueZ answers when an application's WriteValue raises.
ATT_UNLIKELY_ERROR: Final = 0x0E
#: BlueZ truncates an application's value to this many bytes (``BT_ATT_MAX_VALUE_LEN``), and
#: its GATT client ends a long read once it holds at least this many.
BT_ATT_MAX_VALUE_LEN: Final = 512

# NetworkManager global states (NMState).
NM_STATE_UNKNOWN: Final = 0
NM_STATE_DISCONNECTED: Final = 20
NM_STATE_DISCONNECTING: Final = 30
NM_STATE_CONNECTING: Final = 40
NM_STATE_CONNECTED_LOCAL: Final = 50
NM_STATE_CONNECTED_SITE: Final = 60
NM_STATE_CONNECTED_GLOBAL: Final = 70

# WifiConnectionState of the daemon (byte 0 of the connection state characteristic).
STATE_DOWN: Final = 0
STATE_DISCONNECTED: Final = 1
STATE_CONNECTING: Final = 2
STATE_CONNECTED: Final = 3

#: The longest SSID NetworkManager stores (IEEE 802.11).
MAX_SSID_BYTES: Final = 32
