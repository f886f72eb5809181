"""The named link profiles and their registry.

A profile names *how the host side of a connection behaves*; the air's timing (connection
interval) and drops (:class:`~bench.link.air.LinkConditions`) come with it:

============== =================================================================================
``ideal``      today's bench: ``mtu_size`` is the negotiated ATT_MTU, services are discovered on
               every connection, reads and writes of any length (:mod:`bench.bleak_backend`).
``bluez-local`` what bleak's BlueZ backend reports on a local adapter (a Raspberry Pi, HA Green
               or Yellow): ``mtu_size`` 23 until ``_acquire_mtu()``, per-characteristic
               ``max_write_without_response_size`` from the real MTU, services cached per
               device across connections, BlueZ's read and write procedures
               (:mod:`bench.link.bluez`).
``esphome-proxy`` the path through an ESPHome Bluetooth proxy (aioesphomeapi + bleak-esphome),
               emulated by ``bench.esphome`` (issue 9 item 1): Home Assistant only.
============== =================================================================================

Each profile is registered by name with dotted paths (``"module:function"``) to its factories,
resolved when first used: a stand-alone bleak client backend (``client``:
``factory(radio) -> type[BaseBleakClient]``) and a Home Assistant attachment (``scanner``:
``await factory(hass, radio, *, slots=n) -> handle`` with ``handle.source``,
``handle.allocated`` and ``await handle.async_stop()``). The ``esphome-proxy`` entry points at
``bench.esphome:start_esphome_proxy``: once that module exists the profile works without any
change here. A profile whose factory cannot be imported raises
:class:`ProfileUnavailableError` (never a skip).

No import of bleak, Bumble or Home Assistant here: :mod:`bench.radio` uses this registry to
find its backends without importing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
import importlib
from types import MappingProxyType
from typing import Any, Protocol

from .air import LinkConditions

IDEAL = "ideal"
BLUEZ_LOCAL = "bluez-local"
ESPHOME_PROXY = "esphome-proxy"

BENCHMARK_INTERVAL = 0.030
"""Connection interval of the benchmarks (30 ms, a common BlueZ / ESP32 value); tests use 0."""

SCANNER_BACKEND = "bench.bleak_scanner:make_scanner_backend"
"""The bleak scanner backend of every profile (the radio's central sees every advertisement)."""


class ScannerHandle(Protocol):
    """What a profile's Home Assistant attachment returns."""

    @property
    def source(self) -> str:
        """The scanner's source (its Bluetooth address) in Home Assistant."""

    @property
    def allocated(self) -> list[str]:
        """Addresses holding one of its connection slots."""

    async def async_stop(self) -> None:
        """Unregister from Home Assistant and stop (no lingering timers)."""


class ProfileError(ValueError):
    """A profile name that is not registered."""


class ProfileUnavailableError(RuntimeError):
    """A registered profile that cannot run here (its factory is missing or not for this use)."""


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """What a profile name stands for."""

    name: str
    summary: str
    scanner: str
    """``module:function`` attaching the profile to Home Assistant's bluetooth manager."""
    slots: int
    """Connection slots of the attachment (a local adapter: 5; a proxy: 3)."""
    client: str | None = None
    """``module:function`` returning a stand-alone bleak client backend (None: HA only)."""
    fixtures: tuple[str, ...] = ()
    """pytest fixtures the Home Assistant attachment needs (``link_scanner`` requests them)."""


PROFILES: Mapping[str, ProfileSpec] = MappingProxyType(
    {
        IDEAL: ProfileSpec(
            IDEAL,
            "today's bench: true MTU, discovery on every connection",
            scanner="bench.link.ha:start_virtual_proxy",
            slots=3,
            client="bench.bleak_backend:make_client_backend",
        ),
        BLUEZ_LOCAL: ProfileSpec(
            BLUEZ_LOCAL,
            "bleak on a local BlueZ adapter: mtu_size 23 unless acquired, cached services",
            scanner="bench.link.ha:start_local_adapter",
            # Home Assistant's slots for a local adapter that reports none (bluetooth-adapters
            # DEFAULT_CONNECTION_SLOTS).
            slots=5,
            client="bench.link.bluez:make_bluez_client_backend",
        ),
        ESPHOME_PROXY: ProfileSpec(
            ESPHOME_PROXY,
            "an ESPHome Bluetooth proxy (aioesphomeapi + bleak-esphome), Home Assistant only",
            scanner="bench.esphome:start_esphome_proxy",
            slots=3,
            # The emulated proxy serves ESPHome's API on 127.0.0.1 (pytest-socket blocks it);
            # HA's esphome integration needs zeroconf mocked.
            fixtures=("socket_enabled", "mock_async_zeroconf"),
        ),
    }
)


@dataclass(frozen=True, slots=True)
class LinkProfile:
    """A registered profile with its link conditions (``interval`` in seconds)."""

    name: str = IDEAL
    interval: float = 0.0
    drop_after: int | None = None

    def __post_init__(self) -> None:
        """Fail loudly on an unknown name and on impossible conditions."""
        if self.name not in PROFILES:
            known = ", ".join(PROFILES)
            msg = f"unknown link profile {self.name!r} (known: {known})"
            raise ProfileError(msg)
        self.conditions  # noqa: B018 - validates interval and drop_after

    @property
    def spec(self) -> ProfileSpec:
        """The registry entry."""
        return PROFILES[self.name]

    @property
    def conditions(self) -> LinkConditions:
        """What the air does to this profile's connections."""
        return LinkConditions(interval=self.interval, drop_after=self.drop_after)

    def with_link(
        self, *, interval: float | None = None, drop_after: int | None = None
    ) -> LinkProfile:
        """Return a copy with another interval and/or drop rule."""
        changes: dict[str, Any] = {}
        if interval is not None:
            changes["interval"] = interval
        if drop_after is not None:
            changes["drop_after"] = drop_after
        return replace(self, **changes) if changes else self

    def client_factory(self) -> Any:
        """Return the stand-alone client backend factory (ProfileUnavailableError: HA only)."""
        if self.spec.client is None:
            msg = (
                f"link profile {self.name!r} has no stand-alone bleak client: it runs only "
                "through Home Assistant (use the link_scanner fixture)"
            )
            raise ProfileUnavailableError(msg)
        return resolve(self.spec.client, self.name)

    def scanner_factory(self) -> Any:
        """Return the Home Assistant attachment factory (ProfileUnavailableError: missing)."""
        return resolve(self.spec.scanner, self.name)


def get_profile(
    profile: LinkProfile | str,
    *,
    interval: float | None = None,
    drop_after: int | None = None,
) -> LinkProfile:
    """Return the profile named ``profile`` (or ``profile`` itself), with changed conditions."""
    found = profile if isinstance(profile, LinkProfile) else LinkProfile(profile)
    return found.with_link(interval=interval, drop_after=drop_after)


def resolve(path: str, profile: str = "") -> Any:
    """Import ``module:attribute``; ProfileUnavailableError when the module is not there."""
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        msg = f"link profile {profile!r} needs {path}, but {err.name} cannot be imported here"
        raise ProfileUnavailableError(msg) from err
    try:
        return getattr(module, attribute)
    except AttributeError as err:
        msg = f"link profile {profile!r} needs {path}, which {module_name} does not define"
        raise ProfileUnavailableError(msg) from err
