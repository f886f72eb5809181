"""The offline HACS + hassfest checker: the repository passes, and each rule can fail."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import shutil
from typing import Any

import pytest
import yaml

from tools.check_repo import Checker, main
from tools.quality_scale import ALL_RULES

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = "custom_components/ble_provisioning"
WORKFLOWS = ".github/workflows"


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
    shutil.copytree(ROOT / WORKFLOWS, tmp_path / WORKFLOWS)
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


# ---------------------------------------------------------------- quality_scale.yaml


def _scale(repo: Path) -> Path:
    return repo / INTEGRATION / "quality_scale.yaml"


def _edit_scale(repo: Path, change: Callable[[dict[str, Any]], object]) -> None:
    data = yaml.safe_load(_scale(repo).read_text())
    change(data["rules"])
    _scale(repo).write_text(yaml.safe_dump(data, sort_keys=False))


def test_scale_lists_the_current_rules() -> None:
    assert "docs-triggers" in ALL_RULES
    assert "docs-conditions" in ALL_RULES
    assert len(ALL_RULES) == len(set(ALL_RULES)) == 54
    rules = yaml.safe_load((ROOT / INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    assert set(rules) == set(ALL_RULES)


def test_scale_that_does_not_parse_fails(repo: Path) -> None:
    """The bug it was written for: an unquoted ': ' inside a plain comment."""
    lines = _scale(repo).read_text().splitlines(keepends=True)
    # The first quoted comment with ": " inside: unquoted it no longer parses.
    index = next(
        i
        for i, line in enumerate(lines)
        if line.lstrip().startswith('comment: "') and ": " in line.split('comment: "', 1)[1]
    )
    lines[index] = lines[index].replace('comment: "', "comment: ", 1).replace('"\n', "\n")
    _scale(repo).write_text("".join(lines))
    problems = Checker(repo).run()
    line = f"line {index + 1}"
    assert any("quality_scale.yaml: invalid YAML" in p and line in p for p in problems), problems


def test_scale_duplicate_rule_fails(repo: Path) -> None:
    _scale(repo).write_text(_scale(repo).read_text() + "  brands: todo\n")
    problems = Checker(repo).run()
    assert any("duplicate key 'brands'" in p for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.pop("docs-triggers"), "rule 'docs-triggers' missing"),
        (lambda r: r.pop("docs-conditions"), "rule 'docs-conditions' missing"),
        (lambda r: r.update({"docs-magic": "done"}), "unknown rule 'docs-magic'"),
        (lambda r: r.update(brands="finished"), "rule 'brands': status must be"),
        (lambda r: r.update(brands={"status": "exempt"}), "rule 'brands': status must be"),
        (
            lambda r: r.update(brands={"status": "exempt", "comment": " "}),
            "rule 'brands': status must be",
        ),
        (
            lambda r: r.update(brands={"status": "waived", "comment": "x"}),
            "rule 'brands': status must be",
        ),
        (
            lambda r: r.update(brands={"status": "done", "comment": "x", "by": "me"}),
            "rule 'brands': status must be",
        ),
    ],
)
def test_scale_rules(repo: Path, change: Callable[..., Any], expected: str) -> None:
    _edit_scale(repo, change)
    problems = Checker(repo).run()
    assert any(expected in p for p in problems), problems


def test_scale_statuses_hassfest_accepts(repo: Path) -> None:
    _edit_scale(
        repo,
        lambda r: r.update(
            brands="todo",
            devices={"status": "todo", "comment": "later"},
            diagnostics={"status": "done", "comment": "diagnostics.py"},
        ),
    )
    assert Checker(repo).run() == []


def test_scale_top_level_and_missing_file(repo: Path) -> None:
    data = yaml.safe_load(_scale(repo).read_text())
    _scale(repo).write_text(yaml.safe_dump({**data, "tier": "gold"}))
    assert any("unknown top-level key 'tier'" in p for p in Checker(repo).run())
    _scale(repo).write_text("- a list\n")
    assert any("a 'rules' mapping" in p for p in Checker(repo).run())
    _scale(repo).unlink()
    assert any("quality_scale.yaml: missing" in p for p in Checker(repo).run())


def test_scale_declared_tier_needs_its_rules(repo: Path) -> None:
    _edit_scale(repo, lambda r: r.update(brands="todo", devices="todo"))
    _edit_json(repo / INTEGRATION / "manifest.json", lambda m: m.update(quality_scale="silver"))
    problems = Checker(repo).run()
    assert any("tier silver needs rule 'brands'" in p for p in problems), problems
    assert not any("'devices'" in p for p in problems)  # a gold rule
    _edit_json(repo / INTEGRATION / "manifest.json", lambda m: m.update(quality_scale="shiny"))
    assert any("'shiny' is not one of" in p for p in Checker(repo).run())


# ---------------------------------------------------------------- .github/workflows


def _edit_workflow(repo: Path, name: str, change: Callable[[dict[Any, Any]], object]) -> None:
    path = repo / WORKFLOWS / name
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _steps(data: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = data["jobs"][job]["steps"]
    return steps


def test_workflows_round_trip_through_pyyaml(repo: Path) -> None:
    """The edit helper keeps a valid workflow valid (``on`` becomes ``true`` and back)."""
    _edit_workflow(repo, "validate.yml", lambda _d: None)
    _edit_workflow(repo, "tests.yml", lambda _d: None)
    assert Checker(repo).run() == []


def test_workflows_missing(repo: Path) -> None:
    shutil.rmtree(repo / WORKFLOWS)
    assert any("no workflow" in p for p in Checker(repo).run())


def test_workflow_invalid_yaml(repo: Path) -> None:
    (repo / WORKFLOWS / "broken.yml").write_text("jobs: [unclosed\n")
    assert any("broken.yml: invalid YAML" in p for p in Checker(repo).run())


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        (
            "validate.yml",
            lambda d: _steps(d, "hassfest")[1].update(uses="home-assistant/actions/hassfest@main"),
            "documented as @master",
        ),
        (
            "validate.yml",
            lambda d: _steps(d, "hassfest").pop(1),
            "no step uses home-assistant/actions/hassfest@master",
        ),
        (
            "validate.yml",
            lambda d: _steps(d, "hassfest").pop(0),
            "hassfest needs actions/checkout before it",
        ),
        (
            "validate.yml",
            lambda d: _steps(d, "hacs")[1].update(uses="hacs/action@v1"),
            "documented as @main",
        ),
        (
            "validate.yml",
            lambda d: _steps(d, "hacs")[1].update({"with": {"category": "plugin"}}),
            "needs 'with: category: integration'",
        ),
        ("validate.yml", lambda d: d["jobs"].pop("hacs"), "no step uses hacs/action@main"),
        (
            "validate.yml",
            lambda d: _steps(d, "hacs")[0].update(uses="actions/checkout@main"),
            "use a major version tag",
        ),
        (
            "validate.yml",
            lambda d: _steps(d, "hacs")[0].update(uses="checkout"),
            "malformed action reference 'checkout'",
        ),
        (
            "validate.yml",
            lambda d: _steps(d, "hacs")[0].update(run="echo"),
            "needs exactly one of 'uses' and 'run'",
        ),
        ("validate.yml", lambda d: d["jobs"]["hacs"].pop("runs-on"), "'runs-on' missing"),
        ("validate.yml", lambda d: d.pop(True), "no triggers ('on')"),
        ("validate.yml", lambda d: d.update(jobs={}), "no jobs"),
        (
            "tests.yml",
            lambda d: [_steps(d, job)[2].update(run="pytest") for job in ("test", "soak")],
            "no step runs the test command scripts/test",
        ),
        (
            "tests.yml",
            lambda d: _steps(d, "test")[1].pop("with"),
            "actions/setup-python without 'python-version'",
        ),
    ],
)
def test_workflow_rules(
    repo: Path, name: str, change: Callable[[dict[Any, Any]], object], expected: str
) -> None:
    _edit_workflow(repo, name, change)
    problems = Checker(repo).run()
    assert any(expected in p for p in problems), problems
