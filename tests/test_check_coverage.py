"""The per-module coverage gate (tools/check_coverage.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

from tools import check_coverage


def _summary(percent: float, missing: int = 0, missing_branches: int = 0) -> dict[str, object]:
    return {
        "summary": {
            "covered_lines": 100 - missing,
            "num_statements": 100,
            "percent_covered": percent,
            "missing_lines": missing,
            "num_branches": 10,
            "missing_branches": missing_branches,
        }
    }


def _report(tmp_path: Path, files: dict[str, float]) -> Path:
    path = tmp_path / "coverage.json"
    path.write_text(
        json.dumps(
            {
                "meta": {"version": "7.6.12"},
                "files": {
                    name: _summary(percent, missing=round(100 - percent))
                    for name, percent in files.items()
                },
                "totals": {"percent_covered": 97.0},
            }
        )
    )
    return path


def test_passes_when_every_module_reaches_the_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report(tmp_path, {"pkg/a.py": 100.0, "pkg/b.py": 95.0})
    assert check_coverage.main(["check_coverage", str(report)]) == 0
    out = capsys.readouterr().out
    assert "every module at or above 95 % (2)" in out
    assert out.index("pkg/b.py") < out.index("pkg/a.py")  # lowest first


def test_fails_listing_each_module_below(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A high total does not hide one weak module; 94.99 is not rounded up."""
    report = _report(
        tmp_path, {"pkg/a.py": 100.0, "pkg/b.py": 94.99, "pkg/c.py": 80.0, "pkg/d.py": 99.0}
    )
    assert check_coverage.main(["check_coverage", str(report)]) == 1
    out = capsys.readouterr().out
    assert "2 module(s) below 95 %" in out
    listed = out.split("below 95 %:")[1]
    assert listed.index("pkg/c.py: 80.00 %") < listed.index("pkg/b.py: 94.99 %")
    assert "pkg/a.py" not in listed


def test_fail_under_and_prefix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _report(tmp_path, {"pkg/sub/a.py": 90.0, "pkg/b.py": 70.0, "other/c.py": 10.0})
    assert check_coverage.main(["check_coverage", str(report), "--prefix", "pkg/sub"]) == 1
    assert check_coverage.main(["check_coverage", str(report), "--fail-under", "60"]) == 1
    assert (
        check_coverage.main(
            ["check_coverage", str(report), "--fail-under", "60", "--prefix", "pkg"]
        )
        == 0
    )
    capsys.readouterr()
    assert check_coverage.main(["check_coverage", str(report), "--prefix", "nowhere"]) == 2
    assert "no module" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["not json", '{"files": {"a.py": {}}}', "[]", None])
def test_unreadable_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None
) -> None:
    path = tmp_path / "coverage.json"
    if content is not None:
        path.write_text(content)
    assert check_coverage.main(["check_coverage", str(path)]) == 2
    assert "not a coverage.py JSON report" in capsys.readouterr().err


def test_check_and_table() -> None:
    modules = [
        check_coverage.ModuleCoverage("b.py", 96.0, 10, 1, 4, 0),
        check_coverage.ModuleCoverage("a.py", 50.0, 10, 5, 4, 2),
    ]
    assert [m.path for m in check_coverage.check(modules, 95.0)] == ["a.py"]
    assert check_coverage.check(modules, 95.0, ["c"]) == []
    lines = check_coverage.table(modules).splitlines()
    assert lines[0].split() == ["module", "cover", "miss", "brmiss"]
    assert lines[1].split() == ["a.py", "50.00%", "5", "2"]


def _coverage(tmp_path: Path, *args: str) -> None:
    # Without pytest-cov's variables: this run measures only the sample module.
    env = {key: value for key, value in os.environ.items() if not key.startswith("COV_CORE")}
    subprocess.run(
        [sys.executable, "-m", "coverage", *args],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )


def test_reads_a_real_coverage_report(tmp_path: Path) -> None:
    """The JSON that coverage.py itself writes (same interpreter as the tests)."""
    module = tmp_path / "sample.py"
    module.write_text("def f(x):\n    if x:\n        return 1\n    return 2\n\nf(1)\n")
    data = f"--data-file={tmp_path / 'sample.coverage'}"
    report = tmp_path / "coverage.json"
    _coverage(tmp_path, "run", "--branch", data, str(module))
    _coverage(tmp_path, "json", data, "-o", str(report))
    (sample,) = check_coverage.load(report)
    assert sample.path.endswith("sample.py")
    assert sample.statements == 5
    assert sample.missing == 1
    assert sample.percent < 95
    assert check_coverage.main(["check_coverage", str(report)]) == 1
