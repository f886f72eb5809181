"""The daemon's GATT service (senic-hub ``bluenet_gatt_service.py``), without a radio.

Each characteristic keeps the state the original keeps: the network list with its GLib timer
chain, the connection state with its SSID, the host name, and the written SSID / credentials.
``value_update`` becomes :meth:`BluenetServiceModel._emit`: BlueZ forwards a value change only
to a subscribed central. :class:`~.daemon.BluenetDaemonModel` adds the daemon around it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Coroutine
import logging
from typing import Any

from .config import BluenetConfig
from .const import (
    ATT_READ_NOT_PERMITTED,
    ATT_UNLIKELY_ERROR,
    AVAILABLE_NETWORKS_UUID,
    CONNECTION_STATE_UUID,
    CREDENTIALS_UUID,
    HOSTNAME_UUID,
    SSID_UUID,
    STATE_DISCONNECTED,
    VERSION_UUID,
)
from .faults import fire_once
from .mainloop import MainLoop, TimerGroup

_LOGGER = logging.getLogger(__name__)

Send = Callable[[str, bytes], Coroutine[Any, Any, None]]
Drop = Callable[[], Coroutine[Any, Any, None]]


class AttWriteError(Exception):
    """A request the daemon rejects; the GATT layer turns it into an ATT error response."""

    def __init__(self, code: int, message: str) -> None:
        """Keep the ATT error code."""
        super().__init__(message)
        self.code = code


class BluenetServiceModel:
    """The six characteristics of the Bluenet service.

    ``send(uuid, value)`` delivers a notification to the subscribed central; ``drop()`` makes
    the GATT layer disconnect it (fault hooks).
    """

    def __init__(self, config: BluenetConfig, *, send: Send, drop: Drop) -> None:
        """Create the characteristics in their initial state (state 1, no SSID)."""
        self.config = config
        self.loop = MainLoop()
        self._send = send
        self._drop = drop
        #: Timers and tasks, for the fixtures' "nothing left behind" checks.
        self._handles = self.loop.timers
        self._tasks = self.loop.tasks
        # Characteristics.
        self.char_state = STATE_DISCONNECTED
        self.char_state_ssid: str | None = None
        self.hostname = ""
        self.state_notifying = False
        self.hostname_notifying = False
        self.networks_notifying = False
        self.written_ssid: str | None = None
        self.written_credentials: str | None = None
        #: ``AvailableNetworksCharacteristic.ssids``: the daemon hands over a live view.
        self.ssids: Collection[str] = []
        self._ssids_sent: list[str] = []
        self._network_chain = TimerGroup()
        self._in_flight: set[asyncio.Task[None]] = set()
        #: The ``endless_networks`` fault's sender, once started.
        self.flood_task: asyncio.Task[None] | None = None
        # Records for assertions.
        self.writes: list[tuple[str, bytes]] = []
        self.notifications: list[tuple[str, bytes]] = []
        #: Live network timer chains right after each StartNotify (2+ = the duplicate-loop bug).
        self.network_chains_at_start: list[int] = []
        #: Ticks of the network chain that found the list empty (nothing sent).
        self.empty_polls = 0
        self._state_notification_count = 0
        self._network_notification_count = 0

    # ------------------------------------------------------------------ callbacks

    def credentials_received(self, ssid: str | None, credentials: str) -> None:
        """``BluenetService._credentials_received``: the daemon joins (see the subclass)."""

    # ------------------------------------------------------------------ subscriptions

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
            # The old chain's tick, if due, ran on time in GLib: let it run first.
            self._network_chain.run_due(self.loop.now())
            if self.networks_notifying:
                _LOGGER.debug("already notifying, nothing to do")
                return
            self.networks_notifying = True
            self._ssids_sent = []
            if self.config.faults.endless_networks:
                self.flood_task = self.loop.spawn(self._endless_networks())
            else:
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

    # ------------------------------------------------------------------ reads and writes

    def state_payload(self) -> bytes:
        """Value of the connection state: the SSID follows only when not DISCONNECTED."""
        ssid = self.char_state_ssid
        if self.config.faults.state_ssid is not None:
            ssid = self.config.faults.state_ssid
        if self.char_state != STATE_DISCONNECTED and ssid:
            return bytes([self.char_state]) + ssid.encode()
        return bytes([self.char_state])

    def read(self, uuid: str) -> bytes:
        """Full value of a readable characteristic (BlueZ cuts what goes on air)."""
        if uuid == CONNECTION_STATE_UUID:
            return self.state_payload()
        if uuid == HOSTNAME_UUID:
            return self.hostname.encode()
        if uuid == VERSION_UUID:
            return self.config.version.encode()
        # 1524 has a _read_value, unreachable: BlueZ refuses the read (no read flag).
        raise AttWriteError(ATT_READ_NOT_PERMITTED, "read not permitted")

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
            self.credentials_received(self.written_ssid, text)
        if fire_once(self.config.faults, "disconnect_after_writes", len(self.writes)):
            self.loop.spawn(self._drop())

    # ------------------------------------------------------------------ value changes

    def set_connection_state(self, state: int, ssid: str | None) -> None:
        """``ConnectionStateCharacteristic.set_connection_state``."""
        self.char_state = state
        self.char_state_ssid = ssid
        if not self.state_notifying:
            return
        self._emit(CONNECTION_STATE_UUID, self.state_payload())
        self._state_notification_count += 1
        if fire_once(
            self.config.faults,
            "disconnect_after_state_notifications",
            self._state_notification_count,
        ):
            self.loop.spawn(self._drop())

    def set_hostname(self, hostname: str) -> None:
        """``HostNameCharacteristic.set_hostname``: notifies even when the value is unchanged."""
        self.hostname = hostname
        if self.hostname_notifying:
            self._emit(HOSTNAME_UUID, hostname.encode())

    def _emit(self, uuid: str, value: bytes) -> None:
        """``value_update``: BlueZ sends it to subscribed centrals (the caller checked)."""
        if self.loop.closed:
            return
        self.notifications.append((uuid, value))
        task = self.loop.spawn(self._send(uuid, value))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def flush_notifications(self) -> None:
        """Wait until every notification emitted so far has gone to the radio."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    # ------------------------------------------------------------------ network list

    def _start_send_ssids(self) -> bool:
        self.loop.timeout_add(
            self.config.timings.notify_interval, self._send_next_ssid, self._network_chain
        )
        return False

    def _send_next_ssid(self) -> bool:
        if not self.ssids:
            self.empty_polls += 1
            return self.networks_notifying
        next_ssid = ""
        for ssid in self.ssids:
            if ssid not in self._ssids_sent:
                next_ssid = ssid
                break
        if not next_ssid:
            # All sent (or an '' SSID was reached: the hidden-SSID cut-off): repeat after a pause.
            self._ssids_sent = []
            self.loop.timeout_add(
                self.config.timings.list_pause, self._start_send_ssids, self._network_chain
            )
            return False
        if self.networks_notifying:
            self._emit(AVAILABLE_NETWORKS_UUID, next_ssid.encode())
        self._ssids_sent.append(next_ssid)
        self._network_notification_count += 1
        count = self._network_notification_count
        faults = self.config.faults
        if fire_once(faults, "stop_stream_after_network_notifications", count):
            self.stop_network_stream()
            return False
        if fire_once(faults, "disconnect_after_network_notifications", count):
            self.loop.spawn(self._drop())
        return self.networks_notifying

    async def _endless_networks(self) -> None:
        """Fault: a new SSID per notification, back to back, while subscribed."""
        count = 0
        while self.networks_notifying and not self.loop.closed:
            count += 1
            value = f"endless-{count:08d}".encode()
            self.notifications.append((AVAILABLE_NETWORKS_UUID, value))
            await self._send(AVAILABLE_NETWORKS_UUID, value)
            await asyncio.sleep(0)  # sending may not suspend: let the link deliver

    @property
    def network_chains(self) -> int:
        """Live network timer chains (each has exactly one pending timer)."""
        return len(self._network_chain)

    def stop_network_stream(self) -> None:
        """Fault: the GLib callback raised, its timer chain is gone, ``_notifying`` stays True."""
        self._network_chain.cancel()

    # ------------------------------------------------------------------ records

    def states_notified(self) -> list[bytes]:
        """Payloads of every connection-state notification sent."""
        return [value for uuid, value in self.notifications if uuid == CONNECTION_STATE_UUID]

    def networks_notified(self) -> list[bytes]:
        """Payloads of every network notification sent."""
        return [value for uuid, value in self.notifications if uuid == AVAILABLE_NETWORKS_UUID]

    def hostnames_notified(self) -> list[bytes]:
        """Payloads of every host name notification sent."""
        return [value for uuid, value in self.notifications if uuid == HOSTNAME_UUID]
