"""Check an installed leg: every pin of a requirements file and of HA's constraints holds.

Usage: python tools/check_pins.py requirements/<leg>.txt
Exits 1 on a mismatch. Only packages that are installed are compared with HA's
``package_constraints.txt`` (it lists far more than a test environment needs).
"""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path
import re
import sys

import homeassistant

_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;#]+)")


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("-r "):
            pins.update(_pins(path.parent / line[3:].strip()))
            continue
        if match := _PIN.match(line):
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _installed(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def main(argv: list[str]) -> int:
    """Compare installed versions with the pins; print the mismatches."""
    wanted = _pins(Path(argv[1]))
    constraints = _pins(Path(homeassistant.__file__).parent / "package_constraints.txt")
    problems: list[str] = []
    for name, version in sorted(wanted.items()):
        if (have := _installed(name)) != version:
            problems.append(f"{name}: want {version}, have {have}")
    for name, version in sorted(constraints.items()):
        if name in wanted:
            continue
        have = _installed(name)
        if have is not None and have != version:
            problems.append(f"{name}: HA pins {version}, have {have}")
    for line in problems:
        print(f"pin mismatch: {line}")
    if not problems:
        print(f"pins OK ({len(wanted)} from {argv[1]}, HA constraints respected)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
