"""Malformed policies give `error` findings naming the resource and the problem; never a crash, never a pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import scan
from tests.review._util import NETWORK

BUCKET = """Resources:
  DataBucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: ml-data}
  DataBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref DataBucket
      PolicyDocument: POLICY
"""


@pytest.mark.parametrize(("policy", "problem"), [
    ("{Statement: not-a-list-or-object}", "Statement"),
    ("{Statement: [{Principal: '*', Action: 's3:*', Resource: '*'}]}", "Effect"),
    ("{Statement: [{Effect: Deny, Principal: '*', Action: 's3:*', Resource: '*', "
     "Condition: {StringNotEqualsLoosely: {aws:SourceVpce: vpce-1}}}]}", "StringNotEqualsLoosely"),
    ("{Statement: [{Effect: Deny, Principal: [everyone], Action: 's3:*', Resource: '*'}]}", "Principal"),
    ("'{\"Statement\": [ {\"Effect\": \"Deny\",'", "JSON"),
    ("{Statement: [{Effect: Maybe, Principal: '*', Action: 's3:*', Resource: '*'}]}", "Effect"),
])
def test_malformed_bucket_policy_is_an_error_finding(policy: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(BUCKET.replace("POLICY", policy))
    doc = scan([path], rules=["S3-001", "S3-004", "S3-003"])
    by_rule = {f.rule_id: f for f in doc.findings}
    for rule_id in ("S3-001", "S3-004"):
        finding = by_rule[rule_id]
        assert finding.status.value == "error", (rule_id, finding.message)
        assert finding.resource.id == "DataBucket"
        assert problem.lower() in finding.message.lower(), finding.message
    assert by_rule["S3-003"].status.value == "fail"  # the rest of the resource is still checked


def test_malformed_trust_policy_errors_every_role_rule(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("""Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Robot: x}, Action: sts:AssumeRole}]}
""")
    doc = scan([path], rules=["IAM-001", "SM-001", "IAM-005"])
    assert {(f.rule_id, f.status.value) for f in doc.findings} == {
        ("IAM-001", "error"), ("SM-001", "error"), ("IAM-005", "error")}
    assert all("Robot" in f.message for f in doc.findings)


ENDPOINT = "Resources:\n" + NETWORK + """\
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: '*', Action: 's3:*', Resource: '*'}
          - {Sid: OwnAccountOnly, Effect: Deny, Principal: '*', Action: 's3:*', Resource: '*',
             Condition: {NumericNotEquals: {s3:ResourceAccount: 'my account'}}}
"""


def test_ill_formed_deny_in_endpoint_policy_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(ENDPOINT)
    finding = next(f for f in scan([path], rules=["VPCE-004"]).findings if f.resource.id == "S3Endpoint")
    assert finding.status.value == "error", finding.message
    for name in ("OwnAccountOnly", "NumericNotEquals", "s3:ResourceAccount", "my account"):
        assert name in finding.message, finding.message


@pytest.mark.parametrize(("condition", "bad"), [
    ("NotIpAddress: {aws:SourceIp: 10.0.0.0/33}", "10.0.0.0/33"),
    ("StringNotEquals: {aws:SourceVpce: vpce-1}, Bool: {aws:ViaAWSService: nope}", "nope"),
])
def test_ill_formed_deny_in_bucket_policy_is_an_error(condition: str, bad: str, tmp_path: Path) -> None:
    policy = ("{Statement: [{Sid: DenyNoVPC, Effect: Deny, Principal: '*', Action: 's3:*', "
              "Resource: ['arn:aws:s3:::ml-data', 'arn:aws:s3:::ml-data/*'], Condition: {" + condition + "}}]}")
    path = tmp_path / "t.yaml"
    path.write_text(BUCKET.replace("POLICY", policy))
    finding = next(f for f in scan([path], rules=["S3-001"]).findings if f.resource.id == "DataBucket")
    assert finding.status.value == "error", finding.message
    assert "DenyNoVPC" in finding.message and bad in finding.message, finding.message
