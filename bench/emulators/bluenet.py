"""Emulator of the Bluenet daemon (``zenctrl/senic-hub`` ``senic_hub/bluenet``), quirks included.

The daemon logic (:class:`BluenetDaemonModel`) mirrors the original code closely: GLib timers
become ``loop.call_later`` handles, the scan / join threads become tasks, and NetworkManager is
a small model (a list of :class:`WifiNetwork` plus the global state).
:class:`BluenetDaemonEmulator` exposes it over GATT on the bench.

Behaviour reproduced (spec ``bluenet-profile.md`` §1.2-1.9):

* service ``FBE51523-…`` with 1524 notify, 1525 read+notify, 1526 read+notify, 1527 read
  (``"1.0"``), 1528 / 1529 write with response; the advertisement carries only the 128-bit
  service UUID (no name, no TX power, no manufacturer data);
* the network list loop: one SSID every ``notify_interval``, ``list_pause`` after a full round,
  polling while the list is empty, an ``''`` SSID ends the round (hidden-SSID cut-off), a
  subscribe while "already notifying" does nothing, and a StopNotify + StartNotify within one
  tick leaves two timer chains running (``model.network_chains_at_start`` records it);
* a rescan every ``rescan_interval`` (first-seen order, dropped after ``discard_time``), none
  while joining; a known network that reappears while DISCONNECTED is re-activated (the 2 ↔ 1
  bouncing after a wrong password);
* the state machine: NM global state → 1/2/3, notified only when the number changes, SSID from
  the ``bluenet`` profile (refreshed only on an NM state signal); the host name template with
  ``%IP`` replaced by the Wi-Fi address on each transition to CONNECTED;
* writes: strict UTF-8 (ATT error otherwise); SSID kept in memory across connections;
  credentials without an SSID delete the profile; empty credentials join an open network; a
  second credentials write while the join task runs is ignored; an invalid PSK (or an SSID over
  32 bytes) kills the join task after the profile was deleted: nothing reported, scans stop;
* reads longer than ``mtu - 3`` return ``value[:mtu - 3]`` whatever the offset;
* fault hooks (:class:`Faults`): device-initiated disconnect after N writes / N state or network
  notifications, stop the network stream (the "dictionary changed size" crash, also
  :meth:`BluenetDaemonModel.stop_network_stream`), hang reads or writes; a network with
  :attr:`JoinBehaviour.FREEZE` freezes the join.

Records for assertions: ``model.writes`` (accepted writes, in order), ``model.notifications``,
``model.joins``, ``model.scans``, ``model.frozen``. The Wi-Fi environment can change at run time
(:meth:`BluenetDaemonModel.set_networks`; seen at the next rescan).

Every timer is configurable (:class:`BluenetTimings`, ``BluenetTimings.fast()`` for tests).
:meth:`BluenetDaemonEmulator.close` cancels every timer and task: call it at teardown (removing
the peripheral from the radio does not stop the daemon).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
from dataclasses import dataclass, field, replace
import enum
import hashlib
import logging
import string
from typing import Any

from bench.device import (
    AttError,
    Connection,
    EmulatedPeripheral,
    GattCharacteristic,
    GattService,
    Prop,
)

_LOGGER = logging.getLogger(__name__)


def _uuid(short: int) -> str:
    return f"fbe5{short:04x}-b3e6-4f68-b6da-410c0bba1a78"


SERVICE_UUID = _uuid(0x1523)
AVAILABLE_NETWORKS_UUID = _uuid(0x1524)
CONNECTION_STATE_UUID = _uuid(0x1525)
HOSTNAME_UUID = _uuid(0x1526)
VERSION_UUID = _uuid(0x1527)
SSID_UUID = _uuid(0x1528)
CREDENTIALS_UUID = _uuid(0x1529)

#: ATT "Unlikely Error": what BlueZ answers when an application's WriteValue raises.
ATT_UNLIKELY_ERROR = 0x0E

# NetworkManager global states (NMState).
NM_STATE_DISCONNECTED = 20
NM_STATE_CONNECTING = 40
NM_STATE_CONNECTED_SITE = 60
NM_STATE_CONNECTED_GLOBAL = 70

STATE_DOWN = 0
STATE_DISCONNECTED = 1
STATE_CONNECTING = 2
STATE_CONNECTED = 3


class JoinBehaviour(enum.Enum):
    """What happens when NetworkManager activates a profile for a network."""

    #: Joins if the PSK matches (passphrase or 64-hex raw PSK), else fails (2 → 1).
    NORMAL = "normal"
    #: Associates but has no internet: NM reaches CONNECTED_SITE, Bluenet stays at 2.
    NO_INTERNET = "no_internet"
    #: Wi-Fi fails, but another uplink makes NM CONNECTED_GLOBAL: 2 → 3 with
    #: :attr:`WifiNetwork.uplink_ssid` (the bluenet SSID by default), Wi-Fi has no address.
    OTHER_UPLINK = "other_uplink"
    #: The join task dies after deleting the old profile (as with an invalid PSK).
    FREEZE = "freeze"


_BLUENET_SSID = object()


@dataclass
class WifiNetwork:
    """One access point of the emulated radio environment.

    ``password`` None means an open network. ``uplink_ssid`` applies to
    :attr:`JoinBehaviour.OTHER_UPLINK`: the SSID the false CONNECTED carries (default: the SSID of
    the ``bluenet`` profile; ``None``: no SSID; a string: that SSID).
    """

    ssid: str
    password: str | None = None
    behaviour: JoinBehaviour = JoinBehaviour.NORMAL
    visible: bool = True
    uplink_ssid: str | None | object = _BLUENET_SSID

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


@dataclass(frozen=True)
class BluenetTimings:
    """Every delay of the daemon and of the NetworkManager model, in seconds."""

    notify_interval: float = 0.3
    list_pause: float = 3.0
    rescan_interval: float = 20.0
    discard_time: float = 60.0
    #: Join task: delete the profile, then add and activate after this delay.
    join_delay: float = 0.2
    #: NM activation: CONNECTING lasts this long before the result.
    connect_time: float = 2.0

    @classmethod
    def fast(cls, scale: float = 0.01) -> BluenetTimings:
        """Return every default timer multiplied by ``scale`` (tests)."""
        base = cls()
        return replace(
            base,
            notify_interval=base.notify_interval * scale,
            list_pause=base.list_pause * scale,
            rescan_interval=base.rescan_interval * scale,
            discard_time=base.discard_time * scale,
            join_delay=base.join_delay * scale,
            connect_time=base.connect_time * scale,
        )


@dataclass
class Faults:
    """Fault hooks; each counter is checked after the matching event."""

    #: Device-initiated disconnect right after the Nth accepted write (1-based).
    disconnect_after_writes: int | None = None
    #: Device-initiated disconnect after the Nth connection-state notification.
    disconnect_after_state_notifications: int | None = None
    #: Device-initiated disconnect after the Nth network notification.
    disconnect_after_network_notifications: int | None = None
    #: The network timer chain dies (``dict changed size``) after the Nth network notification.
    stop_stream_after_network_notifications: int | None = None
    #: Reads / writes never get an answer (until the emulator is closed).
    hang_reads: bool = False
    hang_writes: bool = False


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
    #: A ``bluenet`` profile that exists at start (SSID, PSK or None); activated if visible.
    initial_profile: tuple[str, str | None] | None = None
    faults: Faults = field(default_factory=Faults)


@dataclass
class _Profile:
    ssid: str
    psk: str | None = field(repr=False)


class AttWriteError(Exception):
    """A write the daemon rejects; the GATT layer turns it into an ATT error response."""

    def __init__(self, code: int, message: str) -> None:
        """Keep the ATT error code."""
        super().__init__(message)
        self.code = code


def _nm_psk_valid(psk: str) -> bool:
    """NetworkManager's ``nm_utils_wpa_psk_valid`` on the UTF-8 bytes."""
    raw = psk.encode()
    if len(raw) == 64:
        return all(char in string.hexdigits for char in psk)
    return 8 <= len(raw) <= 63


class BluenetDaemonModel:
    """The daemon and its NetworkManager, without any radio.

    ``send`` is called with ``(uuid, value)`` for each notification the daemon emits while the
    central is subscribed; ``drop`` asks the GATT layer to disconnect the central.
    """

    def __init__(
        self,
        config: BluenetConfig,
        *,
        send: Callable[[str, bytes], Coroutine[Any, Any, None]],
        drop: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        """Create the model; :meth:`start` runs it."""
        self.config = config
        self._send = send
        self._drop = drop
        self._handles: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        # NetworkManager model.
        self.profile: _Profile | None = None
        self.wifi_state = NM_STATE_DISCONNECTED
        self.wifi_ip: str | None = None
        self.nm_state = NM_STATE_DISCONNECTED
        self.uplink_up = config.ethernet_uplink
        self._uplink_ssid: str | None | object = _BLUENET_SSID
        self._activation: asyncio.Task[None] | None = None
        # Daemon.
        self.wifi_status = STATE_DOWN
        self.current_ssid: str | None = None
        self.is_joining = False
        self.join_task: asyncio.Task[None] | None = None
        self.frozen = False
        self.found_ssids: dict[str, float] = {}
        self.hostname = ""
        # Characteristics.
        self.char_state = STATE_DISCONNECTED
        self.char_state_ssid: str | None = None
        self.state_notifying = False
        self.hostname_notifying = False
        self.networks_notifying = False
        self.written_ssid: str | None = None
        self.written_credentials: str | None = None
        self._ssids_sent: list[str] = []
        self._network_chain: set[asyncio.TimerHandle] = set()
        # Records for assertions.
        self.writes: list[tuple[str, bytes]] = []
        self.notifications: list[tuple[str, bytes]] = []
        self.joins: list[str | None] = []
        self.scans = 0
        #: Live network timer chains right after each StartNotify (2+ = the duplicate-loop bug).
        self.network_chains_at_start: list[int] = []
        self._state_notification_count = 0
        self._network_notification_count = 0

    # -------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Run the daemon: initial NM state, profile, scan loop."""
        self.hostname = self._compute_hostname()
        if self.uplink_up:
            self.nm_state = NM_STATE_CONNECTED_GLOBAL
        if self.config.initial_profile is not None:
            ssid, psk = self.config.initial_profile
            self.profile = _Profile(ssid, psk)
            network = self._visible(ssid)
            if (
                network is not None
                and network.behaviour is JoinBehaviour.NORMAL
                and network.accepts(psk)
            ):
                self.wifi_state = NM_STATE_CONNECTED_GLOBAL
                self.wifi_ip = self.config.wifi_ip
                self._recompute_nm(signal=False)
        self._on_nm_state_changed()
        self._spawn(self._scan_loop())

    async def close(self) -> None:
        """Cancel every timer and task."""
        self._closed = True
        for handle in (*self._handles, *self._network_chain):
            handle.cancel()
        self._handles.clear()
        self._network_chain.clear()
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _timeout_add(
        self, delay: float, callback: Callable[[], bool], chain: set[asyncio.TimerHandle] | None
    ) -> None:
        """``GObject.timeout_add``: call repeatedly while the callback returns True."""
        if self._closed:
            return
        handles = self._handles if chain is None else chain

        def fire() -> None:
            handles.discard(handle)
            if self._closed:
                return
            if callback():
                self._timeout_add(delay, callback, chain)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        handles.add(handle)

    # -------------------------------------------------------------- connection events

    def on_connect(self) -> None:
        """Handle a central connecting (nothing to do)."""

    def on_disconnect(self) -> None:
        """``Service.remote_disconnected``: StopNotify on every characteristic."""
        self.stop_notify(AVAILABLE_NETWORKS_UUID)
        self.stop_notify(CONNECTION_STATE_UUID)
        self.stop_notify(HOSTNAME_UUID)

    def start_notify(self, uuid: str) -> None:
        """BlueZ ``StartNotify`` (first subscriber)."""
        if uuid == AVAILABLE_NETWORKS_UUID:
            if self.networks_notifying:
                _LOGGER.debug("already notifying, nothing to do")
                return
            self.networks_notifying = True
            self._ssids_sent = []
            self._start_send_ssids()
            self.network_chains_at_start.append(self.network_chains)
        elif uuid == CONNECTION_STATE_UUID:
            self.state_notifying = True
        elif uuid == HOSTNAME_UUID:
            self.hostname_notifying = True

    def stop_notify(self, uuid: str) -> None:
        """BlueZ ``StopNotify`` (last subscriber gone, or remote disconnected)."""
        if uuid == AVAILABLE_NETWORKS_UUID:
            self.networks_notifying = False
        elif uuid == CONNECTION_STATE_UUID:
            self.state_notifying = False
        elif uuid == HOSTNAME_UUID:
            self.hostname_notifying = False

    # -------------------------------------------------------------- reads and writes

    def read(self, uuid: str) -> bytes:
        """Full value of a readable characteristic (the GATT layer cuts it at MTU - 3)."""
        if uuid == CONNECTION_STATE_UUID:
            return self._state_payload()
        if uuid == HOSTNAME_UUID:
            return self.hostname.encode()
        if uuid == VERSION_UUID:
            return self.config.version.encode()
        # 1524 has a _read_value, unreachable: BlueZ refuses the read (no read flag).
        raise AttWriteError(0x02, "read not permitted")

    def write(self, uuid: str, value: bytes) -> None:
        """Handle a write; raises :class:`AttWriteError` for invalid UTF-8."""
        try:
            text = bytes(value).decode()
        except UnicodeDecodeError as err:
            raise AttWriteError(ATT_UNLIKELY_ERROR, f"not UTF-8: {err}") from None
        self.writes.append((uuid, bytes(value)))
        if uuid == SSID_UUID:
            self.written_ssid = text
        elif uuid == CREDENTIALS_UUID:
            self.written_credentials = text
            self.join_network(self.written_ssid, text)
        faults = self.config.faults
        if faults.disconnect_after_writes is not None and (
            len(self.writes) >= faults.disconnect_after_writes
        ):
            faults.disconnect_after_writes = None
            self._spawn(self._drop())

    # -------------------------------------------------------------- network list

    def _start_send_ssids(self) -> bool:
        self._timeout_add(
            self.config.timings.notify_interval, self._send_next_ssid, self._network_chain
        )
        return False

    def _send_next_ssid(self) -> bool:
        ssids = self.found_ssids.keys()  # live view, as in the daemon
        if not ssids:
            return self.networks_notifying
        next_ssid = ""
        for ssid in ssids:
            if ssid not in self._ssids_sent:
                next_ssid = ssid
                break
        if not next_ssid:
            # All sent (or an '' SSID was reached: the hidden-SSID cut-off): repeat after a pause.
            self._ssids_sent = []
            self._timeout_add(
                self.config.timings.list_pause, self._start_send_ssids, self._network_chain
            )
            return False
        self._emit(AVAILABLE_NETWORKS_UUID, next_ssid.encode(), self.networks_notifying)
        self._ssids_sent.append(next_ssid)
        self._network_notification_count += 1
        faults = self.config.faults
        count = self._network_notification_count
        if (
            faults.stop_stream_after_network_notifications is not None
            and count >= faults.stop_stream_after_network_notifications
        ):
            faults.stop_stream_after_network_notifications = None
            self.stop_network_stream()
            return False
        if (
            faults.disconnect_after_network_notifications is not None
            and count >= faults.disconnect_after_network_notifications
        ):
            faults.disconnect_after_network_notifications = None
            self._spawn(self._drop())
        return self.networks_notifying

    @property
    def network_chains(self) -> int:
        """Live network timer chains (each has exactly one pending timer)."""
        return len(self._network_chain)

    def stop_network_stream(self) -> None:
        """Fault: the GLib callback raised, its timer chain is gone, ``_notifying`` stays True."""
        for handle in self._network_chain:
            handle.cancel()
        self._network_chain.clear()

    def _scan_once(self) -> None:
        self.scans += 1
        now = asyncio.get_running_loop().time()
        for network in self.config.networks:
            if network.visible:
                self.found_ssids[network.ssid] = now
        for ssid, last_seen in list(self.found_ssids.items()):
            if now - last_seen > self.config.timings.discard_time:
                del self.found_ssids[ssid]
        if (
            self.current_ssid in self.found_ssids
            and self.wifi_status == STATE_DISCONNECTED
            and self.profile is not None
        ):
            # "Known network reappeared, trying to reconnect to it."
            self._activate(self.profile)

    async def _scan_loop(self) -> None:
        while True:
            if not self.is_joining:
                self._scan_once()
            await asyncio.sleep(self.config.timings.rescan_interval)

    # -------------------------------------------------------------- join

    def join_network(self, ssid: str | None, credentials: str) -> None:
        """``BluenetDaemon.join_network``."""
        if self.join_task is not None and not self.join_task.done():
            _LOGGER.warning("Cannot join network while previous joining is still in process")
            return
        self.joins.append(ssid)
        self.join_task = self._spawn(self._configure_wlan(ssid, credentials))

    async def _configure_wlan(self, ssid: str | None, password: str) -> None:
        self.is_joining = ssid is not None
        if self.profile is not None:
            self.profile = None
            self._deactivate_wifi()
        await asyncio.sleep(self.config.timings.join_delay)
        network = self._visible(ssid) if ssid else None
        if ssid and network is not None and network.behaviour is JoinBehaviour.FREEZE:
            self._freeze("join failed inside NetworkManager")
            return
        if ssid and password:
            if not _nm_psk_valid(password) or len(ssid.encode()) > 32:
                self._freeze("AddAndActivateConnection refused the settings")
                return
            self.profile = _Profile(ssid, password)
            self._activate(self.profile)
        elif ssid:
            if len(ssid.encode()) > 32:
                self._freeze("AddAndActivateConnection refused the settings")
                return
            self.profile = _Profile(ssid, None)
            self._activate(self.profile)
        self.is_joining = False

    def _freeze(self, reason: str) -> None:
        """Die like the join thread: ``_is_joining_wifi`` stays set, nothing is reported."""
        _LOGGER.debug("join frozen: %s", reason)
        self.frozen = True

    # -------------------------------------------------------------- NetworkManager model

    def _visible(self, ssid: str | None) -> WifiNetwork | None:
        for network in self.config.networks:
            if network.visible and network.ssid == ssid:
                return network
        return None

    def _deactivate_wifi(self) -> None:
        if self._activation is not None:
            self._activation.cancel()
            self._activation = None
        self.wifi_ip = None
        self.wifi_state = NM_STATE_DISCONNECTED
        self._recompute_nm()

    def _activate(self, profile: _Profile) -> None:
        if self._activation is not None:
            self._activation.cancel()
        self._activation = self._spawn(self._activation_run(profile))

    async def _activation_run(self, profile: _Profile) -> None:
        self.wifi_ip = None
        self.wifi_state = NM_STATE_CONNECTING
        self._recompute_nm()
        await asyncio.sleep(self.config.timings.connect_time)
        network = self._visible(profile.ssid)
        if network is None or self.profile is not profile:
            self.wifi_state = NM_STATE_DISCONNECTED
        elif network.behaviour is JoinBehaviour.NO_INTERNET:
            if network.accepts(profile.psk):
                self.wifi_state = NM_STATE_CONNECTED_SITE
            else:
                self.wifi_state = NM_STATE_DISCONNECTED
        elif network.behaviour is JoinBehaviour.OTHER_UPLINK:
            # Wi-Fi fails, but another interface brings global connectivity.
            self.wifi_state = NM_STATE_DISCONNECTED
            self._uplink_ssid = network.uplink_ssid
            self.uplink_up = True
        elif network.accepts(profile.psk):
            self.wifi_state = NM_STATE_CONNECTED_GLOBAL
            self.wifi_ip = self.config.wifi_ip
        else:
            self.wifi_state = NM_STATE_DISCONNECTED
        self._activation = None
        self._recompute_nm()

    def _recompute_nm(self, *, signal: bool = True) -> None:
        new = NM_STATE_CONNECTED_GLOBAL if self.uplink_up else self.wifi_state
        if new == self.nm_state:
            return
        self.nm_state = new
        if signal:
            self._on_nm_state_changed()

    # -------------------------------------------------------------- daemon state handling

    def _on_nm_state_changed(self) -> None:
        """``on_state_changed`` of the daemon (HEAD, NetworkManager D-Bus version)."""
        if self.nm_state >= NM_STATE_CONNECTED_GLOBAL:
            new_status = STATE_CONNECTED
        elif self.nm_state > NM_STATE_DISCONNECTED:
            new_status = STATE_CONNECTING
        else:
            new_status = STATE_DISCONNECTED
        self.current_ssid = self.profile.ssid if self.profile is not None else ""
        if new_status == STATE_CONNECTED and self._uplink_ssid is not _BLUENET_SSID:
            uplink = self._uplink_ssid
            self.current_ssid = uplink if isinstance(uplink, str) else ""
        if new_status == self.wifi_status:
            return
        self.wifi_status = new_status
        self._set_connection_state(new_status, self.current_ssid)
        if new_status == STATE_CONNECTED:
            self._set_hostname(self._compute_hostname())

    def _compute_hostname(self) -> str:
        template = self.config.hostname_template
        if "%IP" in template:
            return template.replace("%IP", self.wifi_ip) if self.wifi_ip else ""
        return template

    def _state_payload(self) -> bytes:
        if self.char_state != STATE_DISCONNECTED and self.char_state_ssid:
            return bytes([self.char_state]) + self.char_state_ssid.encode()
        return bytes([self.char_state])

    def _set_connection_state(self, state: int, ssid: str | None) -> None:
        self.char_state = state
        self.char_state_ssid = ssid
        if self.state_notifying:
            self._emit(CONNECTION_STATE_UUID, self._state_payload(), True)
            self._state_notification_count += 1
            faults = self.config.faults
            if (
                faults.disconnect_after_state_notifications is not None
                and self._state_notification_count >= faults.disconnect_after_state_notifications
            ):
                faults.disconnect_after_state_notifications = None
                self._spawn(self._drop())

    def _set_hostname(self, hostname: str) -> None:
        if hostname == self.hostname:
            return
        self.hostname = hostname
        if self.hostname_notifying:
            self._emit(HOSTNAME_UUID, hostname.encode(), True)

    def _emit(self, uuid: str, value: bytes, subscribed: bool) -> None:
        """``value_update``: BlueZ forwards it only to a subscribed central."""
        if not subscribed or self._closed:
            return
        self.notifications.append((uuid, value))
        self._spawn(self._send(uuid, value))

    # -------------------------------------------------------------- environment control

    def set_networks(self, networks: list[WifiNetwork]) -> None:
        """Replace the radio environment (seen at the next rescan)."""
        self.config.networks = list(networks)

    def states_notified(self) -> list[bytes]:
        """Payloads of every connection-state notification sent."""
        return [value for uuid, value in self.notifications if uuid == CONNECTION_STATE_UUID]

    def networks_notified(self) -> list[bytes]:
        """Payloads of every network notification sent."""
        return [value for uuid, value in self.notifications if uuid == AVAILABLE_NETWORKS_UUID]


# ---------------------------------------------------------------------------------- GATT layer

BLUENET_SERVICES = (
    GattService(
        SERVICE_UUID,
        (
            GattCharacteristic(AVAILABLE_NETWORKS_UUID, Prop.NOTIFY),
            GattCharacteristic(CONNECTION_STATE_UUID, Prop.READ | Prop.NOTIFY),
            GattCharacteristic(HOSTNAME_UUID, Prop.READ | Prop.NOTIFY),
            GattCharacteristic(VERSION_UUID, Prop.READ),
            GattCharacteristic(SSID_UUID, Prop.WRITE),
            GattCharacteristic(CREDENTIALS_UUID, Prop.WRITE),
        ),
    ),
)


class BluenetDaemonEmulator(EmulatedPeripheral):
    """The Bluenet daemon on the bench radio (see the module docstring).

    ``config`` describes the Wi-Fi environment, the timers and the faults; ``model`` is the
    running daemon (records: ``model.writes``, ``model.notifications``, ``model.joins``). The
    daemon starts when the peripheral is put on a radio (or on :meth:`start`) and stops on
    :meth:`close`.
    """

    services = BLUENET_SERVICES

    def __init__(
        self,
        config: BluenetConfig | None = None,
        *,
        address: str = "B0:0B:1E:00:00:01",
        max_mtu: int = 517,
    ) -> None:
        """Advertise only the 128-bit service UUID: flags (3) + UUID list (18) = 21 bytes."""
        super().__init__(address=address, name=None, service_uuids=[SERVICE_UUID], max_mtu=max_mtu)
        self.config = config if config is not None else BluenetConfig()
        self.model = BluenetDaemonModel(self.config, send=self._send, drop=self.disconnect)
        self._started = False
        self._released = asyncio.Event()

    # -------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the daemon (idempotent); needs a running event loop."""
        if not self._started:
            self._started = True
            self.model.start()

    async def close(self) -> None:
        """Stop every timer and task of the daemon and release hung requests."""
        self._released.set()
        await self.model.close()

    def _attach(self, device: Any) -> None:
        super()._attach(device)
        with contextlib.suppress(RuntimeError):  # no running loop: start() later
            asyncio.get_running_loop()
            self.start()

    # -------------------------------------------------------------- GATT hooks

    async def _send(self, uuid: str, value: bytes) -> None:
        with contextlib.suppress(Exception):
            await self.notify(uuid, value)

    async def on_write(self, char_uuid: str, value: bytes, connection: Connection) -> None:
        """SSID / credentials writes; invalid UTF-8 → ATT error, as BlueZ answers."""
        if self.config.faults.hang_writes:
            await self._released.wait()
            return
        try:
            self.model.write(char_uuid, value)
        except AttWriteError as err:
            raise AttError(err.code, str(err)) from None

    async def on_read(self, char_uuid: str, connection: Connection) -> bytes:
        """Return at most ``mtu - 3`` bytes whatever the offset (the daemon ignores it)."""
        if self.config.faults.hang_reads:
            await self._released.wait()
        try:
            value = self.model.read(char_uuid)
        except AttWriteError as err:
            raise AttError(err.code, str(err)) from None
        return value[: max(int(connection.att_mtu) - 3, 0)]

    def on_connect(self, connection: Connection) -> None:
        """Forward to the daemon."""
        self.model.on_connect()

    def on_disconnect(self, connection: Connection, reason: int) -> None:
        """``remote_disconnected``: StopNotify on every characteristic."""
        self.model.on_disconnect()

    def on_subscribe(self, char_uuid: str, enabled: bool) -> None:
        """BlueZ calls StartNotify / StopNotify on CCCD changes."""
        if enabled:
            self.model.start_notify(char_uuid)
        else:
            self.model.stop_notify(char_uuid)
