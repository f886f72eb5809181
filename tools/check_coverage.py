"""Fail when any module's test coverage is below the bar (the quality scale's rule is per module).

Usage::

    python tools/check_coverage.py COVERAGE_JSON [--fail-under 95] [--prefix PATH ...]

``COVERAGE_JSON`` is coverage.py's JSON report (``pytest --cov --cov-report=json:FILE`` or
``coverage json -o FILE``). Each module's percentage is coverage.py's own ``percent_covered``
(statements and, with branch coverage, branches), compared unrounded. ``--prefix`` limits the
check to modules under the given paths (default: every module in the report).

Prints one line per module (lowest first) and exits 1 listing the modules below the bar,
2 when the report cannot be read.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import json
from pathlib import Path, PurePosixPath
import sys
from typing import Any

DEFAULT_FAIL_UNDER = 95.0


@dataclass(frozen=True, slots=True)
class ModuleCoverage:
    """One module of the report."""

    path: str
    percent: float
    statements: int
    missing: int
    branches: int
    missing_branches: int


class ReportError(Exception):
    """The coverage report is missing or malformed."""


def load(report: Path) -> list[ModuleCoverage]:
    """Read the modules of a coverage.py JSON report."""
    try:
        data: Any = json.loads(report.read_text())
        files: dict[str, Any] = data["files"]
        return [
            ModuleCoverage(
                path=PurePosixPath(Path(name).as_posix()).as_posix(),
                percent=float(entry["summary"]["percent_covered"]),
                statements=int(entry["summary"]["num_statements"]),
                missing=int(entry["summary"]["missing_lines"]),
                branches=int(entry["summary"].get("num_branches", 0)),
                missing_branches=int(entry["summary"].get("missing_branches", 0)),
            )
            for name, entry in files.items()
        ]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ReportError(f"{report}: not a coverage.py JSON report ({err!r})") from err


def _selected(module: ModuleCoverage, prefixes: list[str]) -> bool:
    if not prefixes:
        return True
    path = PurePosixPath(module.path)
    return any(path.is_relative_to(PurePosixPath(prefix)) for prefix in prefixes)


def check(
    modules: list[ModuleCoverage], fail_under: float, prefixes: list[str] | None = None
) -> list[ModuleCoverage]:
    """Return the selected modules below ``fail_under`` percent, lowest first."""
    return sorted(
        (m for m in modules if _selected(m, prefixes or []) and m.percent < fail_under),
        key=lambda m: (m.percent, m.path),
    )


def table(modules: list[ModuleCoverage]) -> str:
    """Render the modules as a table, lowest coverage first."""
    rows = sorted(modules, key=lambda m: (m.percent, m.path))
    width = max((len(m.path) for m in rows), default=6)
    lines = [f"{'module':<{width}}  {'cover':>7}  {'miss':>5}  {'brmiss':>6}"]
    lines.extend(
        f"{m.path:<{width}}  {m.percent:>6.2f}%  {m.missing:>5}  {m.missing_branches:>6}"
        for m in rows
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Check the report; print the table and the verdict."""
    parser = argparse.ArgumentParser(prog="check_coverage", description=__doc__.split("\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--fail-under", type=float, default=DEFAULT_FAIL_UNDER)
    parser.add_argument("--prefix", action="append", default=[])
    args = parser.parse_args(argv[1:])
    try:
        modules = load(args.report)
    except ReportError as err:
        print(f"check_coverage: {err}", file=sys.stderr)
        return 2
    selected = [m for m in modules if _selected(m, args.prefix)]
    if not selected:
        print("check_coverage: no module of the report matches", file=sys.stderr)
        return 2
    print(table(selected))
    below = check(selected, args.fail_under)
    if below:
        print(f"check_coverage: {len(below)} module(s) below {args.fail_under:g} %:")
        for module in below:
            print(f"  {module.path}: {module.percent:.2f} %")
        return 1
    print(f"check_coverage: every module at or above {args.fail_under:g} % ({len(selected)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
