"""The daemon's GLib main loop and threads, on asyncio.

``GObject.timeout_add`` becomes :meth:`MainLoop.timeout_add` (a chain of ``call_later``
handles: the callback runs again while it returns True); a Python thread becomes a task
(:meth:`MainLoop.spawn`). Timers belong to a :class:`TimerGroup` so that one chain can be
counted, cancelled or caught up on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
from typing import Any


class TimerGroup:
    """Pending timers, each with the function its expiry runs."""

    def __init__(self) -> None:
        """Start empty."""
        self._pending: dict[asyncio.TimerHandle, Callable[[], None]] = {}

    def __len__(self) -> int:
        """Return the number of pending timers."""
        return len(self._pending)

    def add(self, handle: asyncio.TimerHandle, fire: Callable[[], None]) -> None:
        """Track ``handle``; ``fire`` is what it runs."""
        self._pending[handle] = fire

    def discard(self, handle: asyncio.TimerHandle) -> None:
        """Forget ``handle`` (it fired or was cancelled)."""
        self._pending.pop(handle, None)

    def cancel(self) -> None:
        """Cancel every pending timer."""
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()

    def run_due(self, now: float) -> None:
        """Run now every timer whose time has come but whose callback has not run yet.

        GLib would have run it on time; asyncio may run it later when the loop is busy. Call
        this before an event whose outcome depends on whether the timer already fired.
        """
        while due := [handle for handle in self._pending if handle.when() <= now]:
            for handle in due:
                fire = self._pending.pop(handle, None)
                handle.cancel()
                if fire is not None:
                    fire()


class MainLoop:
    """Timers and tasks of one daemon; :meth:`close` stops them all."""

    def __init__(self) -> None:
        """Create an idle loop (it needs a running asyncio loop once used)."""
        self.timers = TimerGroup()
        self.tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    @staticmethod
    def now() -> float:
        """Return the loop's clock."""
        return asyncio.get_running_loop().time()

    def timeout_add(
        self, delay: float, callback: Callable[[], bool], group: TimerGroup | None = None
    ) -> None:
        """``GObject.timeout_add``: run ``callback`` every ``delay`` while it returns True."""
        if self.closed:
            return
        timers = self.timers if group is None else group

        def fire() -> None:
            timers.discard(handle)
            if self.closed:
                return
            if callback():
                self.timeout_add(delay, callback, group)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        timers.add(handle, fire)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a task (a daemon thread) until it ends or :meth:`close`."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def close(self, *groups: TimerGroup) -> None:
        """Cancel every timer (also those of ``groups``) and every task."""
        self.closed = True
        self.timers.cancel()
        for group in groups:
            group.cancel()
        tasks = [task for task in self.tasks if not task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
