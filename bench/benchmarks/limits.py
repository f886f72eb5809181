"""The physical limit of each provisioning under the bench's link model.

The model (:mod:`bench.link.air`): with a connection interval I, a PDU goes out at the first
connection event after the one in progress, so a request delivered at event k is answered at
event k+1 and the next request, sent as soon as that answer arrived, is delivered at k+2. ATT
allows one outstanding request per bearer, and the devices here accept only Write Requests on
their write characteristics (BluFi's FF01 and Bluenet's SSID / Credentials have no
write-without-response), so **every exchange costs 2 intervals back to back**; a notification
the device sends in answer to a write rides in the same event as the write's response and costs
nothing more when the device answers within one interval.

So ``n`` exchanges take, from the delivery of the first request to the delivery of the last
answer, ``(2n - 1)·I``; a whole connection that starts with its CONNECT_IND (the anchor, first
event at +I) and carries ``m`` exchanges ends with LL_TERMINATE_IND at event ``2m + 1``:
``(2m + 1)·I``. The limits below count the *fewest* exchanges each protocol allows:

* **BluFi, secured** (V1 and V2, the version already known: no GET_VERSION):
  NEG length, NEG data (fragmented: V1 264 bytes, V2 776 bytes), SET_SEC_MODE, SET_OPMODE,
  STA_SSID, STA_PASSWD, CONN_TO_AP; the device's key and its Wi-Fi report come as
  notifications. Frame sizes follow the spec: at most 255 data bytes per frame, the frame
  (4-byte header, data, 2-byte checksum once secured) within ATT_MTU - 3, and a 2-byte length
  in every fragment but the last (``blufi-protocol.md`` §3.1).
* **BluFi, plaintext** (what pyblufi speaks): SET_OPMODE, STA_SSID, STA_PASSWD, CONN_TO_AP.
* **Bluenet**: SSID, Credentials; the outcome (state 3) and the host name are notified.
* **Set-up** of every connection: the MTU exchange, one CCCD write per characteristic whose
  notifications the protocol needs (BluFi: FF02; Bluenet: state and host name), and service
  discovery only where the profile cannot cache it (``ideal``: the exchanges its discovery
  takes; ``bluez-local`` and ``esphome-proxy`` cache services, as real stacks do).

The device is assumed to answer within one interval (the benchmarks' emulated devices join
Wi-Fi at once and compute their DH keys with short private values): the limit is the client's
and the link's, not the device's.
"""

from __future__ import annotations

from dataclasses import dataclass

FRAME_HEADER = 4
CHECKSUM = 2
FRAG_PREFIX = 2
MAX_FRAME_DATA = 255
ATT_WRITE_HEADER = 3

V1_NEG_BLOB = 2 + 128 + 2 + 1 + 2 + 128
"""V1 parameter blob: len(p) ‖ p (128) ‖ len(g) ‖ g (1) ‖ len(A) ‖ A (128)."""
V2_NEG_BLOB = 2 + 384 + 2 + 1 + 2 + 384
"""V2 parameter blob (ffdhe3072): 775 bytes."""


def frame_data_limit(mtu: int, *, checksum: bool) -> int:
    """Largest data field of one BluFi frame in one ATT write at ``mtu``."""
    room = mtu - ATT_WRITE_HEADER - FRAME_HEADER - (CHECKSUM if checksum else 0)
    return max(0, min(MAX_FRAME_DATA, room))


def blufi_frames(payload: int, mtu: int, *, checksum: bool) -> int:
    """Fewest frames (ATT writes) that carry a BluFi message of ``payload`` bytes."""
    limit = frame_data_limit(mtu, checksum=checksum)
    if limit <= FRAG_PREFIX:
        msg = f"ATT_MTU {mtu} leaves no room for a fragment"
        raise ValueError(msg)
    frames = 1
    remaining = payload
    while remaining > limit:
        remaining -= limit - FRAG_PREFIX
        frames += 1
    return frames


@dataclass(frozen=True, slots=True)
class Minimum:
    """The fewest exchanges of one provisioning (see the module)."""

    protocol: tuple[str, ...]
    """Protocol exchanges, in order (each a write with response or a read)."""
    subscriptions: int
    """CCCD writes the protocol needs on every connection."""

    @property
    def exchanges(self) -> int:
        """Protocol exchanges."""
        return len(self.protocol)

    def protocol_limit(self, interval: float) -> float:
        """Seconds from the first protocol request to the outcome: (2n - 1)·I."""
        return max(0, 2 * self.exchanges - 1) * interval

    def session_limit(self, interval: float, discovery: int = 0) -> float:
        """Seconds from CONNECT_IND to LL_TERMINATE_IND: (2m + 1)·I, m = all exchanges."""
        exchanges = 1 + discovery + self.subscriptions + self.exchanges
        return (2 * exchanges + 1) * interval


def blufi_minimum(
    *, secured: str | None, mtu: int, ssid: int, password: int, v2: bool = False
) -> Minimum:
    """BluFi's fewest exchanges; ``secured`` None for plaintext, else "V1" / "V2"."""
    steps: list[str] = []
    checksum = secured is not None
    if secured is not None:
        blob = V2_NEG_BLOB if secured == "V2" or v2 else V1_NEG_BLOB
        steps.append("NEG length")
        steps += ["NEG data"] * blufi_frames(1 + blob, mtu, checksum=False)
        steps.append("SET_SEC_MODE")
    steps.append("SET_OPMODE")
    steps += ["STA_SSID"] * blufi_frames(ssid, mtu, checksum=checksum)
    if password:
        steps += ["STA_PASSWD"] * blufi_frames(password, mtu, checksum=checksum)
    steps.append("CONN_TO_AP")
    return Minimum(tuple(steps), subscriptions=1)


def bluenet_minimum() -> Minimum:
    """Bluenet's fewest exchanges: two writes; state and host name subscribed."""
    return Minimum(("SSID", "Credentials"), subscriptions=2)


def custom_data_frames(size: int, mtu: int, *, checksum: bool) -> int:
    """Frames (one write with response each) that carry ``size`` bytes of custom data."""
    return blufi_frames(size, mtu, checksum=checksum)
