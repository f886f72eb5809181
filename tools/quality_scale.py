"""``quality_scale.yaml`` against the rules of Home Assistant's current integration quality scale.

hassfest validates this file only for core integrations; a custom integration keeps it as a
self-audit, so nothing upstream would notice a file that does not even parse. This module checks
it the way hassfest's ``script/hassfest/quality_scale.py`` does (home-assistant/core, read at
commit 008538e822535b1d6155c91f6642127afa184ed1):

* the file parses as YAML (duplicate keys are refused: PyYAML would silently keep the last);
* its only top-level key is ``rules``;
* every rule of the scale is listed and no other: hassfest's schema names each rule and
  refuses extra keys; listing all of them makes a new rule (as ``docs-conditions`` and
  ``docs-triggers`` were) fail here until it is audited;
* each status is ``done``, ``todo``, ``{status: done|todo, comment: ...}`` or
  ``{status: exempt, comment: ...}`` with a non-empty comment;
* when the manifest declares a ``quality_scale`` tier, every rule of that tier and the tiers
  below is done or exempt.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

#: The rules of each tier, in hassfest's order (``ALL_RULES``).
TIERS: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": (
        "async-dependency",
        "inject-websession",
        "strict-typing",
    ),
}
ALL_RULES: tuple[str, ...] = tuple(rule for rules in TIERS.values() for rule in rules)
STATUSES = ("done", "todo")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
    seen: set[Hashable] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parse ``path`` as YAML, refusing duplicate keys; raises :class:`yaml.YAMLError`."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506


def check_quality_scale(path: Path, declared_tier: object = None) -> list[str]:
    """Problems of the quality scale file at ``path`` (empty when it is valid)."""
    if not path.is_file():
        return ["missing (the integration keeps its quality-scale self-audit here)"]
    try:
        data = load_yaml(path)
    except yaml.YAMLError as err:
        return [f"invalid YAML: {' '.join(str(err).split())}"]
    if not isinstance(data, dict) or not isinstance(data.get("rules"), dict):
        return ["must be a mapping with a 'rules' mapping"]
    problems = [f"unknown top-level key {key!r}" for key in data if key != "rules"]
    rules: dict[Any, Any] = data["rules"]
    problems += [f"rule {rule!r} missing" for rule in ALL_RULES if rule not in rules]
    problems += [f"unknown rule {rule!r}" for rule in rules if rule not in ALL_RULES]
    met: set[str] = set()
    for rule, value in rules.items():
        status = _status(value)
        if status is None:
            problems.append(
                f"rule {rule!r}: status must be done, todo or "
                "{status: exempt, comment: ...} (with a comment)"
            )
        elif status != "todo":
            met.add(str(rule))
    if declared_tier is not None:
        problems += _tier_problems(declared_tier, met)
    return problems


def _status(value: Any) -> str | None:
    """Return the status of one rule's value, or None if the value is malformed."""
    if isinstance(value, str):
        return value if value in STATUSES else None
    if not isinstance(value, dict) or set(value) != {"status", "comment"}:
        return None
    status, comment = value["status"], value["comment"]
    if not isinstance(comment, str) or not comment.strip():
        return None
    return status if status in (*STATUSES, "exempt") else None


def _tier_problems(declared: object, met: set[str]) -> list[str]:
    """Rules the declared tier (and the tiers below it) needs that are not done or exempt."""
    if declared not in TIERS:
        return [f"manifest quality_scale {declared!r} is not one of {', '.join(TIERS)}"]
    problems = []
    for tier, rules in TIERS.items():
        problems += [
            f"tier {declared} needs rule {rule!r} done or exempt ({tier})"
            for rule in rules
            if rule not in met
        ]
        if tier == declared:
            break
    return problems
