"""Offline checker for the HACS and hassfest rules this repository must follow.

hassfest only runs from a Home Assistant core checkout (or its Docker image) and HACS validation
only runs as a GitHub action; neither works offline here. This module re-implements the checks
that matter for a custom integration (``shared/spec/home-assistant.md`` §4):

* one integration in ``custom_components/``; ``hacs.json`` with only the keys HACS accepts;
* ``manifest.json``: the keys HACS and hassfest require, no unknown keys, ``domain`` equal to
  the folder name, keys ordered ``domain``, ``name``, then alphabetically, a valid ``version``,
  ``iot_class`` and ``integration_type``, https documentation that is not home-assistant.io,
  bluetooth matchers with known keys and lower-case UUIDs;
* ``translations/en.json`` present, literal (no ``[%key:...%]`` references), identical to
  ``strings.json`` when that exists, snake-case translation keys, a ``config`` section when
  there is a config flow;
* ``services.yaml``: every action and field has a name and description in the translations
  and an icon in ``icons.json``;
* ``brand/icon.png`` for the HACS brands check;
* ``quality_scale.yaml`` against the current quality scale's rules (``tools/quality_scale.py``);
* ``.github/workflows/``: hassfest, HACS validation and the test command (``tools/workflows.py``).

Usage: ``python tools/check_repo.py [repository root]``; prints the problems and exits 1 if any.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
import json
from pathlib import Path
import re
import sys
from typing import Any

import yaml

if not __package__:  # run as a script (python tools/check_repo.py): make ``tools`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.quality_scale import check_quality_scale, load_yaml
from tools.workflows import check_workflows

HACS_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "content_in_root": bool,
    "zip_release": bool,
    "filename": str,
    "render_readme": bool,
    "hide_default_branch": bool,
    "country": (str, list),
    "homeassistant": str,
    "hacs": str,
    "persistent_directory": str,
}

# Keys hassfest's custom-integration manifest schema accepts.
MANIFEST_KEYS = {
    "domain",
    "name",
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "documentation",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
HACS_REQUIRED = ("domain", "name", "documentation", "issue_tracker", "codeowners", "version")
HASSFEST_REQUIRED = ("domain", "name", "codeowners", "iot_class", "version")
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {"device", "entity", "hardware", "helper", "hub", "service", "system"}
BLUETOOTH_KEYS = {
    "connectable",
    "local_name",
    "manufacturer_data_start",
    "manufacturer_id",
    "service_data_uuid",
    "service_uuid",
}
# CalVer / SemVer / SimpleVer / PEP 440 (the forms AwesomeVersion accepts for custom manifests).
VERSION_RE = re.compile(
    r"^v?\d+(\.\d+){0,3}"
    r"((a|b|rc|\.dev|\.post|-?beta|-?alpha|-dev)\d*)?"
    r"(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
TRANSLATION_KEY_RE = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
KEYED_SECTIONS = ("entity", "exceptions", "issues", "services", "selector")


class Checker:
    """Collects problems found in one repository."""

    def __init__(self, root: Path) -> None:
        """Check the repository at ``root``."""
        self.root = root
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        """Record one problem."""
        self.problems.append(f"{where}: {message}")

    def load_json(self, path: Path) -> Any:
        """Read a JSON file, recording a problem (and returning None) if it is not valid."""
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.fail(self.rel(path), "missing")
        except json.JSONDecodeError as err:
            self.fail(self.rel(path), f"invalid JSON: {err}")
        return None

    def rel(self, path: Path) -> str:
        """Path relative to the repository root, for messages."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def run(self) -> list[str]:
        """Run every check; return the problems."""
        integration = self.check_layout()
        self.check_hacs()
        if integration is not None:
            manifest = self.check_manifest(integration)
            translations = self.check_translations(integration, manifest or {})
            self.check_services(integration, translations or {})
            if not (integration / "brand" / "icon.png").is_file():
                self.fail(self.rel(integration), "brand/icon.png missing (HACS brands check)")
            scale = integration / "quality_scale.yaml"
            tier = (manifest or {}).get("quality_scale")
            for problem in check_quality_scale(scale, tier):
                self.fail(self.rel(scale), problem)
        for problem in check_workflows(self.root / ".github" / "workflows"):
            self.fail(".github", problem)
        return self.problems

    def check_layout(self) -> Path | None:
        """Exactly one integration under custom_components/, plus README and LICENSE."""
        for required in ("README.md", "LICENSE", "hacs.json"):
            if not (self.root / required).is_file():
                self.fail(required, "missing in the repository root")
        base = self.root / "custom_components"
        dirs = (
            sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "__")))
            if base.is_dir()
            else []
        )
        if len(dirs) != 1:
            self.fail("custom_components", f"must hold exactly one integration, found {len(dirs)}")
            return dirs[0] if dirs else None
        return dirs[0]

    def check_hacs(self) -> None:
        """hacs.json: only accepted keys, with the right types; name required."""
        data = self.load_json(self.root / "hacs.json")
        if not isinstance(data, dict):
            if data is not None:
                self.fail("hacs.json", "must be an object")
            return
        if not isinstance(data.get("name"), str) or not data.get("name"):
            self.fail("hacs.json", "'name' is required")
        for key, value in data.items():
            if key not in HACS_KEYS:
                self.fail("hacs.json", f"unknown key {key!r} (HACS rejects extra keys)")
            elif not isinstance(value, HACS_KEYS[key]):
                self.fail("hacs.json", f"{key!r} has the wrong type")
        if "homeassistant" in data and not VERSION_RE.match(str(data["homeassistant"])):
            self.fail("hacs.json", "'homeassistant' is not a version")
        if data.get("zip_release") and "filename" not in data:
            self.fail("hacs.json", "'zip_release' needs 'filename'")

    def check_manifest(self, integration: Path) -> dict[str, Any] | None:
        """manifest.json against HACS's and hassfest's rules."""
        where = self.rel(integration / "manifest.json")
        data = self.load_json(integration / "manifest.json")
        if not isinstance(data, dict):
            return None
        for key in (*HACS_REQUIRED, *HASSFEST_REQUIRED):
            if key not in data:
                self.fail(where, f"required key {key!r} missing")
        for key in data:
            if key not in MANIFEST_KEYS:
                self.fail(where, f"unknown key {key!r}")
        keys = list(data)
        expected = [k for k in ("domain", "name") if k in data]
        expected += sorted(k for k in keys if k not in ("domain", "name"))
        if keys != expected:
            self.fail(where, f"keys must be ordered domain, name, then alphabetically: {expected}")
        if data.get("domain") != integration.name:
            self.fail(where, f"domain {data.get('domain')!r} differs from the folder name")
        if "version" in data and not VERSION_RE.match(str(data["version"])):
            self.fail(where, f"version {data['version']!r} is not a valid version")
        if "iot_class" in data and data["iot_class"] not in IOT_CLASSES:
            self.fail(where, f"unknown iot_class {data['iot_class']!r}")
        if data.get("integration_type", "hub") not in INTEGRATION_TYPES:
            self.fail(where, f"unknown integration_type {data['integration_type']!r}")
        for key in ("documentation", "issue_tracker"):
            url = data.get(key)
            if url is not None and not str(url).startswith("https://"):
                self.fail(where, f"{key} must be an https URL")
        if "home-assistant.io" in str(data.get("documentation", "")):
            self.fail(where, "custom integrations must not document on home-assistant.io")
        for key in ("codeowners", "dependencies", "after_dependencies", "requirements", "loggers"):
            value = data.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.fail(where, f"{key} must be a list of strings")
        for owner in data.get("codeowners", []):
            if not str(owner).startswith("@"):
                self.fail(where, f"codeowner {owner!r} must start with @")
        if data.get("config_flow") and not (integration / "config_flow.py").is_file():
            self.fail(where, "config_flow is true but config_flow.py is missing")
        self.check_bluetooth(where, data.get("bluetooth", []))
        return data

    def check_bluetooth(self, where: str, matchers: Any) -> None:
        """Bluetooth matchers: known keys, lower-case UUIDs, at least one match key."""
        if not isinstance(matchers, list):
            self.fail(where, "bluetooth must be a list of matchers")
            return
        for index, matcher in enumerate(matchers):
            if not isinstance(matcher, dict):
                self.fail(where, f"bluetooth[{index}] must be an object")
                continue
            unknown = set(matcher) - BLUETOOTH_KEYS
            if unknown:
                self.fail(where, f"bluetooth[{index}] has unknown keys {sorted(unknown)}")
            if not set(matcher) - {"connectable"}:
                self.fail(where, f"bluetooth[{index}] matches nothing")
            for key in ("service_uuid", "service_data_uuid"):
                uuid = matcher.get(key)
                if uuid is not None and uuid != str(uuid).lower():
                    self.fail(where, f"bluetooth[{index}].{key} must be lower case")
            name = matcher.get("local_name")
            if name is not None and len(re.split(r"[*?\[]", str(name))[0]) < 3:
                self.fail(where, f"bluetooth[{index}].local_name needs 3 literal characters")

    def check_translations(
        self, integration: Path, manifest: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """translations/en.json: present, literal, consistent with strings.json."""
        path = integration / "translations" / "en.json"
        where = self.rel(path)
        data = self.load_json(path)
        if not isinstance(data, dict):
            return None
        text = path.read_text(encoding="utf-8")
        if "[%key:" in text:
            self.fail(where, "[%key:...%] references are only resolved for core integrations")
        strings = integration / "strings.json"
        if strings.is_file() and self.load_json(strings) != data:
            self.fail(self.rel(strings), "differs from translations/en.json")
        if manifest.get("config_flow") and "config" not in data:
            self.fail(where, "a config flow needs a 'config' section")
        for section in KEYED_SECTIONS:
            for key in _keys(data.get(section, {}), depth=2 if section == "entity" else 1):
                if not TRANSLATION_KEY_RE.match(key):
                    self.fail(where, f"{section}: translation key {key!r} is not snake_case")
        for placeholder_text in _strings(data):
            if placeholder_text.count("{") != placeholder_text.count("}"):
                self.fail(where, f"unbalanced placeholder braces in {placeholder_text!r}")
        return data

    def check_services(self, integration: Path, translations: Mapping[str, Any]) -> None:
        """services.yaml: every action and field translated, every action has an icon."""
        path = integration / "services.yaml"
        if not path.is_file():
            return
        where = self.rel(path)
        try:
            services = load_yaml(path) or {}
        except yaml.YAMLError as err:
            self.fail(where, f"invalid YAML: {err}")
            return
        if not isinstance(services, dict):
            self.fail(where, "must be a mapping of actions")
            return
        icons = self.load_json(integration / "icons.json") or {}
        service_icons = icons.get("services", {}) if isinstance(icons, dict) else {}
        translated = translations.get("services", {})
        for name, spec in services.items():
            if not TRANSLATION_KEY_RE.match(str(name)):
                self.fail(where, f"action {name!r} is not snake_case")
            entry = translated.get(name)
            if not isinstance(entry, dict) or not entry.get("name") or not entry.get("description"):
                self.fail(where, f"action {name!r} needs a name and description in en.json")
                entry = {}
            if name not in service_icons:
                self.fail(where, f"action {name!r} has no icon in icons.json")
            fields = (spec or {}).get("fields", {}) if isinstance(spec, dict) else {}
            for field, field_spec in _service_fields(fields):
                tr = entry.get("fields", {}).get(field)
                if not isinstance(tr, dict) or not tr.get("name") or not tr.get("description"):
                    self.fail(where, f"field {name}.{field} needs a name and description")
                if not isinstance(field_spec, dict) or "selector" not in field_spec:
                    self.fail(where, f"field {name}.{field} needs a selector")


def _service_fields(fields: Any) -> Iterator[tuple[str, Any]]:
    """Fields of an action, looking inside collapsible sections."""
    if not isinstance(fields, dict):
        return
    for key, spec in fields.items():
        if isinstance(spec, dict) and "fields" in spec and "selector" not in spec:
            yield from _service_fields(spec["fields"])
        else:
            yield str(key), spec


def _keys(section: Any, depth: int) -> Iterator[str]:
    """Yield the translation keys at the given depth of a section."""
    if not isinstance(section, dict):
        return
    for key, value in section.items():
        if depth == 1:
            yield str(key)
        else:
            yield from _keys(value, depth - 1)


def _strings(node: Any) -> Iterator[str]:
    """Every string in a translations tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)


def main(argv: list[str]) -> int:
    """Check the repository given on the command line (default: the current folder)."""
    root = Path(argv[1] if len(argv) > 1 else ".").resolve()
    problems = Checker(root).run()
    for problem in problems:
        print(f"check_repo: {problem}")
    if problems:
        print(f"check_repo: {len(problems)} problem(s)")
        return 1
    print("check_repo: OK (HACS + hassfest rules, quality scale, CI workflows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
