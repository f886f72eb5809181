"""What the command prints: a progress bar on stderr, a table on stdout, a CSV or JSON report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import csv
import json
from pathlib import Path
from typing import Any, TextIO

BAR_WIDTH = 30


class Progress:
    """``[#####.....] 12/20  1 failed`` on a terminal; one line per finished device elsewhere."""

    def __init__(self, total: int, stream: TextIO, *, enabled: bool = True) -> None:
        """Draw on ``stream`` (stderr) when ``enabled``."""
        self.total = total
        self.done = 0
        self.failed = 0
        self._stream = stream
        self._enabled = enabled and total > 0
        self._bar = enabled and stream.isatty()
        self._draw()

    def advance(self, label: str, *, ok: bool, detail: str) -> None:
        """One more device finished."""
        self.done += 1
        self.failed += 0 if ok else 1
        if not self._enabled:
            return
        if self._bar:
            self._draw()
        else:
            self._stream.write(f"[{self.done}/{self.total}] {label}: {detail}\n")
            self._stream.flush()

    def _draw(self) -> None:
        if not (self._enabled and self._bar):
            return
        filled = BAR_WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        failed = f"  {self.failed} failed" if self.failed else ""
        self._stream.write(f"\r[{bar}] {self.done}/{self.total}{failed}")
        if self.done >= self.total:
            self._stream.write("\n")
        self._stream.flush()


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], stream: TextIO) -> None:
    """Print ``rows`` as aligned columns (None as ``-``)."""
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max([len(column), *(len(line[index]) for line in cells)])
        for index, column in enumerate(columns)
    ]
    for line in [list(columns), *cells]:
        stream.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        stream.write("\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def write_report(path: str, rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> None:
    """Write ``rows`` to ``path``: JSON (``.json``: summary + devices) or CSV (anything else)."""
    target = Path(path)
    if target.suffix.lower() == ".json":
        payload = {**summary, "devices": list(rows)}
        target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        return
    columns = list(rows[0]) if rows else ["address"]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})
