"""Print a benchmark report as plain-text tables (one per section)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def grid(header: Sequence[str], rows: list[list[Any]]) -> str:
    """Left-aligned columns, a rule under the header."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [
        max([len(title), *(len(row[index]) for row in cells)]) for index, title in enumerate(header)
    ]
    lines = ["  ".join(title.ljust(width) for title, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _ratio(measured: Any, limit: Any, ratio: Any) -> str:
    if measured is None:
        return "-"
    return f"{measured:g} / {_cell(limit)} = {_cell(ratio)}x"


def p1(rows: list[dict[str, Any]]) -> str:
    """P1: one provisioning per protocol."""
    header = [
        "case",
        "outcome",
        "W/R/N",
        "disc.",
        "wall ms",
        "session ms / limit",
        "protocol ms / limit",
        "client waits (+ms)",
    ]
    body = []
    for row in rows:
        if "runs" not in row:
            reason = str(row.get("unavailable") or row.get("error"))
            body.append([row["case"], reason[:60] + ("..." if len(reason) > 60 else ""), *[""] * 6])
            continue
        waits = ", ".join(
            f"{wait['before']} +{wait['beyond_model_ms']:g}" for wait in row["client_waits"][:3]
        )
        body.append(
            [
                row["case"],
                "/".join(row["outcomes"]),
                f"{row['att_writes']}/{row['att_reads']}/{row['notifications']}",
                row["discovery_requests"],
                row["wall_ms"],
                _ratio(row["session_ms"], row["session_limit_ms"], row["session_ratio"]),
                _ratio(row["protocol_ms"], row["protocol_limit_ms"], row["protocol_ratio"]),
                waits or "-",
            ]
        )
    return grid(header, body)


def p2(results: dict[str, Any]) -> str:
    """P2: stalls during negotiations."""
    header = ["negotiation", "wall ms", "stall median/max ms", "idle median/max ms", "beyond idle"]
    body = [
        [
            name,
            row["negotiation_median_ms"],
            f"{row['stall_median_ms']:g} / {row['stall_max_ms']:g}",
            f"{row['idle_median_ms']:g} / {row['idle_max_ms']:g}",
            row["beyond_idle_ms"],
        ]
        for name, row in results.items()
    ]
    return grid(header, body)


def p3(results: dict[str, Any]) -> str:
    """P3: custom data against the frame bound."""
    header = [
        "MTU",
        "bytes",
        "frames (min)",
        "transfer ms",
        "bound ms",
        "of bound",
        "KiB/s",
        "bench CPU/frame ms",
        "CPU of frame time",
    ]
    body = [
        [
            row["mtu"],
            row["bytes"],
            f"{row['frames']} ({row['frames_minimum']})",
            row["transfer_ms"],
            row["bound_ms"],
            row["of_bound"],
            row["kib_per_s"],
            row["cpu_per_frame_ms"],
            row.get("cpu_of_frame_time"),
        ]
        for row in results.values()
    ]
    return grid(header, body)


def p6(results: dict[str, Any]) -> str:
    """P6: failure to outcome."""
    header = ["protocol", "outcome", "failure -> outcome ms (median)", "worst ms"]
    body = [
        [name, "/".join(row["outcomes"]), row["failure_to_outcome_ms"], row["worst_ms"]]
        for name, row in results.items()
    ]
    return grid(header, body)


def p4(results: dict[str, Any]) -> str:
    """P4: many devices."""
    header = [
        "path",
        "devices",
        "wrong pw",
        "failures",
        "unexpected",
        "total s",
        "ideal s",
        "of ideal",
        "slots free",
        "retries",
    ]
    body: list[list[Any]] = []
    for path, section in results.items():
        if not isinstance(section, dict) or "scenarios" not in section:
            body.append([path, _cell(section), *[""] * 8])
            continue
        body += [
            [
                path,
                row["devices"],
                row["expected_failures"],
                row["failures"],
                len(row["unexpected"]),
                row["total_s"],
                row["ideal_s"],
                row["of_ideal"],
                row["all_slots_free"],
                row.get("retries"),
            ]
            for row in section["scenarios"]
        ]
    return grid(header, body)


def p5(results: dict[str, Any]) -> str:
    """P5: slot time at rest."""
    header = ["devices", "simulated min", "refreshes", "slot s per device (median/max)", "goal"]
    row = results
    return grid(
        header,
        [
            [
                row["devices"],
                row["simulated_minutes"],
                row["refreshes"],
                f"{row['slot_s_per_device_median']:g} / {row['slot_s_per_device_max']:g}",
                "<= 2 s",
            ]
        ],
    )


def fleet(results: dict[str, Any]) -> str:
    """Fleet moves."""
    header = ["move", "completed", "canary", "moved", "failed", "untouched", "total s"]
    body = [
        [
            name,
            row["report"]["completed"],
            row["canary_status"],
            len(row["report"]["moved"]),
            len(row["report"]["failed"]),
            len(row["report"]["untouched"]),
            row["total_s"],
        ]
        for name, row in results.items()
    ]
    return grid(header, body)


def soak(results: dict[str, Any]) -> str:
    """Soaks."""
    header = ["security", "negotiations", "failures", "total s", "per negotiation ms"]
    body = [
        [name, row["negotiations"], row["failures"], row["total_s"], row["per_negotiation_ms"]]
        for name, row in results.items()
    ]
    return grid(header, body)


FORMATS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "P1": ("P1 one provisioning vs the physical limit", p1),
    "P2": ("P2 event-loop stall during a negotiation", p2),
    "P3": ("P3 custom data vs the BluFi frame bound", p3),
    "P4": ("P4 many devices", p4),
    "P5": ("P5 slot time at rest", p5),
    "P6": ("P6 device failure to reported outcome", p6),
    "FLEET": ("Fleet move with a canary", fleet),
    "SOAK": ("Soak: negotiations on one connection", soak),
}


def render(sections: dict[str, Any]) -> str:
    """Every section present, titled, in a fixed order."""
    parts = []
    for key, (title, formatter) in FORMATS.items():
        for name, value in sections.items():
            if name.split("@")[0] != key:
                continue
            where = name.split("@", 1)[1] if "@" in name else ""
            label = f"{title} [{where}]" if where else title
            if name.endswith(" errors"):
                lines = "\n".join(f"  {test}: {text[:300]}" for test, text in value.items())
                parts.append(f"{label}\n{lines}")
            elif isinstance(value, dict) and "skipped" in value:
                parts.append(f"{label}\n  skipped: {value['skipped']}")
            elif isinstance(value, dict) and "error" in value and len(value) == 1:
                parts.append(f"{label}\n  error: {value['error']}")
            else:
                try:
                    parts.append(f"{label}\n{formatter(value)}")
                except (KeyError, TypeError, AttributeError) as err:
                    parts.append(f"{label}\n  (incomplete figures: {err!r}; see the JSON)")
    return "\n\n".join(parts)
