"""pytest fixtures of the link profiles (a plugin that ``bench.pytest_plugin`` loads).

* ``@pytest.mark.link_profiles("ideal", "bluez-local", interval_ms=0, drop_after=None)``: a test
  that uses ``link_profile`` (directly or through ``link_scanner`` / ``radio``) runs once per
  named profile, with the profile's name as test id. An unknown name, ``link_profile`` without
  the marker, or the marker on a test that does not request ``link_profile`` (a test using only
  ``radio`` would silently run on ``ideal``) is a collection error; a profile that cannot run
  here (its factory is missing) fails the test: nothing is skipped silently.
* ``link_profile``: the :class:`~bench.link.profiles.LinkProfile` of the current run. The
  ``radio`` fixture builds its radio with it (client backend, connection interval, drops).
* ``link_scanner``: the profile attached to Home Assistant's bluetooth manager (needs ``hass``;
  slots from ``@pytest.mark.proxy_slots(n)``, else the profile's: 3 for a proxy, 5 for a local
  adapter); torn down cleanly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from .profiles import PROFILES, LinkProfile, ScannerHandle, get_profile

if TYPE_CHECKING:
    from ..radio import Radio

MARKER = "link_profiles"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*names, interval_ms=0, drop_after=None): run the test on each link profile",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``link_profile`` from the ``link_profiles`` marker (fail loudly)."""
    marker = metafunc.definition.get_closest_marker(MARKER)
    where = metafunc.definition.nodeid
    if "link_profile" not in metafunc.fixturenames:
        if marker is not None:
            msg = f"{where}: @pytest.mark.{MARKER} needs the test to request link_profile"
            raise pytest.UsageError(msg)
        return
    if marker is None or not marker.args:
        msg = f"{where}: link_profile needs @pytest.mark.{MARKER}(<profile names>)"
        raise pytest.UsageError(msg)
    names = [str(name) for name in marker.args]
    unknown = [name for name in names if name not in PROFILES]
    if unknown:
        msg = f"{where}: unknown link profiles {unknown} (known: {', '.join(PROFILES)})"
        raise pytest.UsageError(msg)
    interval_ms = float(marker.kwargs.get("interval_ms", 0.0))
    drop_after = marker.kwargs.get("drop_after")
    profiles = [
        get_profile(name, interval=interval_ms / 1000, drop_after=drop_after) for name in names
    ]
    metafunc.parametrize("link_profile", profiles, ids=names, indirect=True)


@pytest.fixture
def link_profile(request: pytest.FixtureRequest) -> LinkProfile:
    """Return the link profile of this run (parametrized by the ``link_profiles`` marker)."""
    profile: LinkProfile = request.param
    return profile


@pytest.fixture
def link_requirements(request: pytest.FixtureRequest, link_profile: LinkProfile) -> None:
    """Request the fixtures the profile's attachment needs (sockets for the ESPHome API)."""
    for name in link_profile.spec.fixtures:
        request.getfixturevalue(name)


@pytest.fixture
async def link_scanner(
    request: pytest.FixtureRequest,
    hass: Any,
    quiet_bluez_stop_discovery: None,
    enable_bluetooth: None,
    link_requirements: None,
    radio: Radio,
    link_profile: LinkProfile,
) -> AsyncIterator[ScannerHandle]:
    """Yield ``link_profile`` attached to ``hass``'s bluetooth manager on ``radio``."""
    from .ha import start_profile, stop_scanner  # noqa: PLC0415 - keep Home Assistant optional

    marker = request.node.get_closest_marker("proxy_slots")
    slots = int(marker.args[0]) if marker else None
    handle = await start_profile(hass, radio, link_profile, slots=slots)
    try:
        yield handle
    finally:
        await stop_scanner(hass, radio, handle)
