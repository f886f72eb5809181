"""The link benchmark runs and writes its report (figures are not asserted: load-dependent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.benchmarks import link


def test_benchmark_writes_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "link.json"
    args = ["--runs", "1", "--exchanges", "2", "--intervals", "0", "--json", str(target)]
    assert link.main(args) == 0
    report = json.loads(target.read_text())
    assert [r["profile"] for r in report["results"]] == ["ideal", "bluez-local"]
    for result in report["results"]:
        assert set(result["median"]) == {*link.FIGURES, "connect_exchanges"}
        assert result["median"]["connect_exchanges"] > 1
    table = capsys.readouterr().out
    assert "bluez-local" in table
    assert f"written: {target}" in table
