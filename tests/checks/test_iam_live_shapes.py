"""IAM checks on live-shaped inventories: several accounts, SCPs, AWS managed policies from the account."""

from __future__ import annotations

import json
from typing import Any

from sagefence.checks.iam import assume_chain, open_trust
from sagefence.checks.sagemaker_iam import vpc_guardrail
from sagefence.config import Config
from sagefence.inventory.index import Inventory
from sagefence.inventory.raw import RawResource
from sagefence.status import SourceKind, Status

DEV, PROD = "111111111111", "222222222222"


def role(account: str, name: str, trust: dict[str, Any], statements: list[dict[str, Any]] | None = None,
         managed: list[str] | None = None) -> RawResource:
    arn = f"arn:aws:iam::{account}:role/{name}"
    props: dict[str, Any] = {"RoleName": name, "Path": "/", "AssumeRolePolicyDocument": trust,
                             "ManagedPolicyArns": managed or []}
    if statements:
        props["Policies"] = [{"PolicyName": "main", "PolicyDocument": {"Statement": statements}}]
    return RawResource("AWS::IAM::Role", arn, props, SourceKind.ACCOUNT, account=account, arn=arn)


def trust_of(principal: dict[str, Any]) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}


def inventory(*resources: RawResource, config: Config | None = None) -> Inventory:
    return Inventory(resources, config=config or Config(), source=SourceKind.ACCOUNT)


def results(check, resource_id: str, inv: Inventory):
    (target,) = [r for r in inv.all() if r.id == resource_id]
    return list(check(target, inv, {}))


def test_cross_account_trust_without_grant_sits_on_the_target() -> None:
    deploy = role(PROD, "deploy", trust_of({"AWS": f"arn:aws:iam::{DEV}:role/pipeline"}))
    pipeline = role(DEV, "pipeline", trust_of({"AWS": f"arn:aws:iam::{DEV}:root"}),
                    [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}])
    inv = inventory(deploy, pipeline)
    (result,) = results(assume_chain, deploy.id, inv)
    assert result.status is Status.FAIL
    assert "is not allowed sts:AssumeRole on arn:aws:iam::222222222222:role/deploy" in result.message


def test_cross_account_chain_that_lines_up_passes() -> None:
    deploy = role(PROD, "deploy", trust_of({"AWS": f"arn:aws:iam::{DEV}:role/pipeline"}))
    pipeline = role(DEV, "pipeline", trust_of({"AWS": f"arn:aws:iam::{DEV}:root"}),
                    [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": deploy.id}])
    inv = inventory(deploy, pipeline, config=Config(trusted_accounts=(DEV,)))
    assert [r.status for r in results(assume_chain, pipeline.id, inv)] == [Status.PASS]
    assert [r.status for r in results(assume_chain, deploy.id, inv)] == [Status.PASS]
    assert [r.status for r in results(open_trust, deploy.id, inv)] == [Status.PASS]


def test_scp_restricts_the_guardrail() -> None:
    execution = role(DEV, "exec", trust_of({"Service": "sagemaker.amazonaws.com"}),
                     [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}])
    scp = RawResource("AWS::Organizations::Policy", "p-1", {
        "Name": "vpc-guardrail", "TargetIds": ["ou-ml"],
        "Content": json.dumps({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "sagemaker:Create*", "Resource": "*",
             "Condition": {"Null": {"sagemaker:VpcSubnets": "true"}}}]})}, SourceKind.ACCOUNT)
    account = RawResource("AWS::Organizations::Account", DEV, {"Id": DEV, "ParentIds": ["r-root", "ou-ml"]},
                          SourceKind.ACCOUNT)
    assert [r.status for r in results(vpc_guardrail, execution.id, inventory(execution))] == [Status.FAIL]
    assert [r.status for r in results(vpc_guardrail, execution.id, inventory(execution, scp, account))] == [Status.PASS]


def test_stack_service_role_must_pass_the_roles_of_its_resources() -> None:
    from sagefence.checks.iam import passrole_relationships

    model_role = role(DEV, "model-exec", trust_of({"Service": "sagemaker.amazonaws.com"}))
    deployer = role(DEV, "cfn-deployer", trust_of({"Service": "cloudformation.amazonaws.com"}),
                    [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}])
    model = RawResource("AWS::SageMaker::Model", f"arn:aws:sagemaker:eu-west-1:{DEV}:model/churn",
                        {"ModelName": "churn", "ExecutionRoleArn": model_role.id}, SourceKind.ACCOUNT,
                        account=DEV, region="eu-west-1", arn=f"arn:aws:sagemaker:eu-west-1:{DEV}:model/churn")
    stack = RawResource("AWS::CloudFormation::Stack", "arn:aws:cloudformation:eu-west-1:111111111111:stack/ml/1",
                        {"StackName": "ml", "RoleARN": deployer.id}, SourceKind.ACCOUNT, account=DEV,
                        region="eu-west-1", extra={"resources": [{"type": "AWS::SageMaker::Model", "physical_id": "churn"}]})
    (result,) = results(passrole_relationships, deployer.id, inventory(model_role, deployer, model, stack))
    assert result.status is Status.FAIL and "service role of stack ml" in result.message
    granted = role(DEV, "cfn-deployer", trust_of({"Service": "cloudformation.amazonaws.com"}),
                   [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": model_role.id,
                     "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}])
    (result,) = results(passrole_relationships, granted.id, inventory(model_role, granted, model, stack))
    assert result.status is Status.PASS
