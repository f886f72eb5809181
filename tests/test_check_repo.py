"""The offline HACS + hassfest checker: the repository passes, and each rule can fail."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import shutil
from typing import Any

import pytest

from tools.check_repo import Checker, main

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = "custom_components/ble_provisioning"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repository's checked files."""
    for name in ("README.md", "LICENSE", "hacs.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(
        ROOT / INTEGRATION,
        tmp_path / INTEGRATION,
        ignore=shutil.ignore_patterns("__pycache__", "protocol"),
    )
    return tmp_path


def _edit_json(path: Path, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
    data = json.loads(path.read_text())
    data = change(data) or data
    path.write_text(json.dumps(data, indent=2))


def test_repository_passes() -> None:
    assert Checker(ROOT).run() == []
    assert main(["check_repo", str(ROOT)]) == 0


def test_copy_passes(repo: Path) -> None:
    assert Checker(repo).run() == []


def _manifest_without_version(m: dict[str, Any]) -> None:
    del m["version"]


def _manifest_unsorted(m: dict[str, Any]) -> dict[str, Any]:
    keys = list(m)
    keys.remove("version")
    keys.insert(2, "version")
    return {k: m[k] for k in keys}


def _manifest_upper_uuid(m: dict[str, Any]) -> None:
    m["bluetooth"][0]["service_uuid"] = m["bluetooth"][0]["service_uuid"].upper()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_manifest_without_version, "required key 'version' missing"),
        (_manifest_unsorted, "keys must be ordered"),
        (_manifest_upper_uuid, "must be lower case"),
        (lambda m: m.update(iot_class="local_magic"), "unknown iot_class"),
        (lambda m: m.update(domain="other"), "differs from the folder name"),
        (lambda m: m.update(zzz_unknown=1), "unknown key 'zzz_unknown'"),
        (lambda m: m.update(version="not a version"), "is not a valid version"),
        (lambda m: m.update(documentation="http://example.com"), "must be an https URL"),
        (lambda m: m.update(codeowners=["nobody"]), "must start with @"),
        (lambda m: m["bluetooth"].append({"connectable": True}), "matches nothing"),
        (lambda m: m["bluetooth"].append({"local_name": "B*"}), "3 literal characters"),
        (lambda m: m["bluetooth"].append({"service_uuid": "x", "foo": 1}), "unknown keys"),
    ],
)
def test_manifest_rules(repo: Path, change: Callable[..., Any], expected: str) -> None:
    _edit_json(repo / INTEGRATION / "manifest.json", change)
    problems = Checker(repo).run()
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda h: h.update(domains=["x"]), "unknown key 'domains'"),
        (lambda h: h.pop("name") and None, "'name' is required"),
        (lambda h: h.update(render_readme="yes"), "wrong type"),
        (lambda h: h.update(zip_release=True), "needs 'filename'"),
    ],
)
def test_hacs_rules(repo: Path, change: Callable[..., Any], expected: str) -> None:
    _edit_json(repo / "hacs.json", change)
    problems = Checker(repo).run()
    assert any(expected in p for p in problems), problems


def test_translation_rules(repo: Path) -> None:
    path = repo / INTEGRATION / "translations" / "en.json"
    _edit_json(path, lambda t: t.update(exceptions={"BadKey": {"message": "[%key:x%]"}}))
    problems = Checker(repo).run()
    assert any("not snake_case" in p for p in problems), problems
    assert any("[%key:" in p for p in problems), problems


def test_missing_translations_and_brand(repo: Path) -> None:
    (repo / INTEGRATION / "translations" / "en.json").unlink()
    (repo / INTEGRATION / "brand" / "icon.png").unlink()
    problems = Checker(repo).run()
    assert any("en.json: missing" in p for p in problems), problems
    assert any("brand/icon.png" in p for p in problems), problems


def test_strings_json_must_match(repo: Path) -> None:
    (repo / INTEGRATION / "strings.json").write_text('{"config": {}}')
    assert any("differs from" in p for p in Checker(repo).run())


def test_service_rules(repo: Path) -> None:
    (repo / INTEGRATION / "services.yaml").write_text(
        "zz_untranslated:\n  fields:\n    thing:\n      required: true\n"
    )
    problems = Checker(repo).run()
    assert any("needs a name and description in en.json" in p for p in problems), problems
    assert any("no icon in icons.json" in p for p in problems), problems
    assert any("zz_untranslated.thing needs a selector" in p for p in problems), problems


def test_two_integrations_rejected(repo: Path) -> None:
    (repo / "custom_components" / "second").mkdir()
    assert any("exactly one integration" in p for p in Checker(repo).run())
