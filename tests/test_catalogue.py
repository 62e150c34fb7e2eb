"""Meta-tests over the rule catalogue: ids, checks, parameters, fixtures, README table."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from sagefence.catalogue import CatalogueError, load_catalogue
from sagefence.config import Config
from sagefence.engine import select_rules
from sagefence.status import SourceKind
from tests.conftest import FIXTURES

CATALOGUE = load_catalogue()
README = Path(__file__).resolve().parent.parent / "README.md"


def test_ids_match_spec_format_and_files() -> None:
    for rule in CATALOGUE.values():
        assert re.match(r"^(VPCE|S3|KMS|SM|IAM|NB)-\d{3}$", rule.id)
        assert rule.id.split("-")[0] == rule.family
        assert Path(rule.file).stem in {"vpce", "s3", "kms", "sagemaker", "iam", "notebooks"}


@pytest.mark.parametrize("rule_id", sorted(CATALOGUE))
def test_check_resolves_with_the_right_signature(rule_id: str) -> None:
    (selected,) = select_rules(CATALOGUE, Config(), only=[rule_id], source=CATALOGUE[rule_id].sources[0])
    assert selected.function is not None
    params = list(inspect.signature(selected.function).parameters)
    assert len(params) == 3, params
    assert CATALOGUE[rule_id].remediation.strip() and CATALOGUE[rule_id].description.strip()


@pytest.mark.parametrize("rule_id", sorted(r.id for r in CATALOGUE.values() if SourceKind.TEMPLATES in r.sources))
def test_every_template_rule_has_pass_and_fail_fixtures(rule_id: str) -> None:
    folder = FIXTURES / "rules" / rule_id
    names = [p.name for p in folder.iterdir()]
    assert any(n.startswith("pass") for n in names), f"{rule_id} has no passing fixture"
    assert any(n.startswith("fail") for n in names), f"{rule_id} has no failing fixture"


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text("""rules:
  - {id: S3-003, title: t, severity: low, family: S3, resource_types: [x], description: d, remediation: r, check: s3.x}
""")
    with pytest.raises(CatalogueError, match="S3-003 is already defined"):
        load_catalogue([tmp_path])


def test_readme_rule_table_is_current() -> None:
    text = README.read_text()
    for rule in CATALOGUE.values():
        row = re.search(rf"^\| {re.escape(rule.id)} \| (\w+) \| (.+?) \|$", text, re.MULTILINE)
        assert row, f"README rule table lacks {rule.id}"
        assert row.group(1) == rule.severity.value and row.group(2) == rule.title, rule.id


def test_validated_digest_is_current() -> None:
    """After editing a rule file, run `python -m sagefence.catalogue` (it validates, then records the digest)."""
    from sagefence import catalogue

    files = {p: p.read_bytes() for p in catalogue._rule_files(catalogue.BUILTIN_RULES_DIR)}
    assert catalogue.VALIDATED_DIGEST.read_text().strip() == catalogue.digest(files)


def test_trusted_built_in_rules_equal_the_validated_ones() -> None:
    assert load_catalogue() == load_catalogue(revalidate=True)


def test_changed_built_in_rules_are_validated_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sagefence import catalogue

    rules = tmp_path / "rules"
    rules.mkdir()
    for path in catalogue._rule_files(catalogue.BUILTIN_RULES_DIR):
        (rules / path.name).write_bytes(path.read_bytes())
    (rules / "validated.sha256").write_bytes(catalogue.VALIDATED_DIGEST.read_bytes())
    monkeypatch.setattr(catalogue, "BUILTIN_RULES_DIR", rules)
    monkeypatch.setattr(catalogue, "VALIDATED_DIGEST", rules / "validated.sha256")
    validate = catalogue._validated

    def refuse(entry: dict, where: str) -> None:
        raise AssertionError(f"validated again: {where}")

    monkeypatch.setattr(catalogue, "_validated", refuse)
    assert set(load_catalogue()) == set(CATALOGUE)  # same bytes: built without pydantic
    s3 = rules / "s3.yaml"
    s3.write_text(s3.read_text().replace("severity: high", "severity: severe", 1))
    with pytest.raises(AssertionError, match="validated again"):
        load_catalogue()
    monkeypatch.setattr(catalogue, "_validated", validate)
    with pytest.raises(CatalogueError, match=r"s3\.yaml: rules\[\d+\]\.severity \(S3-\d+\): Input should be"):
        load_catalogue()


def test_default_scan_start_up_imports_no_pydantic() -> None:
    import subprocess
    import sys

    code = ("import sys; from sagefence.catalogue import load_catalogue; load_catalogue(); "
            "print('pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
