"""``scripts/bench``: every benchmark on the link profiles, one table and one JSON report.

Sections (``--only``, comma-separated):

* **P1** one provisioning per protocol vs its physical limit, pyblufi 0.1.0 as a peer
  (:mod:`.provisioning`; ``esphome-proxy`` through Home Assistant);
* **P2** the longest event-loop stall during a negotiation vs the idle baseline (:mod:`.stall`);
* **P3** 64 KiB of custom data at MTU 23/185/517 vs the BluFi frame bound (:mod:`.custom_data`);
* **P4** 20 and 50 BluFi devices (mixed V1/V2), and 20 with 3 wrong passwords, behind 2 x 3
  slots: the engine alone (:mod:`.engine`) and through Home Assistant (:mod:`.ha_scenarios`);
* **P5** slot time per device at rest over 10 minutes of background refreshes (Home Assistant);
* **P6** from the device's failure to the reported outcome, BluFi and Bluenet (:mod:`.outcome`);
* **FLEET** the fleet move with a canary, succeeding and failing (:mod:`.fleet_move`);
* **SOAK** 1000 V1 and 1000 V2 negotiations on one connection (:mod:`.soak`; ``ideal``, 0 ms).

P2, P3, P6 and the soak exercise the client itself: they run on the stand-alone profiles
(``ideal``, ``bluez-local``). Home Assistant scenarios run under
pytest-homeassistant-custom-component's harness in a child pytest process
(:mod:`.ha_scenarios`), which writes its figures to JSON for this command to merge.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
from typing import Any

from bench.link.profiles import BLUEZ_LOCAL, ESPHOME_PROXY, IDEAL, PROFILES

from . import custom_data, engine, fleet_move, outcome, provisioning, soak, stall, table
from .harness import DEFAULT_DIR, ROOT, Context, write_report
from .quiet import packet_strings_off

SECTIONS = ("P1", "P2", "P3", "P4", "P5", "P6", "FLEET", "SOAK")
QUICK = ("P1", "P3", "P6")
QUICK_CUSTOM_DATA = 8192
"""Bytes of custom data in the quick P3 (the ratio to the bound does not depend on the size)."""
STANDALONE = (IDEAL, BLUEZ_LOCAL)
HOME_ASSISTANT = {"P1": (ESPHOME_PROXY,), "P4": tuple(PROFILES), "P5": tuple(PROFILES)}
"""Sections with a Home Assistant part, and the profiles it runs on."""


SKIPPED = {
    "client": "client-level: runs on the stand-alone profiles (ideal, bluez-local)",
    "FLEET": (
        "the library's fleet move runs on the stand-alone profiles; Home Assistant's fleet"
        " action is not on this commit"
    ),
}


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench", description="Benchmarks on the bench's link profiles."
    )
    parser.add_argument(
        "--profile",
        default=BLUEZ_LOCAL,
        help=(
            f"link profile: {', '.join(PROFILES)}, several comma-separated, or all"
            " (default bluez-local: services cached, as real stacks do)"
        ),
    )
    parser.add_argument(
        "--interval-ms", type=float, default=30.0, help="connection interval (default 30)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="the short version CI runs: P1, P3 at MTU 517, P6"
    )
    parser.add_argument("--only", default="", help=f"sections, comma-separated: {SECTIONS}")
    parser.add_argument("--json", type=Path, help="report path (default artifacts/benchmarks)")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3; quick 1)")
    parser.add_argument(
        "--soak", type=int, default=1000, help="negotiations per soak (default 1000)"
    )
    parser.add_argument(
        "--p3-mtus", default="", help="MTUs of P3, comma-separated (default 23,185,517)"
    )
    parser.add_argument(
        "--devices", default="", help="P4 scenarios as N or N:wrong (default 20,50,20:3)"
    )
    parser.add_argument(
        "--render", type=Path, help="print the tables of an earlier report and exit"
    )
    options = parser.parse_args(argv)
    wanted = [part.strip().upper() for part in options.only.split(",") if part.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown} (known: {', '.join(SECTIONS)})")
    options.sections = wanted or list(QUICK if options.quick else SECTIONS)
    chosen = [part.strip() for part in options.profile.split(",") if part.strip()]
    options.profiles = list(PROFILES) if chosen == ["all"] else chosen
    strange = sorted(set(options.profiles) - set(PROFILES))
    if strange or not options.profiles:
        parser.error(f"unknown profiles {strange} (known: {', '.join(PROFILES)}, all)")
    return options


def _scenarios(text: str, quick: bool) -> list[tuple[int, int]]:
    if not text:
        return [(6, 0)] if quick else [(20, 0), (50, 0), (20, 3)]
    result = []
    for part in text.split(","):
        count, _, wrong = part.partition(":")
        result.append((int(count), int(wrong or 0)))
    return result


async def _standalone(
    section: str, profile: str, context: Context, options: argparse.Namespace
) -> Any:
    runs = options.runs or (1 if options.quick else 3)
    interval = context.interval
    if section == "P1":
        return await provisioning.run(profile, interval, runs, fetch_peer=not options.quick)
    if section == "P2":
        return await stall.run(profile, interval, options.runs or (3 if options.quick else 10))
    if section == "P3":
        mtus = tuple(int(mtu) for mtu in options.p3_mtus.split(",") if mtu) or (
            (517,) if options.quick else custom_data.MTUS
        )
        size = QUICK_CUSTOM_DATA if options.quick else custom_data.SIZE
        return await custom_data.run(profile, interval, mtus, size=size)
    if section == "P4":
        scenarios = _scenarios(options.devices, options.quick)
        return {"engine (no Home Assistant)": await engine.run(profile, interval, scenarios)}
    if section == "P6":
        return await outcome.run(profile, interval, runs)
    if section == "FLEET":
        return await fleet_move.run(profile, interval)
    if section == "SOAK":
        return await soak.run(options.soak)
    return {"skipped": "runs only through Home Assistant"}


def _ha_part(
    sections: list[str], profiles: list[str], context: Context, options: argparse.Namespace
) -> dict[str, Any]:
    """Run the Home Assistant scenarios in a child pytest; return its sections."""
    wanted = {
        section: [profile for profile in profiles if profile in HOME_ASSISTANT[section]]
        for section in sections
        if section in HOME_ASSISTANT
    }
    wanted = {section: chosen for section, chosen in wanted.items() if chosen}
    if not wanted:
        return {}
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "ha.json"
        plan = {
            "sections": wanted,
            "interval_ms": context.interval_ms,
            "quick": options.quick,
            "runs": options.runs or (1 if options.quick else 3),
            "devices": _scenarios(options.devices, options.quick),
            "output": str(output),
        }
        env = {**os.environ, "BENCH_PLAN": json.dumps(plan)}
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(Path(__file__).with_name("ha_scenarios.py")),
            "-p",
            "bench.benchmarks.ha_plugin",
            "-q",
            "-p",
            "no:cacheprovider",
            "--no-header",
        ]
        completed = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=env, check=False, capture_output=True, text=True
        )
        log = DEFAULT_DIR / "home-assistant-scenarios.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(completed.stdout + completed.stderr, encoding="utf-8")
        summary = completed.stdout.strip().splitlines()[-1:] or ["(no output)"]
        sys.stdout.write(f"Home Assistant scenarios: {summary[0]} (log: {log})\n")
        if output.exists():
            found: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
            return found
        return {
            f"{section}@{profile}": {"error": f"Home Assistant run ended {completed.returncode}"}
            for section, chosen in wanted.items()
            for profile in chosen
        }


def _merge(sections: dict[str, Any], found: dict[str, Any]) -> None:
    for key, value in found.items():
        current = sections.get(key)
        if isinstance(current, dict) and isinstance(value, dict) and "skipped" not in current:
            current.update(value)
        else:
            sections[key] = value


async def _run_standalone(
    options: argparse.Namespace, profiles: list[str], context: Context
) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    for section in options.sections:
        if section == "SOAK":
            sections["SOAK@ideal 0 ms"] = await _guarded(section, IDEAL, context, options)
            continue
        for profile in profiles:
            key = f"{section}@{profile}"
            if profile not in STANDALONE:
                if section not in HOME_ASSISTANT:
                    sections[key] = {"skipped": SKIPPED.get(section, SKIPPED["client"])}
                continue
            if section == "P5":
                continue
            sections[key] = await _guarded(section, profile, context, options)
    return sections


async def _guarded(
    section: str, profile: str, context: Context, options: argparse.Namespace
) -> Any:
    """Run one section; a section that breaks is reported, and the others still run."""
    try:
        return await _standalone(section, profile, context, options)
    except Exception as err:  # noqa: BLE001 - one broken section must not lose the others
        return {"error": f"{type(err).__name__}: {err}"}
    finally:
        context.sample()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen sections; print the tables; write the JSON report."""
    options = _parse(argv)
    if options.render is not None:
        report = json.loads(options.render.read_text(encoding="utf-8"))
        sys.stdout.write(_header(report["context"]) + table.render(report["results"]) + "\n")
        return 0
    profiles = options.profiles
    context = Context(profile=options.profile, interval_ms=options.interval_ms, quick=options.quick)
    with packet_strings_off():
        sections = asyncio.run(_run_standalone(options, profiles, context))
    _merge(sections, _ha_part(options.sections, profiles, context, options))
    context.sample()
    name = "bench-quick" if options.quick else f"bench-{options.profile.replace(',', '+')}"
    path = options.json or DEFAULT_DIR / f"{name}.json"
    write_report(path, context, name, sections)
    sys.stdout.write(_header(context.as_dict()) + table.render(sections) + f"\n\nwritten: {path}\n")
    return 0


def _header(context: dict[str, Any]) -> str:
    return (
        f"\ncommit {context['commit']}{' (dirty)' if context['dirty'] else ''}, leg"
        f" {context['leg']} (Python {context['python']}), profile {context['profile']}, interval"
        f" {context['interval_ms']:g} ms, load average {context['load_average_start']} ->"
        f" {context['load_average_end']} (between sections:"
        f" {', '.join(str(value) for value in context.get('load_average_between_sections', []))})"
        f" on {context['cpus']} CPUs\n\n"
    )
