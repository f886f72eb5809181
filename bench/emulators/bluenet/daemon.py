"""The Bluenet daemon (senic-hub ``bluenet.py``, HEAD ``c8765c5``), without a radio.

:class:`BluenetDaemonModel` is the GATT service of :mod:`.service` plus what ``BluenetDaemon``
does around it, thread by thread:

* **start** (``run``): the host name is computed once for the service; the scan thread starts,
  then the state thread maps NetworkManager's initial state and starts advertising. The scan
  thread's first look at the advertising flag comes before that, so its first scan comes one
  sleep later: ``first_scan`` (20 s) after start, and until then the network list is empty.
* **state thread** (``on_state_changed``, on NetworkManager's ``StateChanged``): global state
  ≥ 70 → 3, 40-60 → 2, else 1; the SSID is re-read from the ``bluenet`` profile on every
  signal, but the characteristic changes (and notifies) only when the state number changes;
  every transition to 3 recomputes the host name and notifies it, even when it is unchanged.
* **scan thread** (``_scan_wifi_loop``): every ``rescan_interval`` while advertising and not
  joining: NetworkManager's access points into a first-seen dict (dropped after
  ``discard_time``), handed to the service as a live view; a known network that reappears while
  DISCONNECTED is re-activated (the 2 ↔ 1 bouncing after a wrong password).
* **join thread** (``_configure_wlan``, started by the credentials write, which is answered at
  once): delete the ``bluenet`` profile, then ``join_delay`` later add and activate the new one
  (wpa-psk, or open for an empty password); a second credentials write while it runs is
  ignored; NetworkManager refusing the settings (invalid PSK, SSID over 32 bytes) kills the
  thread after the deletion: ``is_joining`` stays set, nothing is reported, scans stop.

The first state read after a credentials write races the join thread: see
:class:`~.config.ReadRace` and :meth:`BluenetDaemonModel.read_value`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import logging
import random

from .config import BluenetConfig, JoinBehaviour, ReadRace, WifiNetwork, _BluenetSsid
from .const import (
    CONNECTION_STATE_UUID,
    NM_STATE_CONNECTED_GLOBAL,
    NM_STATE_DISCONNECTING,
    STATE_CONNECTED,
    STATE_CONNECTING,
    STATE_DISCONNECTED,
    STATE_DOWN,
)
from .network_manager import NetworkManagerModel, Profile, SettingsError
from .service import BluenetServiceModel, Drop, Send

_LOGGER = logging.getLogger(__name__)

#: What :attr:`ReadRace.RANDOM` draws from.
_RACES = (ReadRace.PRE_JOIN, ReadRace.DELETED, ReadRace.CONNECTING)


@dataclass
class _Race:
    """The answer of the first state read after one credentials write."""

    kind: ReadRace
    pre_join: bytes
    deleted: bytes | None = None
    activating: bytes | None = None
    deleted_event: asyncio.Event = field(default_factory=asyncio.Event)
    done_event: asyncio.Event = field(default_factory=asyncio.Event)


class BluenetDaemonModel(BluenetServiceModel):
    """The daemon and its NetworkManager, without any radio (see the module docstring).

    ``send`` is called with ``(uuid, value)`` for each notification the daemon emits while the
    central is subscribed; ``drop`` asks the GATT layer to disconnect the central.
    """

    def __init__(self, config: BluenetConfig, *, send: Send, drop: Drop) -> None:
        """Create the model; :meth:`start` runs it."""
        super().__init__(config, send=send, drop=drop)
        self.nm = NetworkManagerModel(config, self.loop, self._on_nm_state_changed)
        self.wifi_status = STATE_DOWN
        self.current_ssid: str | None = None
        self.is_joining = False
        self.join_task: asyncio.Task[None] | None = None
        self.frozen = False
        self.advertising = False
        self.found_ssids: dict[str, float] = {}
        self._random = random.Random(config.seed)
        self._race: _Race | None = None
        # Records for assertions.
        self.started_at: float | None = None
        self.joins: list[str | None] = []
        self.scans = 0
        #: Loop time of every scan of the access points.
        self.scan_times: list[float] = []
        #: The race drawn for each join (``TIMED`` unless configured otherwise).
        self.read_races: list[ReadRace] = []
        #: Every state read answered: (state notifications emitted before it, value).
        self.state_answers: list[tuple[int, bytes]] = []

    # ------------------------------------------------------------------ NetworkManager view

    @property
    def profile(self) -> Profile | None:
        """The ``bluenet`` profile NetworkManager holds."""
        return self.nm.profile

    @property
    def nm_state(self) -> int:
        """NetworkManager's global state."""
        return self.nm.state

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """``BluenetDaemon.run``: service, scan thread, state thread (advertising starts)."""
        self.started_at = self.loop.now()
        self.nm.start()
        self.hostname = self._compute_hostname()
        self.loop.spawn(self._scan_wifi_loop())
        self._on_nm_state_changed(self.nm.state)

    async def close(self) -> None:
        """Cancel every timer and task."""
        await self.loop.close(self._network_chain)

    # ------------------------------------------------------------------ reads

    async def read_value(self, uuid: str) -> bytes:
        """``ReadValue`` as the central gets it (full value; BlueZ cuts what goes on air).

        The first connection-state read after a credentials write answers as the configured
        :class:`ReadRace` says; for PRE_JOIN and CONNECTING the answer leaves only after the
        join thread has activated the new profile and its notifications have gone out.
        """
        value = await self._answer(uuid)
        if uuid == CONNECTION_STATE_UUID:
            self.state_answers.append((len(self.states_notified()), value))
        return value

    async def _answer(self, uuid: str) -> bytes:
        race = self._race if uuid == CONNECTION_STATE_UUID else None
        if race is None:
            return self.read(uuid)
        self._race = None
        if race.kind is ReadRace.DELETED:
            await race.deleted_event.wait()
            assert race.deleted is not None
            return race.deleted
        if race.kind in (ReadRace.PRE_JOIN, ReadRace.CONNECTING):
            await race.done_event.wait()
            await self.flush_notifications()
            if race.kind is ReadRace.PRE_JOIN:
                return race.pre_join
            return race.activating if race.activating is not None else self.read(uuid)
        return self.read(uuid)

    # ------------------------------------------------------------------ join thread

    def credentials_received(self, ssid: str | None, credentials: str) -> None:
        """Join: the service calls this on a credentials write."""
        self.join_network(ssid, credentials)

    def join_network(self, ssid: str | None, credentials: str) -> None:
        """``BluenetDaemon.join_network``: start the join thread unless one is running."""
        if self.join_task is not None and not self.join_task.done():
            _LOGGER.warning("Cannot join network while previous joining is still in process")
            return
        self.joins.append(ssid)
        kind = self.config.read_race
        if kind is ReadRace.RANDOM:
            kind = self._random.choice(_RACES)
        self.read_races.append(kind)
        race = _Race(kind, pre_join=self.state_payload())
        self._race = race
        self.join_task = self.loop.spawn(self._configure_wlan(ssid, credentials, race))

    async def _configure_wlan(self, ssid: str | None, password: str, race: _Race) -> None:
        try:
            self.is_joining = ssid is not None
            self.nm.delete_profile()
            race.deleted = self.state_payload()
            race.deleted_event.set()
            await asyncio.sleep(self.config.timings.join_delay)
            network = self.nm.visible(ssid) if ssid else None
            if network is not None and network.behaviour is JoinBehaviour.FREEZE:
                self._freeze("join failed inside NetworkManager")
                return
            if ssid:
                try:
                    self.nm.add_and_activate(ssid, password or None)
                except SettingsError as err:
                    self._freeze(str(err))
                    return
            race.activating = self.state_payload()
            self.is_joining = False
        finally:
            race.deleted_event.set()
            race.done_event.set()

    def _freeze(self, reason: str) -> None:
        """Die like the join thread: ``_is_joining_wifi`` stays set, nothing is reported."""
        _LOGGER.debug("join thread died: %s", reason)
        self.frozen = True

    # ------------------------------------------------------------------ scan thread

    async def _scan_wifi_loop(self) -> None:
        # The first check of the advertising flag comes before the state thread set it.
        await asyncio.sleep(self.config.timings.first_scan)
        while True:
            if self.advertising and not self.is_joining:
                self._scan_wifi_networks()
            await asyncio.sleep(self.config.timings.rescan_interval)

    def _scan_wifi_networks(self) -> None:
        self.scans += 1
        now = self.loop.now()
        self.scan_times.append(now)
        for ssid in self.nm.access_points():
            self.found_ssids[ssid] = now
        for ssid, last_seen in list(self.found_ssids.items()):
            if now - last_seen > self.config.timings.discard_time:
                del self.found_ssids[ssid]
        if self.current_ssid in self.found_ssids and self.wifi_status == STATE_DISCONNECTED:
            # "Known network reappeared, trying to reconnect to it."
            self.nm.activate()
        self.ssids = self.found_ssids.keys()  # a live view, as the daemon hands over

    # ------------------------------------------------------------------ state thread

    def _on_nm_state_changed(self, nm_state: int) -> None:
        """``on_state_changed`` of the daemon (HEAD, NetworkManager D-Bus version)."""
        if nm_state >= NM_STATE_CONNECTED_GLOBAL:
            new_status = STATE_CONNECTED
        elif nm_state > NM_STATE_DISCONNECTING:
            new_status = STATE_CONNECTING
        else:
            new_status = STATE_DISCONNECTED
        self.current_ssid = self.nm.profile_ssid()
        uplink = self.nm.uplink_ssid
        if new_status == STATE_CONNECTED and not isinstance(uplink, _BluenetSsid):
            # Emulator extension: a false CONNECTED may carry another SSID, or none.
            self.current_ssid = uplink or ""
        if new_status == self.wifi_status:
            return
        self.wifi_status = new_status
        self.set_connection_state(new_status, self.current_ssid)
        if new_status == STATE_CONNECTED:
            self.set_hostname(self._compute_hostname())
        self.advertising = True  # _update_advertising_state without --auto-advertise

    def _compute_hostname(self) -> str:
        template = self.config.hostname_template
        if "%IP" in template:
            ip = self.nm.wifi_ip
            return template.replace("%IP", ip) if ip else ""
        return template

    # ------------------------------------------------------------------ environment control

    def set_networks(self, networks: list[WifiNetwork]) -> None:
        """Replace the radio environment (seen at the next rescan)."""
        self.config.networks = list(networks)
