"""Shared test configuration: the bench fixtures and custom integrations for HA tests."""

from __future__ import annotations

import pytest

pytest_plugins = ["bench.pytest_plugin"]


@pytest.fixture(autouse=True)
def _custom_integrations_for_hass_tests(request: pytest.FixtureRequest) -> None:
    """Enable custom_components/ only for tests that use Home Assistant's ``hass``."""
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")
