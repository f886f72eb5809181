"""What identifies a provisioned device on the IP network (no Home Assistant imports).

A device provisioned over BLE is known by its Bluetooth address; on the Wi-Fi network it is
known by another MAC address (and perhaps a host name). Nothing the BLE link offers states the
Wi-Fi MAC, so this module only derives *candidates*, which the network has to confirm:

* **ESP32 (BluFi).** ESP-IDF derives every interface MAC from one eFuse base MAC by adding an
  offset to the last octet only, as an 8-bit value without carry: station = base,
  Bluetooth = base + 2 (the default of four universal MACs on ESP32, S3, C3, C6, C2, C5, C61).
  So the station MAC is the Bluetooth address - 2 on the last octet, mod 256. That holds only for
  the chip's **public** Bluetooth address: a random (static or private) address carries no
  relation to it, and a chip configured with two universal MACs, a custom base MAC or a
  per-interface MAC breaks the rule, which is why the result is a candidate, never a fact.
* **Bluenet (Linux daemon).** Its Bluetooth address is the host adapter's, unrelated to the
  Wi-Fi NIC: no MAC candidate; the daemon reports a host name (or a URL), which identifies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .models import Protocol

#: ESP-IDF's Bluetooth MAC offset from the base (= station) MAC with four universal MACs.
ESP32_BT_OFFSET = 2


class AddressType(IntEnum):
    """Bluetooth address type as the HCI layer reports it (0 public, 1 random)."""

    PUBLIC = 0
    RANDOM = 1


def normalize_mac(value: str) -> str | None:
    """Return ``value`` as ``aa:bb:cc:dd:ee:ff``, or None when it is not a 48-bit MAC.

    Accepts colons, hyphens, dots or no separators, in either case.
    """
    digits = "".join(ch for ch in value if ch not in ":-.").lower()
    if len(digits) != 12 or any(ch not in "0123456789abcdef" for ch in digits):
        return None
    return ":".join(digits[index : index + 2] for index in range(0, 12, 2))


def is_public_address(address: str, address_type: AddressType | None = None) -> bool:
    """Whether ``address`` can be a chip's public (universally administered) address.

    With the address type known (the HCI layer reports it), that decides. Without it, an address
    whose two top bits are ``11`` is a static random one, and one with the locally administered
    bit set is not a universal (IEEE-assigned) address either; anything else is taken as public.
    """
    mac = normalize_mac(address)
    if mac is None:
        return False
    if address_type is not None:
        return address_type is AddressType.PUBLIC
    first = int(mac[:2], 16)
    return (first & 0xC0) != 0xC0 and not first & 0x02


def esp32_wifi_mac_candidates(
    ble_address: str, address_type: AddressType | None = None
) -> tuple[str, ...]:
    """Return the ESP32 Wi-Fi station MAC candidates for ``ble_address`` (maybe none).

    One candidate (BLE - 2 on the last octet, mod 256, no carry) for a public address; none for
    a random or malformed one.
    """
    mac = normalize_mac(ble_address)
    if mac is None or not is_public_address(mac, address_type):
        return ()
    last = (int(mac[-2:], 16) - ESP32_BT_OFFSET) % 256
    return (f"{mac[:-2]}{last:02x}",)


@dataclass(frozen=True, slots=True)
class NetworkIdentity:
    """How a provisioned device may show up on the IP network."""

    mac_candidates: tuple[str, ...] = ()
    """Wi-Fi MACs the device probably uses (``aa:bb:cc:dd:ee:ff``), to be confirmed."""
    hostname: str | None = None
    """The host name (or URL) the device reports about itself, when it reports one."""

    def matches_mac(self, mac: str) -> bool:
        """Whether ``mac`` (any common notation) is one of the candidates."""
        return normalize_mac(mac) in self.mac_candidates


def network_identity(
    protocol: Protocol,
    ble_address: str,
    *,
    address_type: AddressType | None = None,
    hostname: str | None = None,
) -> NetworkIdentity:
    """Return the network identity of a device provisioned over ``protocol``.

    BluFi devices are ESP32s: the Wi-Fi MAC candidate from the Bluetooth address (and the host
    name when one is known). Bluenet daemons: the host name they report, no MAC candidate.
    """
    if protocol is Protocol.BLUFI:
        return NetworkIdentity(esp32_wifi_mac_candidates(ble_address, address_type), hostname)
    return NetworkIdentity((), hostname)
