"""Constants of the Bluenet GATT profile (Senic ``bluenet`` daemon)."""

from __future__ import annotations

from enum import IntEnum
from typing import Final


def _uuid(short: int) -> str:
    return f"fbe5{short:04x}-b3e6-4f68-b6da-410c0bba1a78"


#: Primary service, advertised as the only 128-bit service UUID (no local name).
SERVICE_UUID: Final = _uuid(0x1523)
#: Available networks: notify only, one UTF-8 SSID per notification.
AVAILABLE_NETWORKS_UUID: Final = _uuid(0x1524)
#: Connection state: read + notify; byte 0 = :class:`BluenetState`, then the SSID (UTF-8).
CONNECTION_STATE_UUID: Final = _uuid(0x1525)
#: Host name (in production an API URL): read + notify, UTF-8.
HOSTNAME_UUID: Final = _uuid(0x1526)
#: Version of the service: read, always ``"1.0"`` on real daemons.
VERSION_UUID: Final = _uuid(0x1527)
#: SSID to join: write with response, strict UTF-8.
SSID_UUID: Final = _uuid(0x1528)
#: Credentials (Wi-Fi password): write with response, strict UTF-8; writing it starts the join.
CREDENTIALS_UUID: Final = _uuid(0x1529)

#: Every characteristic the client relies on.
REQUIRED_CHARACTERISTICS: Final = (
    AVAILABLE_NETWORKS_UUID,
    CONNECTION_STATE_UUID,
    HOSTNAME_UUID,
    VERSION_UUID,
    SSID_UUID,
    CREDENTIALS_UUID,
)

#: A notification carries at most ``ATT_MTU - 3`` bytes of value: BlueZ cuts the daemon's longer
#: values there.
NOTIFICATION_HEADER: Final = 3
#: A Read (or Read Blob) Response carries at most ``ATT_MTU - 1`` bytes of value. The daemon
#: ignores read offsets, so a long read only repeats those bytes.
READ_HEADER: Final = 1
#: What a BlueZ central reads at most (``BT_ATT_MAX_VALUE_LEN``): a long read stops there.
MAX_READ_LENGTH: Final = 512


class BluenetState(IntEnum):
    """Byte 0 of the connection state characteristic."""

    DOWN = 0
    DISCONNECTED = 1
    CONNECTING = 2
    CONNECTED = 3
