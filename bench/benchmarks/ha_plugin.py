"""pytest plugin of the Home Assistant benchmark scenarios (``-p bench.benchmarks.ha_plugin``).

``scripts/bench`` runs :mod:`.ha_scenarios` in a child pytest with this plugin and the plan in
``BENCH_PLAN`` (JSON: ``sections`` {section: [profiles]}, ``interval_ms``, ``runs``, ``devices``,
``output``). Each scenario records its figures with the ``record`` fixture; the plugin writes them
all to ``output`` when the session ends, including an ``error`` entry for a scenario that failed.
No figure is asserted: the scenarios measure, the tests of the suite check behaviour.

It loads the bench's fixtures (``bench.pytest_plugin``: radio, link profiles, ESPHome proxy) and
lets Home Assistant load ``custom_components/`` for every scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import json
import os
from pathlib import Path
from typing import Any

import pytest

from .quiet import packet_strings_off

pytest_plugins = ["bench.pytest_plugin"]

_RESULTS: dict[str, Any] = {}


def plan() -> dict[str, Any]:
    """Return the run's plan (an empty one when pytest runs the module by hand)."""
    raw = os.environ.get("BENCH_PLAN")
    found: dict[str, Any] = json.loads(raw) if raw else {}
    found.setdefault("sections", {})
    found.setdefault("interval_ms", 30.0)
    found.setdefault("runs", 1)
    found.setdefault("devices", [[20, 0], [50, 0], [20, 3]])
    return found


def profiles_for(section: str) -> list[str]:
    """Return the profiles ``section`` runs on in this plan."""
    chosen: list[str] = plan()["sections"].get(section, [])
    return chosen


@pytest.fixture(autouse=True)
def _custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/ble_provisioning."""


@pytest.fixture(autouse=True)
def _packet_strings_off() -> Iterator[None]:
    """Bumble's unused per-packet debug strings are not built (:mod:`.quiet`)."""
    with packet_strings_off():
        yield


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[[str, Any], None]:
    """``record(key, value)``: keep a figure for the report (``key`` like ``P4@ideal``)."""

    def _record(key: str, value: Any) -> None:
        section = _RESULTS.setdefault(key, {})
        if isinstance(section, dict) and isinstance(value, dict):
            section.update(value)
        else:
            _RESULTS[key] = value

    return _record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Note a scenario that failed under its report key (marker ``report_key``).

    A teardown failure is the HA harness's leftover check (the import executor's thread still
    ending, say) after the figures were taken: it is noted under ``teardown`` and the scenario
    is reported as passed, so the run's summary and exit status speak of the scenarios.
    """
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when == "teardown":
        lines = report.longreprtext.strip().splitlines()
        notes = _RESULTS.setdefault("teardown", {})
        notes[item.name] = next(
            (line for line in lines if line.startswith("E ")), lines[-1] if lines else ""
        )[:300]
        report.outcome = "passed"
        return
    if report.failed and report.when != "teardown":
        marker = item.get_closest_marker("report_key")
        callspec = getattr(item, "callspec", None)
        profile = callspec.params.get("link_profile") if callspec is not None else None
        name = getattr(profile, "name", "")
        if marker is not None:
            key = f"{marker.args[0]}@{name}"
            message = str(call.excinfo.value) if call.excinfo is not None else report.longreprtext
            errors = _RESULTS.setdefault(f"{key} errors", {})
            errors[f"{item.name} ({report.when})"] = message[:2000]


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker."""
    config.addinivalue_line("markers", "report_key(section): where a scenario's figures go")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write every recorded figure."""
    output = plan().get("output")
    if output:
        Path(output).write_text(json.dumps(_RESULTS, indent=2, default=str), encoding="utf-8")
