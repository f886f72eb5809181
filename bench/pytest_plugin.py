"""pytest fixtures for the bench (``pytest_plugins = ["bench.pytest_plugin"]``).

* ``radio``: a started :class:`bench.radio.Radio` (no Home Assistant), torn down cleanly; on the
  test's ``link_profile`` when it has one (see :mod:`bench.link.fixtures`, loaded from here:
  ``link_profiles`` marker, ``link_profile``, ``link_scanner``).
* ``add_peripheral``: ``await add_peripheral(emulator)`` puts an emulator on ``radio``.
* ``virtual_proxy``: a :class:`bench.proxy.VirtualProxy` registered with Home Assistant's
  bluetooth manager (needs ``hass`` and pytest-homeassistant-custom-component's
  ``enable_bluetooth``). Its slot count comes from ``@pytest.mark.proxy_slots(n)`` (default 3).
* ``esphome_proxy``: an emulated ESPHome Bluetooth proxy registered with ``hass`` through the
  real client libraries (``bench/esphome/fixtures.py``, loaded below).
* ``quiet_bluez_stop_discovery``: patches ``habluetooth.scanner.stop_discovery`` (newer
  habluetooth calls D-Bus before every scanner start and logs an error without BlueZ).

Home Assistant is imported lazily, only by the HA fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import contextlib
import importlib.util
from typing import TYPE_CHECKING, Any
from unittest.mock import AsyncMock, patch

import pytest

from .device import EmulatedPeripheral
from .radio import Radio

if TYPE_CHECKING:
    from .proxy import VirtualProxy

DEFAULT_PROXY_SLOTS = 3

pytest_plugins = ["bench.link.fixtures", "bench.esphome.fixtures"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the bench's markers."""
    config.addinivalue_line(
        "markers", "proxy_slots(n): connection slots of the virtual_proxy fixture"
    )
    config.addinivalue_line("markers", "radio_mtu(n): ATT_MTU the radio fixture's client requests")


@pytest.fixture
async def radio(request: pytest.FixtureRequest) -> AsyncIterator[Radio]:
    """Yield a started radio (central scanning); stop every stack at teardown."""
    marker = request.node.get_closest_marker("radio_mtu")
    mtu = int(marker.args[0]) if marker else 517
    profile = (
        request.getfixturevalue("link_profile")
        if "link_profile" in request.fixturenames
        else "ideal"
    )
    async with Radio(mtu=mtu, profile=profile) as bench_radio:
        yield bench_radio


@pytest.fixture
def add_peripheral(radio: Radio) -> Callable[[EmulatedPeripheral], Awaitable[EmulatedPeripheral]]:
    """Return a coroutine function putting an emulator on ``radio`` (returns the emulator)."""

    async def _add(emulator: EmulatedPeripheral) -> EmulatedPeripheral:
        await radio.add_peripheral(emulator)
        return emulator

    return _add


@pytest.fixture
def quiet_bluez_stop_discovery() -> Iterator[None]:
    """Patch habluetooth's D-Bus ``stop_discovery`` (no BlueZ here; it only logs errors).

    habluetooth 3.37 calls it only on failures (``habluetooth.scanner``, created if absent);
    habluetooth >= 7 calls it before every start from ``habluetooth.scanner_bleak``.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(patch("habluetooth.scanner.stop_discovery", AsyncMock(), create=True))
        if importlib.util.find_spec("habluetooth.scanner_bleak") is not None:
            stack.enter_context(
                patch("habluetooth.scanner_bleak.stop_discovery", AsyncMock(), create=True)
            )
        yield


@pytest.fixture
async def virtual_proxy(
    request: pytest.FixtureRequest,
    hass: Any,
    quiet_bluez_stop_discovery: None,
    enable_bluetooth: None,
    radio: Radio,
) -> AsyncIterator[VirtualProxy]:
    """Yield a VirtualProxy on ``radio`` registered with ``hass``'s bluetooth manager."""
    from .link.ha import stop_scanner  # noqa: PLC0415 - keep Home Assistant optional
    from .proxy import VirtualProxy  # noqa: PLC0415

    marker = request.node.get_closest_marker("proxy_slots")
    slots = int(marker.args[0]) if marker else DEFAULT_PROXY_SLOTS
    proxy = await VirtualProxy.async_start(hass, radio, slots=slots)
    try:
        yield proxy
    finally:
        await stop_scanner(hass, radio, proxy)
