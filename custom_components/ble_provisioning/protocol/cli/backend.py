"""``--backend MODULE:FACTORY``: run the command against another bleak backend.

``FACTORY()`` returns an async context manager that yields an object with any of
``client_backend`` (a ``BaseBleakClient`` subclass), ``scanner_backend`` (a
``BaseBleakScanner`` subclass) and ``adapter_key`` (``BLEDevice -> str``, which adapter a device
is reached through, for the per-adapter connection slots). Without ``--backend`` bleak's default
backend for the platform is used (BlueZ on Linux).
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import importlib
from typing import Any

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner

from ..slots import adapter_of

BackendFactory = Callable[[], contextlib.AbstractAsyncContextManager[Any]]


@dataclass(frozen=True, slots=True)
class Backend:
    """What the command needs from a backend."""

    client: type[BaseBleakClient] | None = None
    scanner: type[BaseBleakScanner] | None = None
    adapter_key: Callable[[BLEDevice], str] = adapter_of

    @classmethod
    def of(cls, provided: Any) -> Backend:
        """Read the optional attributes of what a factory yielded."""
        return cls(
            client=getattr(provided, "client_backend", None),
            scanner=getattr(provided, "scanner_backend", None),
            adapter_key=getattr(provided, "adapter_key", None) or adapter_of,
        )


def load_factory(spec: str | None) -> BackendFactory:
    """Import ``MODULE:FACTORY`` (None: the platform's default backend)."""
    if not spec:
        return lambda: contextlib.nullcontext(None)
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        msg = f"--backend must be MODULE:FACTORY, got {spec!r}"
        raise ValueError(msg)
    module = importlib.import_module(module_name)
    factory = getattr(module, attribute, None)
    if not callable(factory):
        msg = f"{spec}: no such factory"
        raise ValueError(msg)
    return factory  # type: ignore[no-any-return]
