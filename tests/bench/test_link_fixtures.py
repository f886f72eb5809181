"""The ``link_profiles`` marker and the ``link_profile`` fixture fail loudly, never skip.

An inner pytest session (a subprocess, the bench plugin loaded) collects and runs small test
files: one per case, so that one file's collection error does not hide the others.
"""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[2]

CASES = {
    "test_ok.py": """
import pytest

@pytest.mark.link_profiles("ideal", "bluez-local", interval_ms=7.5, drop_after=4)
def test_ids(link_profile):
    assert link_profile.interval == 0.0075
    assert link_profile.drop_after == 4

@pytest.mark.link_profiles("bluez-local")
async def test_radio_follows(radio, link_profile):
    assert radio.profile == link_profile
    assert radio.client_backend.__name__ == "BluezBleakClientForRadio"
""",
    "test_unknown.py": """
import pytest

@pytest.mark.link_profiles("ideal", "bluez")
def test_unknown(link_profile):
    pass
""",
    "test_no_marker.py": """
def test_no_marker(link_profile):
    pass
""",
    "test_marker_unused.py": """
import pytest

@pytest.mark.link_profiles("bluez-local")
async def test_marker_unused(radio):
    pass
""",
    "test_unavailable.py": """
import pytest

@pytest.mark.link_profiles("esphome-proxy")
async def test_standalone(radio, link_profile):
    radio.client_backend  # esphome-proxy runs only through Home Assistant
""",
}


def test_marker_parametrizes_and_fails_loudly(tmp_path: Path) -> None:
    for name, text in CASES.items():
        (tmp_path / name).write_text(text)
    # Only the plugins the cases need: autoloading every installed one (Home Assistant's test
    # plugin among them) cost the inner session ~10 s of start-up.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "asyncio",
            "-p",
            "bench.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            "--continue-on-collection-errors",
            "-rA",
            "-q",
            *CASES,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    out = result.stdout
    assert result.returncode != 0, out
    assert "PASSED test_ok.py::test_ids[ideal]" in out
    assert "PASSED test_ok.py::test_ids[bluez-local]" in out
    assert "PASSED test_ok.py::test_radio_follows[bluez-local]" in out
    assert "ERROR test_unknown.py" in out
    assert "unknown link profiles ['bluez']" in out
    assert "ERROR test_no_marker.py" in out
    assert "link_profile needs @pytest.mark.link_profiles" in out
    assert "ERROR test_marker_unused.py" in out
    assert "needs the test to request link_profile" in out
    assert "FAILED test_unavailable.py::test_standalone[esphome-proxy]" in out
    assert "ProfileUnavailableError" in out
    assert "SKIPPED" not in out
    assert "skipped" not in out.splitlines()[-1]
