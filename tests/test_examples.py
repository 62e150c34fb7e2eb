"""examples/: the secure set passes every template rule; the broken copy fails exactly where it says."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sagefence.catalogue import load_catalogue
from sagefence.cli import main
from sagefence.status import SourceKind

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# (rule, file, logical id) of every failure in examples/broken: one mistake per rule family.
BROKEN = {
    ("VPCE-003", "network.yaml", "KmsEndpoint"),
    ("S3-001", "data.yaml", "DataBucket"),
    ("KMS-001", "data.yaml", "DataKey"),
    ("SM-002", "sagemaker.yaml", "ResearchNotebook"),
    ("IAM-002", "iam.yaml", "SageMakerExecutionRole"),
    ("NB-002", "sagemaker.yaml", "ResearchNotebook"),
}


def _scan(tmp_path: Path, *argv: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "findings.json"
    status = main(["scan", "templates", *argv, "--format", "json", "--output", str(out), "--quiet"],
                  io.StringIO(), io.StringIO())
    return status, json.loads(out.read_text(encoding="utf-8"))


def _not_passing(document: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(f["rule_id"], f["status"], Path(f["resource"]["file"]).name, f["resource"]["id"])
            for f in document["findings"] if f["status"] != "pass"}


def test_secure_passes_every_template_rule(tmp_path: Path) -> None:
    status, document = _scan(tmp_path, str(EXAMPLES / "secure"), "--fail-on", "info")
    assert status == 0
    assert _not_passing(document) == set() and document["errors"] == [] and document["scan"]["skipped"] == []
    evaluated = {f["rule_id"] for f in document["findings"]}
    template_rules = {r.id for r in load_catalogue().values() if SourceKind.TEMPLATES in r.sources}
    assert template_rules - evaluated == set(), "the secure set should exercise every template rule"


def test_broken_fails_exactly_the_intended_rules(tmp_path: Path) -> None:
    status, document = _scan(tmp_path, str(EXAMPLES / "broken"))
    assert status == 1
    assert _not_passing(document) == {(rule, "fail", file, resource) for rule, file, resource in BROKEN}
    assert document["errors"] == []
    families = {rule.split("-")[0] for rule, _, _ in BROKEN}
    assert families == {"VPCE", "S3", "KMS", "SM", "IAM", "NB"}


def test_each_mistake_is_commented_with_its_rule() -> None:
    commented = set()
    for path in sorted((EXAMPLES / "broken").glob("*.yaml")):
        for rule in re.findall(r"# MISTAKE \(([A-Z0-9]+-\d{3})\)", path.read_text(encoding="utf-8")):
            commented.add((rule, path.name))
    assert commented == {(rule, file) for rule, file, _ in BROKEN}


def test_broken_mirrors_secure_file_for_file() -> None:
    assert sorted(p.name for p in (EXAMPLES / "secure").glob("*.yaml")) == \
        sorted(p.name for p in (EXAMPLES / "broken").glob("*.yaml"))


@pytest.mark.parametrize("folder", ["secure", "broken"])
def test_examples_scanned_together_change_nothing(folder: str, tmp_path: Path) -> None:
    """Both sets in one scan (the README's `scan templates examples/`): their export names do not collide."""

    def rows(document: dict[str, Any]) -> set[tuple[str, str, str, str]]:
        return {(f["rule_id"], f["status"], f["resource"]["file"], f["resource"]["id"])
                for f in document["findings"] if f"examples/{folder}/" in f["resource"]["file"]}

    _, alone = _scan(tmp_path, str(EXAMPLES / folder))
    _, together = _scan(tmp_path, str(EXAMPLES))
    assert rows(together) == rows(alone) != set()
