"""Shared test configuration: the bench fixtures and custom integrations for HA tests."""

from __future__ import annotations

import asyncio

import pytest

pytest_plugins = ["bench.pytest_plugin"]


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
