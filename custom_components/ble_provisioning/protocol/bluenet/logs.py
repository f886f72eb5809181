"""Warnings about what a device sends, rate-limited: one per kind per connection.

A broken or hostile daemon can send a malformed value in every notification (hundreds per
second on a flooded network list). The first of each kind on a connection is a warning; the rest
go to the debug log, so the log stays readable and the event loop is not spent on it.
"""

from __future__ import annotations

import logging


class MalformedLog:
    """Log malformed data from one device: a warning once per kind until :meth:`reset`."""

    def __init__(self, logger: logging.Logger, name: str) -> None:
        """Log to ``logger``, prefixing every line with the device's ``name``."""
        self._logger = logger
        self._name = name
        self._warned: set[str] = set()

    def reset(self) -> None:
        """Start a new connection: the next of each kind is a warning again."""
        self._warned.clear()

    def report(self, kind: str, message: str) -> None:
        """Log ``message`` about a malformed ``kind`` of value (``"state"``, ``"network"``...)."""
        if kind in self._warned:
            self._logger.debug("%s: %s", self._name, message)
            return
        self._warned.add(kind)
        self._logger.warning(
            "%s: %s (further ones on this connection are logged at debug level)",
            self._name,
            message,
        )
