"""Build findings documents for the report tests from the models, without the scanner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from sagefence.findings import (
    ErrorEntry,
    Finding,
    FindingsDocument,
    ResourceRef,
    ScanInfo,
    Suppression,
    ToolInfo,
    summarize,
)
from sagefence.status import Severity, Status

HOSTILE_ID = "<script>alert(1)</script>"
HOSTILE_TAG = '"><img src=x onerror=alert(1)>'
HOSTILE_POLICY = '{"Statement": "</script><script>alert(2)</script><!--"}'


def make_finding(rule_id: str = "S3-001", resource_id: str = "DataBucket", *, status: str = "fail",
                 severity: str = "high", resource_type: str = "AWS::S3::Bucket",
                 account: str | None = None, region: str | None = None,
                 file: str | None = "templates/data.yaml", line: int | None = 42,
                 message: str | None = None, evidence: dict[str, Any] | None = None,
                 remediation: str = "Add a Deny statement for requests without aws:SourceVpce.",
                 suppressed: str | None = None, title: str | None = None) -> Finding:
    return Finding(
        rule_id=rule_id,
        title=title or f"Rule {rule_id} holds",
        severity=Severity(severity),
        status=Status(status),
        resource=ResourceRef(type=resource_type, id=resource_id, account=account, region=region,
                             file=file, line=line),
        message=message or f"{rule_id} is {status} on {resource_id}",
        evidence=evidence or {},
        remediation=remediation,
        suppressed=Suppression(reason=suppressed, expires="2099-01-01", source="config") if suppressed else None,
    )


def make_document(findings: list[Finding], *, source: str = "templates",
                  errors: Sequence[tuple[str, str] | tuple[str, str, int]] = ()) -> FindingsDocument:
    """``errors``: (target, message) or (target, message, line)."""
    accounts = sorted({f.resource.account for f in findings if f.resource.account})
    regions = sorted({f.resource.region for f in findings if f.resource.region})
    return FindingsDocument(
        tool=ToolInfo(version="0.1.0"),
        scan=ScanInfo(source=source, started_at="2026-11-25T10:00:00Z", finished_at="2026-11-25T10:00:05Z",
                      targets=["templates"], accounts=accounts, regions=regions),
        summary=summarize(findings),
        findings=findings,
        errors=[ErrorEntry(*error) for error in errors],
    )


def sample_findings() -> list[Finding]:
    """A mixed document: 10 findings over 3 families, 2 accounts, every status."""
    live = {"file": None, "line": None}
    a, b = "111122223333", "444455556666"
    return [
        make_finding("S3-001", "DataBucket", severity="high", line=12),
        make_finding("S3-002", "DataBucket", status="pass", severity="medium", line=12),
        make_finding("S3-001", "LogsBucket", severity="high", suppressed="logs are public by design",
                     file="templates\\logs.yaml", line=3),
        make_finding("NB-001", f"arn:aws:sagemaker:us-east-1:{a}:notebook-instance/nb1", severity="critical",
                     resource_type="AWS::SageMaker::NotebookInstance", account=a, region="us-east-1",
                     evidence={"DirectInternetAccess": "Enabled", "Tags": {"team": "ml"}}, **live),
        make_finding("NB-002", f"arn:aws:sagemaker:us-east-1:{a}:notebook-instance/nb1", status="error",
                     severity="medium", resource_type="AWS::SageMaker::NotebookInstance", account=a,
                     region="us-east-1", message="AccessDenied on DescribeNotebookInstance", **live),
        make_finding("NB-001", f"arn:aws:sagemaker:eu-west-1:{b}:notebook-instance/nb2", status="pass",
                     severity="critical", resource_type="AWS::SageMaker::NotebookInstance", account=b,
                     region="eu-west-1", **live),
        make_finding("VPCE-002", "vpc-0abc", severity="medium", resource_type="AWS::EC2::VPC", account=b,
                     region="eu-west-1", evidence={"service": "sagemaker.api"}, **live),
        make_finding("VPCE-002", "vpc-0abc", severity="medium", resource_type="AWS::EC2::VPC", account=b,
                     region="eu-west-1", evidence={"service": "sts"}, **live),
        make_finding("VPCE-001", "vpc-0abc", status="unknown", severity="low", resource_type="AWS::EC2::VPC",
                     account=b, region="eu-west-1", message="endpoint policy is unresolved", **live),
        make_finding("S3-003", "ModelBucket", severity="info", line=None),
    ]


def hostile_findings() -> list[Finding]:
    return [
        make_finding("S3-001", HOSTILE_ID, message=f"tag value {HOSTILE_TAG}",
                     evidence={"Tags": {"owner": HOSTILE_TAG}, "policy": HOSTILE_POLICY}),
        make_finding("S3-002", "SafeBucket", status="pass", severity="medium",
                     remediation=f"Never write {HOSTILE_POLICY} or <!-- in a policy"),
    ]


@pytest.fixture
def sample_doc() -> FindingsDocument:
    return make_document(sample_findings(), source="account", errors=[("templates/broken.yaml", "line 7: bad")])


@pytest.fixture
def hostile_doc() -> FindingsDocument:
    return make_document(hostile_findings())


class Factory:
    """The builders above, handed to tests as a fixture (importing conftest is fragile)."""

    finding = staticmethod(make_finding)
    document = staticmethod(make_document)
    sample_findings = staticmethod(sample_findings)
    hostile_findings = staticmethod(hostile_findings)
    HOSTILE_ID = HOSTILE_ID
    HOSTILE_TAG = HOSTILE_TAG
    HOSTILE_POLICY = HOSTILE_POLICY


@pytest.fixture
def factory() -> type[Factory]:
    return Factory
