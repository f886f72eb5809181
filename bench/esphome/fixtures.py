"""pytest fixtures for the emulated ESPHome proxy (loaded by ``bench.pytest_plugin``).

* ``esphome_proxy``: an :class:`~.ha.EsphomeProxyHandle` on the ``radio`` fixture, registered
  with ``hass`` the leg's way (:func:`~.ha.default_wiring`; force one with
  ``@pytest.mark.esphome_wiring("integration" | "scanner")``). Slots come from
  ``@pytest.mark.proxy_slots(n)`` (default 3). Sockets are enabled for the test (the
  server listens on 127.0.0.1; pytest-homeassistant-custom-component still refuses every
  other destination) and zeroconf is mocked. Teardown unloads HA's side first, then stops
  the server, so no reconnect timer outlives the test.

Home Assistant is imported lazily, only by the fixture.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from bench.radio import Radio

    from .ha import EsphomeProxyHandle

DEFAULT_SLOTS = 3


def pytest_configure(config: pytest.Config) -> None:
    """Register the ESPHome proxy's marker."""
    config.addinivalue_line(
        "markers",
        "esphome_wiring(name): wire the esphome_proxy fixture as 'integration' or 'scanner'",
    )


@pytest.fixture
async def esphome_proxy(
    request: pytest.FixtureRequest,
    hass: Any,
    quiet_bluez_stop_discovery: None,
    enable_bluetooth: None,
    socket_enabled: None,
    mock_async_zeroconf: Any,
    radio: Radio,
) -> AsyncIterator[EsphomeProxyHandle]:
    """Yield an emulated ESPHome proxy on ``radio``, registered with ``hass``."""
    from .ha import start_esphome_proxy  # noqa: PLC0415 - keep Home Assistant optional

    slots_marker = request.node.get_closest_marker("proxy_slots")
    wiring_marker = request.node.get_closest_marker("esphome_wiring")
    handle = await start_esphome_proxy(
        hass,
        radio,
        slots=int(slots_marker.args[0]) if slots_marker else DEFAULT_SLOTS,
        wiring=wiring_marker.args[0] if wiring_marker else None,
    )
    try:
        yield handle
    finally:
        await handle.async_stop()
        await hass.async_block_till_done()
