"""Bumble's per-packet debug strings, not built when nobody logs them.

Bumble logs every HCI packet with an f-string (``logger.debug(f"... {packet}")`` in
``Controller.send_hci_packet`` and ``Host.on_hci_packet``), so each packet is rendered field by
field (``HCI_Object.format_fields``) even when the debug line is dropped. With 20 emulated
devices advertising to a scanning central that was 40 % of the bench's CPU (cProfile of the
20-device engine run), time the figures would charge to the provisioning under test.

:func:`packet_strings_off` makes ``format_fields`` return an empty string while bumble's loggers
are not at DEBUG (then nobody reads those strings); it changes nothing a packet carries, only how
it prints. With bumble's debug log on, it leaves everything as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import logging
from typing import Any

from bumble.hci import HCI_Object


def _blank(*_args: Any, **_kwargs: Any) -> str:
    return ""


@contextlib.contextmanager
def packet_strings_off() -> Iterator[bool]:
    """Within the block, bumble packets print without their fields; yield whether it applies."""
    if logging.getLogger("bumble").isEnabledFor(logging.DEBUG):
        yield False
        return
    original = HCI_Object.__dict__["format_fields"]
    HCI_Object.format_fields = staticmethod(_blank)  # type: ignore[method-assign]
    try:
        yield True
    finally:
        HCI_Object.format_fields = original  # type: ignore[method-assign]
