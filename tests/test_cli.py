"""The CLI contract of cli.md: exit codes, the JSON document, bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sagefence.cli import main
from tests.conftest import FIXTURES

PASS_BUCKET = FIXTURES / "rules" / "S3-005" / "pass_all_four.yaml"
FAIL_BUCKET = FIXTURES / "rules" / "S3-005" / "fail_one_off.yaml"


def run(*argv: str, cwd: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    if cwd:
        os.chdir(cwd)
    try:
        code = main(list(argv), out, err)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def test_json_document_shape(tmp_path: Path) -> None:
    code, out, _ = run("scan", "templates", str(FAIL_BUCKET), "--format", "json", "--rules", "S3-005", cwd=tmp_path)
    doc = json.loads(out)
    assert code == 1
    assert list(doc) == ["schema_version", "tool", "scan", "summary", "findings", "errors"]
    assert doc["schema_version"] == 1 and doc["tool"]["name"] == "sagefence"
    assert {"source", "started_at", "finished_at", "targets", "accounts", "regions", "config", "skipped",
            "duration_s"} <= set(doc["scan"])
    assert doc["summary"] == {"fail": {"critical": 0, "high": 2, "medium": 0, "low": 0, "info": 0},
                              "pass": 0, "error": 0, "unknown": 0, "suppressed": 0}
    finding = doc["findings"][0]
    assert list(finding) == ["rule_id", "title", "severity", "status", "resource", "message", "evidence",
                             "remediation", "suppressed"]
    assert finding["resource"] == {"type": "AWS::S3::Bucket", "id": "DataBucket", "account": "123456789012",
                                   "region": "us-east-1", "file": FAIL_BUCKET.as_posix(), "line": 2}


@pytest.mark.parametrize(("fail_on", "expected"), [("high", 1), ("critical", 0), ("never", 0), ("info", 1)])
def test_fail_on(fail_on: str, expected: int, tmp_path: Path) -> None:
    code, _, _ = run("scan", "templates", str(FAIL_BUCKET), "--fail-on", fail_on, "--rules", "S3-005", cwd=tmp_path)
    assert code == expected


def test_pass_exits_zero_and_text_summary(tmp_path: Path) -> None:
    code, out, _ = run("scan", "templates", str(PASS_BUCKET), "--rules", "S3-005", cwd=tmp_path)
    assert code == 0
    assert out.strip().splitlines()[-1].startswith("0 failed, 2 passed, 0 errors, 0 unknown, 0 suppressed")


def test_broken_file_is_an_error_others_still_scanned(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("Resources:\n  A:\n    Type: [oops\n")
    (tmp_path / "good.yaml").write_text(FAIL_BUCKET.read_text())
    code, out, _ = run("scan", "templates", str(tmp_path), "--format", "json", "--rules", "S3-005", cwd=tmp_path)
    doc = json.loads(out)
    assert code == 3  # 3 wins over 1
    (error,) = doc["errors"]
    assert error["target"] == (tmp_path / "broken.yaml").as_posix() and error["line"] == 4
    assert error["message"].startswith("line 4: malformed YAML")
    assert {f["resource"]["id"] for f in doc["findings"]} == {"DataBucket", "PartialBucket"}
    code, _, _ = run("scan", "templates", str(tmp_path), "--allow-partial", "--rules", "S3-005", cwd=tmp_path)
    assert code == 1


def test_skipped_files_listed(tmp_path: Path) -> None:
    (tmp_path / "params.json").write_text('[{"ParameterKey": "Env"}]')
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "bucket.yaml").write_text(PASS_BUCKET.read_text())
    code, out, _ = run("scan", "templates", str(tmp_path), "--format", "json", "--rules", "S3-005", cwd=tmp_path)
    doc = json.loads(out)
    assert code == 0 and doc["errors"] == []
    assert sorted(Path(s["target"]).name for s in doc["scan"]["skipped"]) == ["empty.yaml", "params.json"]


@pytest.mark.parametrize("allow_partial", [(), ("--allow-partial",)])
def test_empty_folder_scans_nothing_and_exits_3(allow_partial: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = run("scan", "templates", str(tmp_path / "empty"), "--format", "json", *allow_partial,
                         cwd=tmp_path)
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "no CloudFormation template found in" in err and "empty" in err


def test_folder_without_templates_exits_3_saying_what_was_skipped(tmp_path: Path) -> None:
    (tmp_path / "params.json").write_text('[{"ParameterKey": "Env"}]')
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "notes.txt").write_text("Resources: {}")
    code, out, err = run("scan", "templates", str(tmp_path), cwd=tmp_path)
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "2 files skipped as not templates" in err


def test_missing_path_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    code, out, err = run("scan", "templates", str(PASS_BUCKET), str(tmp_path / "tmeplates"), cwd=tmp_path)
    assert code == 2 and out == ""
    assert err == f"sagefence: error: no such file or folder: {tmp_path / 'tmeplates'}\n"


def test_text_report_escapes_control_characters_in_ids_and_messages(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text('Resources:\n  "Evil\\e[2J\\rBucket":\n    Type: AWS::S3::Bucket\n'
                                     "    Properties: {BucketName: {'Fn::Nope': x}}\n")
    code, out, _ = run("scan", "templates", "t.yaml", "--rules", "S3-005", "--no-color",
                       cwd=tmp_path)
    assert code == 3
    assert "\x1b" not in out and "\r" not in out
    assert "S3-005 Evil\\x1b[2J\\x0dBucket (t.yaml:2): " in out


def test_text_report_lists_errors_and_unknowns(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("Resources:\n  A:\n    Type: [oops\n")
    (tmp_path / "t.yaml").write_text("Parameters: {Name: {Type: String}}\nResources:\n  B:\n"
                                     "    Type: AWS::S3::Bucket\n    Properties: {BucketName: {'Fn::Nope': x}}\n")
    code, out, _ = run("scan", "templates", "broken.yaml", "t.yaml", "--rules", "S3-005", cwd=tmp_path)
    assert code == 3
    assert "errors (2): could not be examined\n  broken.yaml:4: malformed YAML" in out
    assert "\n  S3-005 B (t.yaml:3): " in out and "Fn::Nope" in out
    assert out.splitlines()[-1].startswith("0 failed, 0 passed, 2 errors, 0 unknown")


def test_text_report_lists_unknowns_with_what_was_not_known(tmp_path: Path) -> None:
    (tmp_path / "u.yaml").write_text("Parameters: {Flag: {Type: String}}\nResources:\n  B:\n    Type: AWS::S3::Bucket\n"
                                     "    Properties:\n      PublicAccessBlockConfiguration: {BlockPublicAcls: !Ref Flag,"
                                     " BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}\n")
    code, out, _ = run("scan", "templates", "u.yaml", "--rules", "S3-005", cwd=tmp_path)
    assert code == 0
    assert "unknown (1): neither pass nor fail: what was not known\n  S3-005 B (u.yaml:3): BlockPublicAcls " in out


def test_explicit_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    code, out, _ = run("scan", "templates", str(tmp_path / "empty.yaml"), "--format", "json", cwd=tmp_path)
    assert code == 3 and "empty file" in json.loads(out)["errors"][0]["message"]


def test_unknown_intrinsic_gives_error_findings(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("Resources:\n  B:\n    Type: AWS::S3::Bucket\n"
                                     "    Properties: {BucketName: {'Fn::Nope': x}}\n")
    code, out, _ = run("scan", "templates", str(tmp_path / "t.yaml"), "--format", "json", "--rules", "S3-003,S3-005",
                       cwd=tmp_path)
    doc = json.loads(out)
    assert code == 3
    assert {(f["rule_id"], f["status"]) for f in doc["findings"]} == {("S3-003", "error"), ("S3-005", "error")}
    assert "unknown intrinsic function Fn::Nope" in doc["findings"][0]["message"]


def test_inline_suppression_and_missing_reason(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("""Resources:
  B:
    Type: AWS::S3::Bucket
    Metadata:
      sagefence:
        suppress:
          - {rule: S3-005, reason: "partner drop bucket, SEC-1877"}
          - {rule: S3-003}
    Properties:
      PublicAccessBlockConfiguration: {BlockPublicAcls: false}
""")
    code, out, _ = run("scan", "templates", str(tmp_path / "t.yaml"), "--format", "json", cwd=tmp_path)
    doc = json.loads(out)
    s3_005 = next(f for f in doc["findings"] if f["rule_id"] == "S3-005")
    assert s3_005["status"] == "fail"
    assert s3_005["suppressed"] == {"reason": "partner drop bucket, SEC-1877", "expires": None, "source": "template"}
    s3_003 = next(f for f in doc["findings"] if f["rule_id"] == "S3-003")
    assert s3_003["suppressed"] is None and s3_003["status"] == "fail"
    assert "has no reason" in doc["errors"][0]["message"]
    assert doc["errors"][0]["target"] == (tmp_path / "t.yaml").as_posix() and doc["errors"][0]["line"] == 2
    assert code == 3


def test_config_suppression_with_expiry(tmp_path: Path) -> None:
    (tmp_path / "sagefence.yaml").write_text("""suppressions:
  - {rule: S3-005, resource: "Data*", reason: "accepted until migration", expires: 2999-01-01}
  - {rule: S3-005, resource: "Partial*", reason: "expired", expires: 2020-01-01}
""")
    code, out, _ = run("scan", "templates", str(FAIL_BUCKET), "--format", "json", "--rules", "S3-005", cwd=tmp_path)
    doc = json.loads(out)
    by_id = {f["resource"]["id"]: f for f in doc["findings"]}
    assert by_id["DataBucket"]["suppressed"]["source"] == "config"
    assert by_id["PartialBucket"]["suppressed"] is None
    assert doc["summary"]["suppressed"] == 1 and code == 1


@pytest.mark.parametrize(("config", "message"), [
    ("trusted_accounts: ['ml-staging']\n", "sagefence.yaml: trusted_accounts[0]: 'ml-staging' is not a 12-digit account id"),
    ("bogus: 1\n", "sagefence.yaml: bogus: unknown key"),
    ("rules: {XX-999: {enabled: false}}\n", "sagefence.yaml: rules.XX-999: unknown rule id"),
    ("suppressions: [{rule: S3-005}]\n", "sagefence.yaml: suppressions[0].reason: Field required"),
    ("rules: {KMS-002: {severity: urgent}}\n", "sagefence.yaml: rules.KMS-002.severity:"),
    ("region: [1]\n", "sagefence.yaml: region:"),
    ("a: [\n", "sagefence.yaml: line 2: malformed YAML"),
])
def test_bad_config_exits_2_with_one_line(config: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "sagefence.yaml").write_text(config)
    code, out, err = run("scan", "templates", str(PASS_BUCKET), cwd=tmp_path)
    assert code == 2 and out == ""
    assert err.startswith(f"sagefence: error: {message}") and err.count("\n") == 1


def test_config_overrides_severity_and_disables(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("rules: {S3-005: {severity: low}, S3-003: {enabled: false}, S3-001: {enabled: false},"
                                      " S3-004: {enabled: false}}\n")
    code, out, _ = run("scan", "templates", str(FAIL_BUCKET), "--config", str(tmp_path / "c.yaml"), "--format", "json")
    doc = json.loads(out)
    assert {f["rule_id"] for f in doc["findings"]} >= {"S3-005"} and "S3-003" not in {f["rule_id"] for f in doc["findings"]}
    assert all(f["severity"] == "low" for f in doc["findings"] if f["rule_id"] == "S3-005") and code == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("scan", "templates", str(PASS_BUCKET), "--rules", "NOPE-001", cwd=tmp_path)[0] == 2
    assert run("scan", "templates", str(PASS_BUCKET), "--format", "xml", cwd=tmp_path)[0] == 2
    assert run("scan", "templates", cwd=tmp_path)[0] == 2
    assert run("scan", "templates", str(PASS_BUCKET), "--format", "json", "--format", "text", cwd=tmp_path)[0] == 2


def test_outputs_per_format(tmp_path: Path) -> None:
    code, out, _ = run("scan", "templates", str(FAIL_BUCKET), "--format", "json", "--output", str(tmp_path / "f.json"),
                       "--format", "text", "--output", str(tmp_path / "f.txt"), "--quiet", cwd=tmp_path)
    assert code == 1 and out == ""
    assert json.loads((tmp_path / "f.json").read_text())["schema_version"] == 1
    assert "failed" in (tmp_path / "f.txt").read_text()


def _assert_rule(tmp_path: Path, rule_id: str, resource_type: str, expression: str) -> Path:
    """A --rules-dir holding one JMESPath assert rule."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "custom.yaml").write_text(f"""family: ORG
rules:
  - id: {rule_id}
    title: A custom assertion
    severity: low
    resource_types: [{resource_type}]
    description: What the assertion checks.
    remediation: Make the assertion hold.
    assert: "{expression}"
""")
    return rules


def test_user_rules_dir_with_jmespath_assert(tmp_path: Path) -> None:
    rules = _assert_rule(tmp_path, "ORG-001", "AWS::S3::Bucket",
                         "length(Tags[?Key=='data-classification'] || `[]`) > `0`")
    (tmp_path / "t.yaml").write_text("Resources:\n  Tagged:\n    Type: AWS::S3::Bucket\n    Properties:\n"
                                     "      Tags: [{Key: data-classification, Value: secret}]\n"
                                     "  Untagged:\n    Type: AWS::S3::Bucket\n")
    code, out, _ = run("scan", "templates", str(tmp_path / "t.yaml"), "--rules-dir", str(rules), "--rules", "ORG-001",
                       "--format", "json", "--fail-on", "low")
    statuses = {f["resource"]["id"]: f["status"] for f in json.loads(out)["findings"]}
    assert statuses == {"Tagged": "pass", "Untagged": "fail"} and code == 1


def test_jmespath_assert_on_an_unresolved_parameter_is_unknown_not_pass(tmp_path: Path) -> None:
    rules = _assert_rule(tmp_path, "ORG-002", "AWS::SageMaker::NotebookInstance", "DirectInternetAccess == 'Disabled'")
    (tmp_path / "t.yaml").write_text("Parameters:\n  Access: {Type: String}\nResources:\n"
                                     "  FromParam:\n    Type: AWS::SageMaker::NotebookInstance\n"
                                     "    Properties: {DirectInternetAccess: !Ref Access}\n"
                                     "  Closed:\n    Type: AWS::SageMaker::NotebookInstance\n"
                                     "    Properties: {DirectInternetAccess: Disabled}\n")
    code, out, _ = run("scan", "templates", str(tmp_path / "t.yaml"), "--rules-dir", str(rules), "--rules", "ORG-002",
                       "--format", "json", "--fail-on", "low")
    found = {f["resource"]["id"]: f for f in json.loads(out)["findings"]}
    assert {k: f["status"] for k, f in found.items()} == {"FromParam": "unknown", "Closed": "pass"} and code == 0
    assert "DirectInternetAccess is not known before deployment" in found["FromParam"]["message"]


def test_bad_rule_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: BAD-1\n    title: x\n")
    code, _, err = run("rules", "--rules-dir", str(tmp_path))
    assert code == 2 and f"{tmp_path / 'bad.yaml'}: rules[0]" in err


def test_rules_json_lists_the_catalogue() -> None:
    code, out, _ = run("rules", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and {"VPCE-001", "NB-002"} <= {r["id"] for r in rows}
    assert all(r["remediation"] and r["severity"] for r in rows)


@pytest.mark.parametrize("argv", [["--version"], ["rules"], ["scan", "templates", str(FIXTURES / "rules")]])
def test_template_commands_never_import_boto3(argv: list[str]) -> None:
    code = (f"import sys, runpy\nsys.argv = ['sagefence', *{argv!r}]\n"
            "try:\n    runpy.run_module('sagefence', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'moto'))\n"
            "sys.stderr.write('IMPORTED ' + ','.join(bad) + '\\n')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "IMPORTED \n" in proc.stderr, proc.stderr[-2000:]


def _saved_scan(tmp_path: Path, source: Path, name: str) -> Path:
    out = tmp_path / name
    run("scan", "templates", str(source), "--format", "json", "--output", str(out), "--quiet", "--rules", "S3-005",
        cwd=tmp_path)
    return out


@pytest.mark.parametrize("fmt", ["html", "sarif", "junit", "text", "json"])
def test_report_rerenders_a_saved_scan(fmt: str, tmp_path: Path) -> None:
    saved = _saved_scan(tmp_path, FAIL_BUCKET, "f.json")
    code, out, _ = run("report", str(saved), "--format", fmt)
    assert code == 0 and "DataBucket" in out


def test_report_refuses_broken_and_foreign_files(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "v2.json").write_text('{"schema_version": 2}')
    for name, words in (("broken.json", "not a JSON findings document"), ("v2.json", "schema_version 2")):
        code, out, err = run("report", str(tmp_path / name), "--format", "html")
        assert code == 2 and out == "" and words in err


def test_diff_exit_codes(tmp_path: Path) -> None:
    old = _saved_scan(tmp_path, PASS_BUCKET, "old.json")
    new = _saved_scan(tmp_path, FAIL_BUCKET, "new.json")
    code, out, _ = run("diff", str(old), str(new), "--format", "json")
    assert code == 1 and json.loads(out)
    assert run("diff", str(new), str(old))[0] == 0
    assert run("diff", str(old), str(new), "--fail-on", "critical")[0] == 0
    assert run("diff", str(old), str(tmp_path / "missing.json"))[0] == 2


def test_skip_non_templates_for_pre_commit(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x"}')
    code, out, _ = run("scan", "templates", str(tmp_path / "package.json"), str(PASS_BUCKET), "--skip-non-templates",
                       "--format", "json", "--rules", "S3-005", cwd=tmp_path)
    doc = json.loads(out)
    assert code == 0 and doc["errors"] == []
    assert [Path(s["target"]).name for s in doc["scan"]["skipped"]] == ["package.json"]


def test_skip_non_templates_with_no_template_is_not_an_error(tmp_path: Path) -> None:
    """pre-commit passes every changed YAML/JSON file: a commit without templates must pass the hook."""
    (tmp_path / "package.json").write_text('{"name": "x"}')
    code, out, _ = run("scan", "templates", "package.json", "--skip-non-templates", "--format", "json",
                       cwd=tmp_path)
    assert code == 0 and json.loads(out)["findings"] == []


def test_scanner_policy_is_read_only_and_names_the_member_role() -> None:
    code, out, _ = run("scanner-policy", "--role-name", "audit-scanner")
    policy = json.loads(out)
    actions = [a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert code == 0 and actions
    assert all(a.split(":")[1].startswith(("List", "Get", "Describe")) or a == "sts:AssumeRole" for a in actions)
    assert "audit-scanner" in out


def test_migration_plan_checks_its_output_before_any_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sagefence.scan_account as scan_account

    def no_scan(*args: object, **kwargs: object) -> object:
        raise AssertionError("the account was read before the output path was checked")

    monkeypatch.setattr(scan_account, "collect", no_scan)
    code, _, err = run("migration-plan", "--output", str(tmp_path / "missing" / "plan.json"))
    assert code == 2 and "missing" in err
