"""``.github/workflows/``: the CI a HACS repository has, checked offline.

The workflows cannot run here, so this module keeps them honest statically:

* every workflow parses as YAML and has triggers (``on``) and ``jobs``; every job has
  ``runs-on`` and a list of ``steps``; every step has exactly one of ``uses`` and ``run``;
* every ``uses`` is a well-formed reference (``owner/repo[/path]@ref``, ``./local`` or
  ``docker://image``); the actions this repository relies on use the refs their documentation
  gives: ``home-assistant/actions/hassfest@master`` (home-assistant/actions README),
  ``hacs/action@main`` (hacs.xyz "GitHub Action") and a major version tag (``v5``) for
  GitHub's own ``actions/*``;
* the three checks are present: hassfest (after a checkout in its job: the action validates the
  checked-out workspace), HACS validation with ``category: integration``, and a job that runs
  the README's test command ``scripts/test``; every ``actions/setup-python`` step names its
  ``python-version``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import re
from typing import Any

import yaml

from tools.quality_scale import load_yaml

HASSFEST = "home-assistant/actions/hassfest@master"
HACS = "hacs/action@main"
#: Actions whose ref is fixed by their documentation (action -> ref).
DOCUMENTED_REFS = {"home-assistant/actions/hassfest": "master", "hacs/action": "main"}
USES_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[A-Za-z0-9_./-]+$")
MAJOR_TAG_RE = re.compile(r"^v\d+$")
TEST_COMMAND_RE = re.compile(r"(^|[\s;&|])scripts/test(\s|$)", re.MULTILINE)


def check_workflows(folder: Path) -> list[str]:
    """Problems of the workflows in ``folder`` (``.github/workflows``); empty when all is well."""
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
    if not files:
        return [f"{folder.name}: no workflow (hassfest, HACS validation and tests are expected)"]
    problems: list[str] = []
    steps: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = []
    for path in files:
        where = f"{folder.name}/{path.name}"
        try:
            data = load_yaml(path)
        except yaml.YAMLError as err:
            problems.append(f"{where}: invalid YAML: {' '.join(str(err).split())}")
            continue
        problems += [f"{where}: {p}" for p in _check_workflow(data)]
        steps.extend(
            (f"{where} job {job_name}", job_steps, step)
            for job_name, job_steps in _jobs(data)
            for step in job_steps
        )
    problems += _check_required(steps)
    return problems


def _jobs(data: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(name, steps) of every well-formed job."""
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, dict):
        return
    for name, job in jobs.items():
        if isinstance(job, dict) and isinstance(job.get("steps"), list):
            yield str(name), [s for s in job["steps"] if isinstance(s, dict)]


def _check_workflow(data: Any) -> Iterator[str]:
    """Structure of one workflow file."""
    if not isinstance(data, dict):
        yield "must be a mapping"
        return
    # YAML 1.1 (PyYAML) reads the key ``on`` as the boolean True; GitHub reads it as "on".
    if "on" not in data and True not in data:
        yield "no triggers ('on')"
    jobs = data.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        yield "no jobs"
        return
    for name, job in jobs.items():
        if not isinstance(job, dict):
            yield f"job {name}: must be a mapping"
            continue
        if "runs-on" not in job:
            yield f"job {name}: 'runs-on' missing"
        steps = job.get("steps")
        if not isinstance(steps, list) or not steps:
            yield f"job {name}: 'steps' must be a non-empty list"
            continue
        for index, step in enumerate(steps):
            yield from (f"job {name} step {index + 1}: {p}" for p in _check_step(step))


def _check_step(step: Any) -> Iterator[str]:
    """One step: exactly one of uses/run, and a well-formed, documented ``uses``."""
    if not isinstance(step, dict):
        yield "must be a mapping"
        return
    if ("uses" in step) == ("run" in step):
        yield "needs exactly one of 'uses' and 'run'"
    uses = step.get("uses")
    if uses is None:
        return
    uses = str(uses)
    if uses.startswith(("./", "docker://")):
        return
    if not USES_RE.match(uses):
        yield f"malformed action reference {uses!r} (owner/repo[/path]@ref)"
        return
    action, ref = uses.rsplit("@", 1)
    if action in DOCUMENTED_REFS and ref != DOCUMENTED_REFS[action]:
        yield f"{action} is documented as @{DOCUMENTED_REFS[action]}, not @{ref}"
    if action.startswith("actions/") and not MAJOR_TAG_RE.match(ref):
        yield f"{uses}: use a major version tag such as @v5"
    if action == "actions/setup-python" and not (step.get("with") or {}).get("python-version"):
        yield "actions/setup-python without 'python-version'"
    if action == "hacs/action" and (step.get("with") or {}).get("category") != "integration":
        yield "hacs/action needs 'with: category: integration'"


def _check_required(steps: list[tuple[str, list[dict[str, Any]], dict[str, Any]]]) -> list[str]:
    """Check that hassfest (after a checkout), HACS validation and the test command are present."""
    problems = []
    hassfest = [(where, job) for where, job, step in steps if step.get("uses") == HASSFEST]
    if not hassfest:
        problems.append(f"workflows: no step uses {HASSFEST}")
    for where, job in hassfest:
        index = next(i for i, s in enumerate(job) if s.get("uses") == HASSFEST)
        if not any(str(s.get("uses", "")).startswith("actions/checkout@") for s in job[:index]):
            problems.append(f"{where}: hassfest needs actions/checkout before it")
    if not any(step.get("uses") == HACS for _where, _job, step in steps):
        problems.append(f"workflows: no step uses {HACS}")
    if not any(TEST_COMMAND_RE.search(str(step.get("run", ""))) for _w, _j, step in steps):
        problems.append("workflows: no step runs the test command scripts/test")
    return problems
