"""Hostile input (rules.md v2 §6): every case is an error naming its file, never a crash or a hang,
and the other files of the scan are still reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sagefence.sources import cloudformation as cfn

GOOD = "Resources:\n  Good:\n    Type: AWS::S3::Bucket\n"
CASES = {
    "deep.yaml": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags: " + "[" * 340 + "]" * 340 + "\n",
    "deep.json": '{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": ' + "[" * 340 + "]" * 340 + "}}}}",
    "bigint.yaml": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      X: " + "9" * 5000 + "\n",
    "bigint.json": '{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"X": ' + "9" * 5000 + "}}}}",
    "longint.yaml": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      X: " + "9" * 4100 + "\n",
    "surrogate.json": '{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "\\ud800"}}}}',
    "not.yaml": "Conditions:\n  C: {'Fn::Not': []}\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Condition: C\n",
}
EXPECTED = {
    "deep.yaml": "values nested deeper than 100 levels",
    "deep.json": "values nested deeper than 100 levels",
    "bigint.yaml": "an integer longer than 4300 digits",
    "bigint.json": "an integer longer than 4300 digits",
    "longint.yaml": "an integer longer than 4000 digits",
    "surrogate.json": "not valid Unicode",
    "not.yaml": "Fn::Not takes a list of one condition",
}


def _scan(*paths: Path) -> dict:
    code = ("import json, sys\nfrom sagefence.cli import main\n"
            f"sys.exit(main(['scan', 'templates', *{[str(p) for p in paths]!r}, '--format', 'json', '--fail-on', 'never']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert proc.stdout, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_each_hostile_file_is_an_error_and_the_rest_of_the_folder_is_still_reported(tmp_path: Path) -> None:
    for name, text in CASES.items():
        (tmp_path / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    (tmp_path / "ok.yaml").write_text(GOOD)
    doc = _scan(tmp_path)
    errors = {Path(e["target"].split(":")[0]).name: e["message"] for e in doc["errors"]}
    for name, expected in EXPECTED.items():
        assert expected in errors.get(name, ""), (name, errors)
    assert any(f["resource"]["id"] == "Good" for f in doc["findings"])


def test_a_resource_of_a_shape_nothing_expects_costs_only_itself(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(
        "Resources:\n  R: {Type: AWS::IAM::Role, Properties: {AssumeRolePolicyDocument: {}}}\n"
        "  Odd:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: {'Fn::GetAtt': [[R], Arn]}\n"
        "  Good:\n    Type: AWS::S3::Bucket\n")
    doc = _scan(tmp_path / "t.yaml")
    by_id: dict[str, set[str]] = {}
    for f in doc["findings"]:
        by_id.setdefault(f["resource"]["id"], set()).add(f["status"])
    assert by_id["Odd"] == {"error"} and "error" not in by_id["Good"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_non_regular_files_are_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.yaml")
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    os.symlink(tmp_path / "loop2.yaml", tmp_path / "loop1.yaml")
    os.symlink(tmp_path / "loop1.yaml", tmp_path / "loop2.yaml")
    (tmp_path / "ok.yaml").write_text(GOOD)
    doc = _scan(tmp_path)  # opening the FIFO would block, reading /dev/zero would not end: both bounded above
    skipped = {Path(s["target"]).name: s["reason"] for s in doc["scan"]["skipped"]}
    assert skipped == {"fifo.yaml": "a FIFO, not a regular file (not opened)",
                       "zero.yaml": "a device, not a regular file (not opened)",
                       "loop1.yaml": "a symlink loop, not a regular file (not opened)",
                       "loop2.yaml": "a symlink loop, not a regular file (not opened)"}
    assert any(f["resource"]["id"] == "Good" for f in doc["findings"])
    named = _scan(tmp_path / "fifo.yaml", tmp_path / "zero.yaml")  # named explicitly: errors
    assert sorted(e["message"] for e in named["errors"]) == ["a FIFO, not a regular file (not opened)",
                                                           "a device, not a regular file (not opened)"]


def test_a_folder_that_cannot_be_listed_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "ok.yaml").write_text(GOOD)
    real_scandir = os.scandir

    def refuse(path: object = ".") -> object:  # as root, chmod 000 does not keep us out: refuse by hand
        if str(path).endswith("team"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", refuse)
    found, errors, _ = cfn.discover([str(tmp_path)])
    assert [p.name for p, _ in found] == ["ok.yaml"]
    assert errors == [(f"{tmp_path.as_posix()}/team", "cannot list folder: Permission denied")]


def test_a_reader_crash_costs_only_its_own_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD.replace("Good", "Other"))
    real = cfn.read_document

    def crash_on_a(path: Path) -> object:
        if path.name == "a.yaml":
            raise TypeError("a shape nothing expected")
        return real(path)

    monkeypatch.setattr(cfn, "read_document", crash_on_a)
    loaded = cfn.load([str(tmp_path)])
    assert [t.path.name for t in loaded.templates] == ["b.yaml"]
    assert loaded.errors == [(f"{tmp_path.as_posix()}/a.yaml",
                              "could not be read (TypeError: a shape nothing expected)")]


def test_a_file_past_its_time_budget_reports_no_pass(tmp_path: Path) -> None:
    from sagefence.catalogue import load_catalogue
    from sagefence.config import Config
    from sagefence.engine import select_rules
    from sagefence.scan import ScanContext, scan_templates
    from sagefence.status import SourceKind

    (tmp_path / "t.yaml").write_text(
        "Parameters: {A: {Type: String}, B: {Type: String}}\n"
        "Conditions: {CA: !Equals [!Ref A, x], CB: !Equals [!Ref B, y]}\n"
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n"
        "      EnableKeyRotation: !If [CA, true, !If [CB, true, true]]\n      KeyPolicy: {Statement: []}\n")
    rules = select_rules(load_catalogue(), Config(), only=["KMS-002"], source=SourceKind.TEMPLATES)
    whole = scan_templates([str(tmp_path / "t.yaml")], ScanContext(Config(), rules))
    assert [f.status.value for f in whole.findings] == ["pass"] and not whole.errors
    cut = scan_templates([str(tmp_path / "t.yaml")], ScanContext(Config(), rules, file_budget_s=1e-9))
    assert [f.status.value for f in cut.findings] == ["error"]
    assert "time budget: only 1 condition assignment(s) were evaluated" in cut.findings[0].message
    assert [e.target for e in cut.errors] == [(tmp_path / "t.yaml").as_posix()]


def test_a_named_symlink_loop_is_an_error_of_its_own(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b.yaml", tmp_path / "a.yaml")
    os.symlink(tmp_path / "a.yaml", tmp_path / "b.yaml")
    (tmp_path / "ok.yaml").write_text(GOOD)
    out = tmp_path / "findings.json"
    code = ("import sys\nfrom sagefence.cli import main\n"
            f"sys.exit(main(['scan', 'templates', {str(tmp_path / 'a.yaml')!r}, {str(tmp_path / 'ok.yaml')!r}, "
            f"'--format', 'json', '--output', {str(out)!r}, '--fail-on', 'never']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert proc.returncode == 3 and "internal error" not in proc.stderr, proc.stderr
    doc = json.loads(out.read_text())
    assert [e["message"] for e in doc["errors"]] == ["a symlink loop, not a regular file (not opened)"]
    assert any(f["resource"]["id"] == "Good" for f in doc["findings"])
