"""Shared test configuration: the bench fixtures and custom integrations for HA tests."""

from __future__ import annotations

import asyncio
import os

from hypothesis import HealthCheck, settings
import pytest

pytest_plugins = ["bench.pytest_plugin"]

# Property tests are deterministic in the suite: a fixed example sequence per test (no random
# seed, no example database replaying old failures) and no wall-clock limits (a per-example
# deadline or the too-slow health check fail on a busy machine). HYPOTHESIS_PROFILE=explore
# runs them with random examples, to look for new failures on purpose.
settings.register_profile(
    "suite",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture(autouse=True)
def _custom_integrations_for_hass_tests(request: pytest.FixtureRequest) -> None:
    """Enable custom_components/ only for tests that use Home Assistant's ``hass``."""
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture(autouse=True)
async def enable_event_loop_debug(request: pytest.FixtureRequest) -> None:
    """Run asyncio in debug mode for Home Assistant tests only (overrides phcc's fixture).

    pytest-homeassistant-custom-component turns debug mode on for every test of the session.
    Debug mode records a stack (and stats every file on it) for each callback scheduled:
    the protocol and bench tests, which push thousands of ATT PDUs through Bumble, ran three
    to five times slower with it (``test_every_message_type``: 45 s -> 14 s for its six cases).
    Tests with ``hass`` keep it, as Home Assistant's own tests do.
    """
    if "hass" in request.fixturenames:
        asyncio.get_running_loop().set_debug(True)
