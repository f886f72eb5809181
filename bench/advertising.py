"""Legacy advertising data: build (for emulators) and parse (for the central).

Pure standard library: no Bumble, bleak or Home Assistant imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import uuid

LEGACY_ADV_MAX = 31
"""Maximum size of legacy advertising data (Core spec Vol 6, Part B 2.3.1)."""

BASE_UUID_SUFFIX = "-0000-1000-8000-00805f9b34fb"

AD_FLAGS = 0x01
AD_INCOMPLETE_16 = 0x02
AD_COMPLETE_16 = 0x03
AD_INCOMPLETE_32 = 0x04
AD_COMPLETE_32 = 0x05
AD_INCOMPLETE_128 = 0x06
AD_COMPLETE_128 = 0x07
AD_SHORT_NAME = 0x08
AD_COMPLETE_NAME = 0x09
AD_TX_POWER = 0x0A
AD_SERVICE_DATA_16 = 0x16
AD_SERVICE_DATA_32 = 0x20
AD_SERVICE_DATA_128 = 0x21
AD_MANUFACTURER = 0xFF

FLAGS_LE_GENERAL_DISCOVERABLE_NO_BREDR = 0x06


def normalize_uuid(value: str | int) -> str:
    """Return the lower-case 128-bit string form of a 16-, 32- or 128-bit UUID."""
    if isinstance(value, int):
        return f"{value:08x}{BASE_UUID_SUFFIX}"
    text = value.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if len(text) in (4, 8):
        return f"{int(text, 16):08x}{BASE_UUID_SUFFIX}"
    return str(uuid.UUID(text))


def short_uuid(value: str) -> int | None:
    """Return the 16-bit alias of a Bluetooth-base UUID, or None if it has none."""
    full = normalize_uuid(value)
    if full.endswith(BASE_UUID_SUFFIX) and full.startswith("0000"):
        return int(full[4:8], 16)
    return None


def _structure(ad_type: int, payload: bytes) -> bytes:
    return bytes((len(payload) + 1, ad_type)) + payload


def build_advertising_data(
    *,
    name: str | None,
    service_uuids: Iterable[str],
    manufacturer_data: Mapping[int, bytes] | None = None,
    service_data: Mapping[str, bytes] | None = None,
    flags: int | None = FLAGS_LE_GENERAL_DISCOVERABLE_NO_BREDR,
) -> bytes:
    """Build legacy advertising data; raise ValueError above 31 bytes.

    16-bit UUIDs go in a "complete list of 16-bit UUIDs", the others in a "complete list of
    128-bit UUIDs", the name (if any) as "complete local name".
    """
    out = bytearray()
    if flags is not None:
        out += _structure(AD_FLAGS, bytes((flags,)))
    uuids16: list[int] = []
    uuids128: list[str] = []
    for value in service_uuids:
        alias = short_uuid(value)
        if alias is None:
            uuids128.append(normalize_uuid(value))
        else:
            uuids16.append(alias)
    if uuids16:
        out += _structure(AD_COMPLETE_16, b"".join(u.to_bytes(2, "little") for u in uuids16))
    if uuids128:
        out += _structure(AD_COMPLETE_128, b"".join(uuid.UUID(u).bytes[::-1] for u in uuids128))
    for key, data in (service_data or {}).items():
        alias = short_uuid(key)
        if alias is None:
            out += _structure(
                AD_SERVICE_DATA_128, uuid.UUID(normalize_uuid(key)).bytes[::-1] + data
            )
        else:
            out += _structure(AD_SERVICE_DATA_16, alias.to_bytes(2, "little") + data)
    for company, data in (manufacturer_data or {}).items():
        out += _structure(AD_MANUFACTURER, company.to_bytes(2, "little") + data)
    if name:
        out += _structure(AD_COMPLETE_NAME, name.encode())
    if len(out) > LEGACY_ADV_MAX:
        msg = (
            f"advertising data is {len(out)} bytes, legacy advertising allows "
            f"{LEGACY_ADV_MAX}: shorten the name or drop a UUID"
        )
        raise ValueError(msg)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class ParsedAdvertisement:
    """The fields of an advertisement as bleak and Home Assistant want them."""

    local_name: str | None = None
    service_uuids: list[str] = field(default_factory=list)
    service_data: dict[str, bytes] = field(default_factory=dict)
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    tx_power: int | None = None


def _uuid_from_le(raw: bytes) -> str:
    if len(raw) in (2, 4):
        return normalize_uuid(int.from_bytes(raw, "little"))
    return str(uuid.UUID(bytes=raw[::-1]))


def parse_advertising_data(data: bytes) -> ParsedAdvertisement:
    """Parse raw AD structures (malformed tails are ignored, as real stacks do)."""
    name: str | None = None
    uuids: list[str] = []
    service_data: dict[str, bytes] = {}
    manufacturer: dict[int, bytes] = {}
    tx_power: int | None = None
    pos = 0
    while pos < len(data):
        length = data[pos]
        if length == 0 or pos + 1 + length > len(data):
            break
        ad_type = data[pos + 1]
        payload = data[pos + 2 : pos + 1 + length]
        pos += 1 + length
        if ad_type in (AD_INCOMPLETE_16, AD_COMPLETE_16):
            uuids += [_uuid_from_le(payload[i : i + 2]) for i in range(0, len(payload) - 1, 2)]
        elif ad_type in (AD_INCOMPLETE_32, AD_COMPLETE_32):
            uuids += [_uuid_from_le(payload[i : i + 4]) for i in range(0, len(payload) - 3, 4)]
        elif ad_type in (AD_INCOMPLETE_128, AD_COMPLETE_128):
            uuids += [_uuid_from_le(payload[i : i + 16]) for i in range(0, len(payload) - 15, 16)]
        elif ad_type == AD_COMPLETE_NAME or (ad_type == AD_SHORT_NAME and name is None):
            name = payload.decode(errors="replace")
        elif ad_type == AD_TX_POWER and payload:
            tx_power = int.from_bytes(payload[:1], "little", signed=True)
        elif ad_type == AD_SERVICE_DATA_16 and len(payload) >= 2:
            service_data[_uuid_from_le(payload[:2])] = bytes(payload[2:])
        elif ad_type == AD_SERVICE_DATA_32 and len(payload) >= 4:
            service_data[_uuid_from_le(payload[:4])] = bytes(payload[4:])
        elif ad_type == AD_SERVICE_DATA_128 and len(payload) >= 16:
            service_data[_uuid_from_le(payload[:16])] = bytes(payload[16:])
        elif ad_type == AD_MANUFACTURER and len(payload) >= 2:
            manufacturer[int.from_bytes(payload[:2], "little")] = bytes(payload[2:])
    return ParsedAdvertisement(name, uuids, service_data, manufacturer, tx_power)
