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
from sagefence.values import ReadError

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


def _scp(name: str, content: Any, targets: list[str]) -> RawResource:
    return RawResource("AWS::Organizations::Policy", f"p-{name}", {"Name": name, "Content": content,
                                                                   "TargetIds": targets}, SourceKind.ACCOUNT)


FULL_ACCESS = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
UNREADABLE = ReadError("organizations.DescribePolicy", "AccessDenied")


def _guardrail_status(*scps: RawResource) -> Status:
    execution = role(DEV, "exec", trust_of({"Service": "sagemaker.amazonaws.com"}),
                     [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}])
    account = RawResource("AWS::Organizations::Account", DEV, {"Id": DEV, "ParentIds": ["r-root", "ou-ml"]},
                          SourceKind.ACCOUNT)
    (result,) = results(vpc_guardrail, execution.id, inventory(execution, account, *scps))
    return result.status


def test_unreadable_scp_where_the_readable_ones_lack_an_allow_is_unknown_not_pass() -> None:
    no_allow = {"Statement": [{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}
    scps = (_scp("full", FULL_ACCESS, ["r-root", DEV]), _scp("narrow", no_allow, ["ou-ml"]))
    assert _guardrail_status(*scps) is Status.PASS  # nothing lets ou-ml through
    assert _guardrail_status(*scps, _scp("secret", UNREADABLE, ["ou-ml"])) is Status.UNKNOWN


def test_unreadable_scp_beside_full_access_is_unknown_not_fail() -> None:
    full = _scp("full", FULL_ACCESS, ["r-root", "ou-ml", DEV])
    assert _guardrail_status(full) is Status.FAIL
    assert _guardrail_status(full, _scp("secret", "{not json", ["ou-ml"])) is Status.UNKNOWN
    lost = RawResource("AWS::Organizations::Policy", "p-lost", {
        "Name": "lost", "Content": FULL_ACCESS, "TargetIds": ReadError("organizations.ListTargetsForPolicy", "x")},
        SourceKind.ACCOUNT)
    assert _guardrail_status(full, lost) is Status.UNKNOWN


def test_readable_deny_decides_despite_an_unreadable_scp() -> None:
    guardrail = {"Statement": [{"Effect": "Deny", "Action": "sagemaker:Create*", "Resource": "*",
                                "Condition": {"Null": {"sagemaker:VpcSubnets": "true"}}}]}
    scps = (_scp("full", FULL_ACCESS, ["r-root", "ou-ml", DEV]), _scp("vpc", guardrail, ["ou-ml"]),
            _scp("secret", UNREADABLE, [DEV]))
    assert _guardrail_status(*scps) is Status.PASS
