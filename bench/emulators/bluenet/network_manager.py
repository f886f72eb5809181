"""NetworkManager as the Bluenet daemon sees it over D-Bus.

What the daemon uses: the global ``State`` and its ``StateChanged`` signal, the access points
of the Wi-Fi device (``GetAccessPoints``), the connection named ``bluenet`` (its settings'
SSID, ``Delete``, ``AddAndActivateConnection``, ``ActivateConnection``) and the first IPv4
address of the Wi-Fi device. An activation reports CONNECTING at once and its result after
``connect_time`` (success) or ``fail_time`` (wrong password, absent network), the latter being
longer, as NetworkManager's is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
import string

from .config import BLUENET_SSID, BluenetConfig, JoinBehaviour, WifiNetwork, _BluenetSsid
from .const import (
    MAX_SSID_BYTES,
    NM_STATE_CONNECTED_GLOBAL,
    NM_STATE_CONNECTED_SITE,
    NM_STATE_CONNECTING,
    NM_STATE_DISCONNECTED,
)
from .mainloop import MainLoop


class SettingsError(Exception):
    """NetworkManager refused the settings of a new connection."""


def psk_valid(psk: str) -> bool:
    """NetworkManager's ``nm_utils_wpa_psk_valid``, on the UTF-8 bytes."""
    raw = psk.encode()
    if len(raw) == 64:
        return all(char in string.hexdigits for char in psk)
    return 8 <= len(raw) <= 63


@dataclass
class Profile:
    """The NetworkManager connection named ``bluenet``."""

    ssid: str
    psk: str | None = field(repr=False)


@dataclass
class Activation:
    """One activation of the ``bluenet`` profile (a record for assertions).

    ``started`` and ``ended`` are loop times; ``result`` is the Wi-Fi device's state at the end
    (``NM_STATE_*``), None while running or when it was cancelled.
    """

    ssid: str
    started: float
    ended: float | None = None
    result: int | None = None


class NetworkManagerModel:
    """The global state, the ``bluenet`` profile and the Wi-Fi device of one host.

    ``on_state_changed(state)`` is the daemon's ``StateChanged`` handler; it is called only when
    the global state changes.
    """

    def __init__(
        self, config: BluenetConfig, loop: MainLoop, on_state_changed: Callable[[int], None]
    ) -> None:
        """Start with no profile, Wi-Fi down and, unless configured, no other uplink."""
        self.config = config
        self._loop = loop
        self._on_state_changed = on_state_changed
        self.profile: Profile | None = None
        self.wifi_state = NM_STATE_DISCONNECTED
        self.wifi_ip: str | None = None
        self.state = NM_STATE_DISCONNECTED
        self.uplink_up = config.ethernet_uplink
        #: SSID the false CONNECTED of an OTHER_UPLINK network carries.
        self.uplink_ssid: str | None | _BluenetSsid = BLUENET_SSID
        self.activations: list[Activation] = []
        self._activation: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Boot: the initial profile is active at once if it works (no signal)."""
        if self.config.initial_profile is not None:
            ssid, psk = self.config.initial_profile
            self.profile = Profile(ssid, psk)
            network = self.visible(ssid)
            if (
                network is not None
                and network.behaviour is JoinBehaviour.NORMAL
                and network.accepts(psk)
            ):
                self.wifi_state = NM_STATE_CONNECTED_GLOBAL
                self.wifi_ip = self.config.wifi_ip
        self._recompute(signal=False)

    # ------------------------------------------------------------------ D-Bus API

    def visible(self, ssid: str | None) -> WifiNetwork | None:
        """Return the visible access point named ``ssid``, if any."""
        for network in self.config.networks:
            if network.visible and network.ssid == ssid:
                return network
        return None

    def access_points(self) -> list[str]:
        """``GetAccessPoints`` of the Wi-Fi device: one SSID per visible AP, duplicates kept."""
        return [network.ssid for network in self.config.networks if network.visible]

    def profile_ssid(self) -> str:
        """SSID in the settings of the ``bluenet`` profile ('' without a profile)."""
        return self.profile.ssid if self.profile is not None else ""

    def delete_profile(self) -> None:
        """``Delete`` the ``bluenet`` profile: an active Wi-Fi connection goes down."""
        if self.profile is None:
            return
        self.profile = None
        self._cancel_activation()
        self.wifi_ip = None
        self.wifi_state = NM_STATE_DISCONNECTED
        self._recompute()

    def add_and_activate(self, ssid: str, psk: str | None) -> None:
        """``AddAndActivateConnection``: store the profile and activate it.

        Raises :class:`SettingsError` (a D-Bus error in the daemon's thread) for settings
        NetworkManager refuses: an SSID over 32 bytes or an invalid PSK.
        """
        if len(ssid.encode()) > MAX_SSID_BYTES or (psk is not None and not psk_valid(psk)):
            raise SettingsError("802-11-wireless settings refused")
        self.profile = Profile(ssid, psk)
        self.activate()

    def activate(self) -> None:
        """``ActivateConnection`` of the ``bluenet`` profile (restarts a running activation).

        The device turns CONNECTING at once; the result follows after ``connect_time`` or
        ``fail_time``.
        """
        if self.profile is None:
            return
        self._cancel_activation()
        record = Activation(self.profile.ssid, self._loop.now())
        self.activations.append(record)
        self.wifi_ip = None
        self.wifi_state = NM_STATE_CONNECTING
        self._recompute()
        self._activation = self._loop.spawn(self._activation_run(self.profile, record))

    # ------------------------------------------------------------------ model

    def _cancel_activation(self) -> None:
        if self._activation is not None:
            self._activation.cancel()
            self._activation = None

    def _outcome(self, profile: Profile) -> tuple[int, bool]:
        """Return the state an activation of ``profile`` ends in, and if another uplink comes up.

        The second item is True for OTHER_UPLINK networks.
        """
        network = self.visible(profile.ssid)
        if network is None:
            return NM_STATE_DISCONNECTED, False
        if network.behaviour is JoinBehaviour.OTHER_UPLINK:
            return NM_STATE_DISCONNECTED, True
        if not network.accepts(profile.psk):
            return NM_STATE_DISCONNECTED, False
        if network.behaviour is JoinBehaviour.NO_INTERNET:
            return NM_STATE_CONNECTED_SITE, False
        return NM_STATE_CONNECTED_GLOBAL, False

    async def _activation_run(self, profile: Profile, record: Activation) -> None:
        wifi_state, uplink = self._outcome(profile)
        succeeds = uplink or wifi_state != NM_STATE_DISCONNECTED
        timings = self.config.timings
        await asyncio.sleep(timings.connect_time if succeeds else timings.fail_time)
        # The environment may have changed meanwhile (set_networks): decide now.
        wifi_state, uplink = self._outcome(profile)
        if uplink:
            network = self.visible(profile.ssid)
            self.uplink_ssid = network.uplink_ssid if network is not None else BLUENET_SSID
            self.uplink_up = True
        self.wifi_state = wifi_state
        self.wifi_ip = self.config.wifi_ip if wifi_state == NM_STATE_CONNECTED_GLOBAL else None
        record.ended = self._loop.now()
        record.result = wifi_state
        self._activation = None
        self._recompute()

    def _recompute(self, *, signal: bool = True) -> None:
        new = NM_STATE_CONNECTED_GLOBAL if self.uplink_up else self.wifi_state
        if new == self.state:
            return
        self.state = new
        if signal:
            self._on_state_changed(new)
