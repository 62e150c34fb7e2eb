from __future__ import annotations

import json

import pytest

from sagefence.diff import diff_documents, diff_exit_status, render_diff_json, render_diff_text
from sagefence.findings import (
    Finding,
    FindingsDocument,
    ResourceRef,
    ScanInfo,
    Suppression,
    ToolInfo,
    summarize,
)
from sagefence.status import Severity, Status


def finding(rule_id: str, resource: str, status: str = "fail", severity: str = "high",
            message: str = "it fails", suppressed: bool = False, service: str | None = None) -> Finding:
    return Finding(
        rule_id=rule_id, title=f"title of {rule_id}", severity=Severity(severity), status=Status(status),
        resource=ResourceRef(type="AWS::S3::Bucket", id=resource, account="111122223333", region="us-east-1"),
        message=message, evidence={"service": service} if service else {},
        suppressed=Suppression(reason="accepted risk", source="config") if suppressed else None,
    )


def document(*findings: Finding) -> FindingsDocument:
    return FindingsDocument(
        tool=ToolInfo(version="0.1.0"),
        scan=ScanInfo(source="account", started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T00:01:00Z"),
        summary=summarize(list(findings)), findings=list(findings))


@pytest.fixture
def docs() -> tuple[FindingsDocument, FindingsDocument]:
    old = document(
        finding("S3-001", "bucket-a"),                                   # unchanged
        finding("S3-002", "bucket-b", severity="medium"),                # resolved: passes now
        finding("S3-003", "bucket-c"),                                   # resolved: gone
        finding("NB-001", "nb-1", severity="critical"),                  # now suppressed
        finding("NB-002", "nb-2"),                                       # now unknown
        finding("VPCE-002", "vpc-1", service="sagemaker.api"),           # unchanged
        finding("NB-004", "nb-4", suppressed=True),                      # suppressed in both
    )
    new = document(
        finding("S3-001", "bucket-a", message="reworded message"),
        finding("S3-002", "bucket-b", status="pass", severity="medium"),
        finding("NB-001", "nb-1", severity="critical", suppressed=True),
        finding("NB-002", "nb-2", status="unknown"),
        finding("VPCE-002", "vpc-1", service="sagemaker.api"),
        finding("VPCE-002", "vpc-1", service="sts"),                     # new, same resource other service
        finding("NB-003", "nb-3", severity="low"),                       # new
        finding("NB-004", "nb-4", suppressed=True),
        finding("NB-005", "nb-5", suppressed=True),                      # new but suppressed: not counted
    )
    return old, new


def ids(findings: tuple[Finding, ...]) -> list[tuple[str, str]]:
    return [(f.rule_id, f.resource.id + (f":{f.evidence['service']}" if f.evidence.get("service") else ""))
            for f in findings]


def test_classifies_failures_by_fingerprint(docs: tuple[FindingsDocument, FindingsDocument]) -> None:
    result = diff_documents(*docs)
    assert ids(result.new) == [("VPCE-002", "vpc-1:sts"), ("NB-003", "nb-3")]
    assert sorted(ids(result.resolved)) == [("S3-002", "bucket-b"), ("S3-003", "bucket-c")]
    assert ids(result.unchanged) == [("S3-001", "bucket-a"), ("VPCE-002", "vpc-1:sagemaker.api")]
    assert ids(result.suppressed) == [("NB-001", "nb-1")]
    assert ids(result.unverified) == [("NB-002", "nb-2")]


def test_unchanged_reports_the_new_finding(docs: tuple[FindingsDocument, FindingsDocument]) -> None:
    result = diff_documents(*docs)
    assert result.unchanged[0].message == "reworded message"


def test_identical_documents_have_no_new_or_resolved(docs: tuple[FindingsDocument, FindingsDocument]) -> None:
    old, _ = docs
    result = diff_documents(old, old)
    assert result.new == () and result.resolved == () and len(result.unchanged) == 6
    assert diff_exit_status(result, Severity.INFO) == 0


@pytest.mark.parametrize(("fail_on", "expected"), [
    (Severity.CRITICAL, 0), (Severity.HIGH, 1), (Severity.MEDIUM, 1), (Severity.LOW, 1),
    (Severity.INFO, 1), (None, 0),
])
def test_exit_status_follows_the_new_failures(docs: tuple[FindingsDocument, FindingsDocument],
                                              fail_on: Severity | None, expected: int) -> None:
    # new failures are one high (VPCE-002 sts) and one low (NB-003); NB-005 is suppressed
    assert diff_exit_status(diff_documents(*docs), fail_on) == expected


def test_only_low_new_failure() -> None:
    old = document(finding("S3-001", "a"))
    new = document(finding("S3-001", "a"), finding("S3-009", "b", severity="low"))
    result = diff_documents(old, new)
    assert diff_exit_status(result, Severity.HIGH) == 0
    assert diff_exit_status(result, Severity.LOW) == 1


def test_text_output(docs: tuple[FindingsDocument, FindingsDocument]) -> None:
    text = render_diff_text(diff_documents(*docs))
    first = text.splitlines()[0]
    assert first == ("sagefence diff: 2 new, 2 resolved, 2 unchanged failures "
                     "(1 now suppressed, 1 not verified)")
    assert "New failures (2):" in text
    assert "service sts" in text
    assert "Resolved (2):" in text
    assert "Now suppressed (still failing) (1):" in text
    assert "111122223333/us-east-1" in text


def test_text_output_when_nothing_changed() -> None:
    text = render_diff_text(diff_documents(document(), document()))
    assert text == "sagefence diff: 0 new, 0 resolved, 0 unchanged failures (0 now suppressed, 0 not verified)\n"


def test_json_output(docs: tuple[FindingsDocument, FindingsDocument]) -> None:
    result = diff_documents(*docs)
    data = json.loads(render_diff_json(result))
    assert data["schema_version"] == 1
    assert data["summary"] == {"new": 2, "resolved": 2, "suppressed": 1, "unverified": 1, "unchanged": 2}
    assert [e["rule_id"] for e in data["new"]] == ["VPCE-002", "NB-003"]
    assert data["new"][0]["fingerprint"] == result.new[0].fingerprint
    assert data["new"][0]["resource"]["id"] == "vpc-1"
    assert data["suppressed"][0]["suppressed"]["reason"] == "accepted risk"


def test_text_output_neutralises_control_characters() -> None:
    evil = "bucket\x1b]0;pwned\x07\nFAKE LINE"
    new = document(finding("S3-001", evil, message=f"msg {evil}"))
    text = render_diff_text(diff_documents(document(), new))
    assert "\x1b" not in text and "\x07" not in text
    assert "bucket\\x1b]0;pwned\\x07\\x0aFAKE LINE" in text
    assert len(text.splitlines()) == 5
