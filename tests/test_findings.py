"""The findings document: its JSON shape, the round trip through a saved file, and refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sagefence.findings import FindingsFileError, load_document
from tests.reports.conftest import make_document, make_finding


def test_json_is_the_cli_md_shape_and_round_trips(tmp_path: Path) -> None:
    doc = make_document([
        make_finding(evidence={"service": "sagemaker.api", "actions": ["s3:GetObject"], "ids": {"b", "a"}}),
        make_finding("KMS-001", "Key", status="pass", suppressed="accepted: lab key ünïcode"),
    ], errors=[("broken.yaml", "line 3: bad", 3), ("111122223333/us-east-1", "ListBuckets failed")])
    text = doc.to_json()
    data = json.loads(text)
    assert list(data) == ["schema_version", "tool", "scan", "summary", "findings", "errors"]
    assert data["summary"] == {"fail": {"critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0},
                               "pass": 0, "error": 0, "unknown": 0, "suppressed": 1}
    first, second = data["findings"]
    assert list(first) == ["rule_id", "title", "severity", "status", "resource", "message", "evidence",
                           "remediation", "suppressed"]
    assert first["resource"] == {"type": "AWS::S3::Bucket", "id": "DataBucket", "account": None,
                                 "region": None, "file": "templates/data.yaml", "line": 42}
    assert first["evidence"]["ids"] == ["a", "b"]
    assert second["suppressed"] == {"reason": "accepted: lab key ünïcode", "expires": "2099-01-01",
                                    "source": "config"}
    assert "ünïcode" in text  # UTF-8, not escaped
    assert data["errors"] == [{"target": "broken.yaml", "message": "line 3: bad", "line": 3},
                              {"target": "111122223333/us-east-1", "message": "ListBuckets failed", "line": None}]
    assert text.count("\n    {\"rule_id\"") == 2  # one finding a line
    saved = tmp_path / "scan.json"
    saved.write_text(text, encoding="utf-8")
    again = load_document(saved)
    assert again.to_json() == text
    assert again.findings[0].fingerprint == doc.findings[0].fingerprint


def test_document_written_before_error_lines_still_loads(tmp_path: Path) -> None:
    data = json.loads(make_document([make_finding()]).to_json())
    data["errors"] = [{"target": "broken.yaml:3", "message": "line 3: bad"}]  # no "line"; the line in the target
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps(data), encoding="utf-8")
    (error,) = load_document(saved).errors
    assert (error.target, error.line, error.message) == ("broken.yaml:3", None, "line 3: bad")


def test_error_line_must_be_a_number(tmp_path: Path) -> None:
    data = json.loads(make_document([], errors=[("broken.yaml", "bad", 3)]).to_json())
    data["errors"][0]["line"] = "three"
    saved = tmp_path / "bad.json"
    saved.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(FindingsFileError, match="errors.0.line"):
        load_document(saved)


def test_empty_document_is_valid_json(tmp_path: Path) -> None:
    data = json.loads(make_document([]).to_json())
    assert data["findings"] == [] and data["errors"] == []


@pytest.mark.parametrize(("mutate", "words"), [
    (lambda d: d["findings"][0].update(colour="red"), "findings.0.colour: unknown key"),
    (lambda d: d["summary"].pop("pass"), "summary.pass:"),
    (lambda d: d["findings"][0].update(status="maybe"), "findings.0.status:"),
    (lambda d: d["findings"][0]["resource"].update(line="x"), "findings.0.resource.line:"),
])
def test_saved_document_is_validated(mutate, words: str, tmp_path: Path) -> None:
    data = json.loads(make_document([make_finding()]).to_json())
    mutate(data)
    saved = tmp_path / "bad.json"
    saved.write_text(json.dumps(data))
    with pytest.raises(FindingsFileError) as caught:
        load_document(saved)
    assert str(caught.value).startswith(f"{saved}: {words}")


def test_building_and_writing_a_document_imports_no_pydantic() -> None:
    code = ("import sys; from tests.reports.conftest import make_document, make_finding; "
            "make_document([make_finding()]).to_json(); print('pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip() == "False"
