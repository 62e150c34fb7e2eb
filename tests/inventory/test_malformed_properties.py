"""Malformed is never pass: a value of the wrong type, or a null, is an `error` of the rules that read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.review._util import findings, scan_files, write

NOTEBOOK = """
Resources:
  Notebook:
    Type: AWS::SageMaker::NotebookInstance
    Properties:
      InstanceType: ml.t3.medium
      RoleArn: arn:aws:iam::123456789012:role/nb
      DirectInternetAccess: Disabled
      RootAccess: Disabled
      SubnetId: subnet-1
      KmsKeyId: key-1
      PlatformIdentifier: notebook-al2023-v1
"""


@pytest.mark.parametrize(("prop", "value", "rule", "problem"), [
    ("PlatformIdentifier", "[notebook-al1-v1]", "NB-001", "a list where CloudFormation expects string"),
    ("PlatformIdentifier", "[notebook-al1-v1]", "NB-002", "a list where CloudFormation expects string"),
    ("KmsKeyId", "[]", "SM-004", "a list where CloudFormation expects string"),
    ("KmsKeyId", "false", "SM-004", "a boolean where CloudFormation expects string"),
    ("DirectInternetAccess", "null", "SM-002", "null"),
    ("RootAccess", "[Disabled]", "SM-003", "a list"),
])
def test_notebook_property_of_the_wrong_type_is_an_error(tmp_path: Path, prop: str, value: str, rule: str,
                                                         problem: str) -> None:
    text = NOTEBOOK.replace(f"      {prop}: ", f"      {prop}: {value} #", 1)
    (finding,) = findings(tmp_path, text, rule)
    assert finding.status.value == "error", finding
    assert prop in finding.message and problem in finding.message


def test_a_malformed_property_leaves_the_rules_that_do_not_read_it_alone(tmp_path: Path) -> None:
    text = NOTEBOOK.replace("PlatformIdentifier: notebook-al2023-v1", "PlatformIdentifier: [notebook-al1-v1]")
    assert [f.status.value for f in findings(tmp_path, text, "SM-002")] == ["pass"]


def test_ingress_cidr_as_a_list_is_an_error_not_a_pass(tmp_path: Path) -> None:
    text = """
    Resources:
      Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
      Group:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: endpoints
          VpcId: !Ref Vpc
          SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: ["0.0.0.0/0"]}]
      Endpoint:
        Type: AWS::EC2::VPCEndpoint
        Properties:
          VpcId: !Ref Vpc
          ServiceName: com.amazonaws.us-east-1.sts
          VpcEndpointType: Interface
          PrivateDnsEnabled: true
          SecurityGroupIds: [!Ref Group]
    """
    (finding,) = findings(tmp_path, text, "VPCE-005")
    assert finding.status.value == "error" and "CidrIp is a list" in finding.message

SAGEMAKER_ROLE = """
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement: [{Effect: Allow, Principal: {Service: sagemaker.amazonaws.com}, Action: sts:AssumeRole}]
"""


@pytest.mark.parametrize("rule", ["IAM-005", "SM-001"])
def test_managed_policy_arns_as_a_map_does_not_hide_administrator_access(tmp_path: Path, rule: str) -> None:
    text = SAGEMAKER_ROLE + """
          ManagedPolicyArns: {Admin: arn:aws:iam::aws:policy/AdministratorAccess}
    """
    (finding,) = findings(tmp_path, text, rule)
    assert finding.status.value == "error" and "ManagedPolicyArns" in finding.message


def test_a_policy_whose_roles_cannot_be_read_is_an_error_of_the_scan(tmp_path: Path) -> None:
    text = SAGEMAKER_ROLE + """
      Guard:
        Type: AWS::IAM::Policy
        Properties:
          PolicyName: guard
          Roles: {Name: !Ref Role}
          PolicyDocument:
            Statement: [{Effect: Deny, Action: "sagemaker:*", Resource: "*"}]
    """
    doc = scan_files([write(tmp_path, text)], "SM-001")
    assert [f.status.value for f in doc.findings] == ["unknown"]
    assert any("Guard (AWS::IAM::Policy) could not be read" in e.message and "Roles is a map" in e.message
               for e in doc.errors), doc.errors


def test_a_broken_bucket_policy_is_an_error_of_the_scan(tmp_path: Path) -> None:
    text = """
    Resources:
      Bucket: {Type: AWS::S3::Bucket}
      Policy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: [!Ref Bucket]
          PolicyDocument: {Statement: []}
    """
    doc = scan_files([write(tmp_path, text)], "S3-001")
    assert any("Policy (AWS::S3::BucketPolicy) could not be read" in e.message for e in doc.errors), doc.errors
