"""Configuration of one emulated Bluenet daemon: Wi-Fi environment, timers, races, faults."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
import enum
import hashlib
import string

from .faults import Faults


class JoinBehaviour(enum.Enum):
    """What happens when NetworkManager activates a profile for a network."""

    #: Joins if the PSK matches (passphrase or 64-hex raw PSK), else fails (2 → 1).
    NORMAL = "normal"
    #: Associates but has no internet: NM reaches CONNECTED_SITE, Bluenet stays at 2.
    NO_INTERNET = "no_internet"
    #: Wi-Fi fails, but another uplink makes NM CONNECTED_GLOBAL: 2 → 3 with
    #: :attr:`WifiNetwork.uplink_ssid` (the bluenet SSID by default), Wi-Fi has no address.
    OTHER_UPLINK = "other_uplink"
    #: The join thread dies after deleting the old profile (as with an invalid PSK).
    FREEZE = "freeze"


class _BluenetSsid:
    """Type of :data:`BLUENET_SSID`."""

    def __repr__(self) -> str:
        return "BLUENET_SSID"


#: Default of :attr:`WifiNetwork.uplink_ssid`: the SSID of the ``bluenet`` profile.
BLUENET_SSID = _BluenetSsid()


@dataclass
class WifiNetwork:
    """One access point of the emulated radio environment.

    ``password`` None means an open network. ``uplink_ssid`` applies to
    :attr:`JoinBehaviour.OTHER_UPLINK`: the SSID the false CONNECTED carries (default
    :data:`BLUENET_SSID`: the SSID of the ``bluenet`` profile; ``None``: no SSID; a string:
    that SSID).
    """

    ssid: str
    password: str | None = None
    behaviour: JoinBehaviour = JoinBehaviour.NORMAL
    visible: bool = True
    uplink_ssid: str | None | _BluenetSsid = BLUENET_SSID

    def accepts(self, psk: str | None) -> bool:
        """Whether the credentials of a profile open this network."""
        if self.password is None:
            return psk is None
        if psk is None:
            return False
        if psk == self.password:
            return True
        if len(psk) == 64 and all(char in string.hexdigits for char in psk):
            derived = hashlib.pbkdf2_hmac(
                "sha1", self.password.encode(), self.ssid.encode(), 4096, 32
            )
            return derived.hex() == psk.lower()
        return False


class ReadRace(enum.Enum):
    """What the first connection-state read after a credentials write answers.

    The daemon answers the credentials write at once and joins in a thread
    (``_configure_wlan``: look up the device, delete the ``bluenet`` profile, add and activate
    the new one), while its GLib main loop answers reads and relays NetworkManager's signals as
    notifications. A read right after the write therefore races the thread. The real daemon
    (run with BlueZ and NetworkManager replaced) answered with the pre-join state, "1" or the
    new "2", depending on thread timing.
    """

    #: From the modelled timing: the thread deletes the old profile as soon as it starts (its
    #: D-Bus look-ups are far shorter than a BLE round trip) and activates the new one
    #: ``join_delay`` later; the read answers whatever the state is when it arrives.
    TIMED = "timed"
    #: The answer was taken before the thread did anything (e.g. "3" + the old SSID), and it
    #: reaches the central after the join's first notifications ("1", "2" + new SSID): the
    #: answer is held until the thread has activated the new profile.
    PRE_JOIN = "pre_join"
    #: The answer was taken right after the old profile was deleted ("1").
    DELETED = "deleted"
    #: The answer was taken once the activation had started ("2" + new SSID).
    CONNECTING = "connecting"
    #: One of PRE_JOIN, DELETED, CONNECTING per join, drawn from ``BluenetConfig.seed``.
    RANDOM = "random"


@dataclass(frozen=True)
class BluenetTimings:
    """Every delay of the daemon and of the NetworkManager model, in seconds.

    The daemon's own constants (senic-hub ``bluenet.py`` / ``bluenet_gatt_service.py``):
    ``notify_interval`` (300 ms), ``list_pause`` (3000 ms), ``rescan_interval`` (20 s),
    ``discard_time`` (60 s), and ``first_scan``: the scan thread checks the advertising flag
    before the state thread has set it, so its first scan comes one ``rescan_interval`` after
    start. The rest model NetworkManager and the join thread and are assumptions, not
    measurements: ``join_delay`` (from deleting the old profile to activating the new one),
    ``connect_time`` (CONNECTING until the join succeeds) and ``fail_time`` (CONNECTING until
    a wrong password or an absent network fails: NetworkManager waits for the supplicant's
    4-way handshake to give up and then for new secrets, so a failure comes later than a
    success).
    """

    notify_interval: float = 0.3
    list_pause: float = 3.0
    rescan_interval: float = 20.0
    first_scan: float = 20.0
    discard_time: float = 60.0
    join_delay: float = 0.2
    connect_time: float = 2.0
    fail_time: float = 6.0

    @classmethod
    def fast(cls, scale: float = 0.01) -> BluenetTimings:
        """Return every default timer multiplied by ``scale`` (the ratios are kept)."""
        base = cls()
        return replace(
            base, **{item.name: getattr(base, item.name) * scale for item in fields(base)}
        )


@dataclass
class BluenetConfig:
    """Configuration of one emulated daemon."""

    hostname_template: str = "http://%IP:6543/-/"
    version: str = "1.0"
    #: IPv4 address the Wi-Fi interface gets when a join succeeds.
    wifi_ip: str = "192.168.178.100"
    networks: list[WifiNetwork] = field(default_factory=list)
    timings: BluenetTimings = field(default_factory=BluenetTimings)
    #: Another interface (Ethernet) gives CONNECTED_GLOBAL from the start.
    ethernet_uplink: bool = False
    #: A ``bluenet`` profile that exists at start (SSID, PSK or None); active if it works.
    initial_profile: tuple[str, str | None] | None = None
    faults: Faults = field(default_factory=Faults)
    #: The first connection-state read after a credentials write (see :class:`ReadRace`).
    read_race: ReadRace = ReadRace.TIMED
    #: Seed of :attr:`ReadRace.RANDOM`.
    seed: int = 0
    #: Read Blob requests at or past this offset get "Invalid Offset". A BlueZ central stops a
    #: long read there by itself (``BT_ATT_MAX_VALUE_LEN``); the bench's Bumble central has no
    #: limit and would read the daemon's repeated prefix forever. None: never refuse.
    long_read_limit: int | None = 512
