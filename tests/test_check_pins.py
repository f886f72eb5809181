"""The pin checker that scripts/setup runs after installing a leg."""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path

import pytest

from tools import check_pins


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_pins_of_this_environment_hold(tmp_path: Path) -> None:
    version = md.version("pytest")
    _write(tmp_path / "dev.txt", f"pytest=={version}  # the test runner\n")
    leg = _write(
        tmp_path / "leg.txt",
        f"# comment\n-r dev.txt\nHomeAssistant=={md.version('homeassistant')}\n",
    )
    assert check_pins._pins(leg) == {
        "pytest": version,
        "homeassistant": md.version("homeassistant"),
    }
    assert check_pins.main(["check_pins", str(leg)]) == 0


def test_mismatch_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leg = _write(tmp_path / "leg.txt", "pytest==0.0.1\nnot-installed-package==1.0\n")
    assert check_pins.main(["check_pins", str(leg)]) == 1
    out = capsys.readouterr().out
    assert "pytest: want 0.0.1" in out
    assert "not-installed-package: want 1.0, have None" in out
