"""AWS managed policies come from the account when attached (moto must load them: a world of its own)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from sagefence.sources.aws import LiveScanOptions, LiveScanResult, collect
from tests.sources.aws import aws_world

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
POWER = "arn:aws:iam::aws:policy/PowerUserAccess"


@pytest.fixture(scope="module")
def scan(aws_env: None) -> Iterator[LiveScanResult]:
    from moto import mock_aws

    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        iam = boto3.client("iam")
        trust = json.dumps(aws_world.TRUST_SAGEMAKER)
        iam.create_role(RoleName="Notebook", AssumeRolePolicyDocument=trust, PermissionsBoundary=POWER)
        iam.attach_role_policy(RoleName="Notebook", PolicyArn=ADMIN)
        yield collect(LiveScanOptions(regions=("us-east-1",)))


def test_attached_aws_managed_policies_are_collected(scan: LiveScanResult) -> None:
    policies = {r.id: r for r in scan.resources if r.type == "AWS::IAM::ManagedPolicy"}
    assert set(policies) == {ADMIN, POWER}  # of the ~1,500 AWS managed policies, the ones in use
    admin = policies[ADMIN]
    assert admin.extra == {"aws_managed": True} and admin.region is None
    assert admin.properties["ManagedPolicyName"] == "AdministratorAccess"
    assert admin.properties["Roles"] == ["Notebook"]
    assert admin.properties["PolicyDocument"]["Statement"][0]["Action"] == "*"
    assert policies[POWER].properties["Roles"] == []  # a boundary is not an attachment
    (role,) = [r for r in scan.resources if r.type == "AWS::IAM::Role"]
    assert role.properties["ManagedPolicyArns"] == [ADMIN] and role.properties["PermissionsBoundary"] == POWER
