"""IAM roles and managed policies of one account, from GetAccountAuthorizationDetails.

One paginated operation per account (scope ``global``). Users and groups are out of scope.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sagefence.sources.aws.calls import TaskClients
from sagefence.sources.aws.errors import READ_ERRORS, Batch
from sagefence.sources.aws.options import LiveScanOptions
from sagefence.sources.aws.shape import pages, present, resource
from sagefence.values import Missing

ROLE = "AWS::IAM::Role"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
TYPES = (ROLE, MANAGED_POLICY)
GLOBAL = "global"
_OPERATION = "iam.GetAccountAuthorizationDetails"


def collect(clients: TaskClients, region: str, options: LiveScanOptions) -> Batch:
    batch = Batch()
    account = clients.account
    roles: list[dict[str, Any]] = []
    policies: list[dict[str, Any]] = []
    try:
        for page in pages(
            clients("iam"),
            "get_account_authorization_details",
            Filter=["Role", "LocalManagedPolicy", "AWSManagedPolicy"],
            PaginationConfig={"PageSize": 1000},  # the most IAM allows: fewest calls
        ):
            roles.extend(page.get("RoleDetailList", []))
            policies.extend(page.get("Policies", []))
    except READ_ERRORS as err:
        for type_ in TYPES:
            batch.fail(account, GLOBAL, type_, _OPERATION, err)
        return batch
    attached: dict[str, list[str]] = defaultdict(list)
    boundaries: set[str] = set()
    for role in roles:
        for policy in role.get("AttachedManagedPolicies", []):
            attached[policy["PolicyArn"]].append(role["RoleName"])
        boundaries.add((role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", ""))
        batch.resources.append(_role(role, account))
    for policy in policies:
        arn = policy["Arn"]
        aws_managed = arn.split(":")[4] == "aws"
        in_use = policy.get("AttachmentCount") or policy.get("PermissionsBoundaryUsageCount")
        # Customer managed policies are kept even when detached: attaching is one call away.
        if in_use or arn in attached or arn in boundaries or not aws_managed:
            batch.resources.append(_policy(policy, sorted(attached.get(policy["Arn"], [])), aws_managed, account))
    return batch


def _role(role: dict[str, Any], account: str) -> Any:
    boundary = role.get("PermissionsBoundary") or {}
    properties = present(
        RoleName=role["RoleName"],
        Path=role.get("Path", "/"),
        AssumeRolePolicyDocument=role.get("AssumeRolePolicyDocument"),
        Policies=[
            {"PolicyName": p["PolicyName"], "PolicyDocument": p.get("PolicyDocument")}
            for p in role.get("RolePolicyList", [])
        ],
        ManagedPolicyArns=[p["PolicyArn"] for p in role.get("AttachedManagedPolicies", [])],
        PermissionsBoundary=boundary.get("PermissionsBoundaryArn"),
        Tags=role.get("Tags") or None,
    )
    return resource(ROLE, role["Arn"], properties, account, None, arn=role["Arn"])


def _policy(policy: dict[str, Any], roles: list[str], aws_managed: bool, account: str) -> Any:
    document = next(
        (v.get("Document") for v in policy.get("PolicyVersionList", []) if v.get("IsDefaultVersion")),
        None,
    )
    properties = present(
        ManagedPolicyName=policy.get("PolicyName") or policy["Arn"].rsplit("/", 1)[-1],  # moto omits it
        Path=policy.get("Path", "/"),
        Description=policy.get("Description"),
        Roles=roles,
    )
    properties["PolicyDocument"] = document if document is not None else Missing("PolicyDocument")
    extra = {"aws_managed": aws_managed}
    return resource(MANAGED_POLICY, policy["Arn"], properties, account, None, arn=policy["Arn"], extra=extra)
