"""Load the known-answer vectors recorded from ESP-IDF's own BluFi device code."""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import re
from typing import Any

#: A byte-identical copy of the project's shared ``vectors/``, so a plain clone tests them.
VECTORS = Path(__file__).resolve().parents[2] / "data" / "vectors"

_LINE = re.compile(
    r"^\s*[\d.]+ (?P<dir>[WN]) (?P<name>\S+)\s+fc=(?P<fc>[A-Z]*)\s+seq=(?P<seq>\d+)\s+"
    r"len=(?P<len>\d+)\s+(?P<crc>crc-ok|CRC-BAD)?\s*plain=(?P<plain>[0-9a-f]*)"
    r"(?P<trunc>\.\.\.\((?P<full>\d+) B\))?\s*$"
)


@dataclass(frozen=True)
class Annotated:
    """One decoded frame from an ``*.annotated.txt`` file."""

    direction: str
    name: str
    flags: str
    seq: int
    length: int
    crc_bad: bool
    plain: bytes
    truncated: bool


def load_session(variant: str) -> dict[str, Any]:
    path = VECTORS / f"blufi-{variant}-session.json"
    assert path.exists(), f"vector file missing: {path}"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def load_annotated(variant: str) -> list[Annotated]:
    out = []
    for line in (VECTORS / f"blufi-{variant}-session.annotated.txt").read_text().splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        out.append(
            Annotated(
                direction=m["dir"],
                name=m["name"],
                flags=m["fc"],
                seq=int(m["seq"]),
                length=int(m["len"]),
                crc_bad=m["crc"] == "CRC-BAD",
                plain=bytes.fromhex(m["plain"]),
                truncated=m["trunc"] is not None,
            )
        )
    return out


def load_leading_zero() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "blufi-leading-zero.json").read_text())
    return data
