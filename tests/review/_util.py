"""Helpers for the review tests: write templates to tmp_path and scan them with one rule."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from sagefence.config import parse_config
from sagefence.findings import FindingsDocument
from tests.conftest import scan


def write(tmp_path: Path, text: str, name: str = "template.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def scan_files(paths: list[Path], rule: str, config: dict[str, Any] | None = None) -> FindingsDocument:
    return scan(list(paths), rules=[rule], config=parse_config(config or {}, "test config"))


def statuses(tmp_path: Path, text: str, rule: str, config: dict[str, Any] | None = None) -> dict[str, str]:
    """{logical id: status} of one rule on one template (errors of the scan fail the test)."""
    doc = scan_files([write(tmp_path, text)], rule, config)
    assert not doc.errors, doc.errors
    return {f.resource.id: f.status.value for f in doc.findings}


def findings(tmp_path: Path, text: str, rule: str, config: dict[str, Any] | None = None) -> list[Any]:
    doc = scan_files([write(tmp_path, text)], rule, config)
    assert not doc.errors, doc.errors
    return list(doc.findings)


def indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else line for line in textwrap.dedent(text).splitlines())


# -- template builders ---------------------------------------------------------------------

NETWORK = """\
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  S3Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !Ref Vpc
      ServiceName: !Sub 'com.amazonaws.${AWS::Region}.s3'
"""


def bucket_template(statements: str, head: str = "", bucket_props: str = "{BucketName: ml-data}") -> str:
    """A VPC, its S3 endpoint, bucket ml-data and a BucketPolicy holding `statements` (YAML list items)."""
    return (head + "Resources:\n" + NETWORK + f"""\
  DataBucket:
    Type: AWS::S3::Bucket
    Properties: {bucket_props}
  DataBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref DataBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
""" + indent(statements, 10) + "\n")


def key_template(statements: str, head: str = "") -> str:
    """A KMS key whose policy is the usual root statement plus `statements`."""
    return head + """\
Resources:
  DataKey:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: EnableRoot
            Effect: Allow
            Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}
            Action: kms:*
            Resource: "*"
""" + indent(statements, 10) + "\n"


def trust_template(statements: str, head: str = "", role_props: str = "") -> str:
    """One role R whose trust policy holds `statements`."""
    return head + """\
Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
""" + (indent(role_props, 6) + "\n" if role_props else "") + """\
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
""" + indent(statements, 10) + "\n"


SAGEMAKER_TRUST = """\
- Effect: Allow
  Principal: {Service: sagemaker.amazonaws.com}
  Action: sts:AssumeRole
"""
