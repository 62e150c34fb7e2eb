"""Who a role's trust policy admits: shared by SM-001, IAM-001, IAM-003, IAM-004 and IAM-005."""

from __future__ import annotations

from sagefence.checks.probes import base_context
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Role
from sagefence.policy import Policy, Request, evaluate
from sagefence.values import require

SAGEMAKER = "sagemaker.amazonaws.com"


def trust_policy(role: Role, inventory: Inventory) -> Policy:
    document = require(role.trust_policy, "AssumeRolePolicyDocument")
    return inventory.policy(document, f"trust policy of role {role.id}", "trust")


def admits(role: Role, inventory: Inventory, principal: str, account: str | None = None) -> bool:
    """Whether the trust policy lets this principal (ARN or service) call sts:AssumeRole, unconditioned keys aside."""
    policy = trust_policy(role, inventory)
    context = base_context(principal, account or "") if principal.startswith("arn:") else {
        "aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": principal}
    request = Request(principal, "sts:AssumeRole", role.arn, context)
    return evaluate(request, resource=policy).allowed


def sagemaker_can_assume(role: Role, inventory: Inventory) -> bool:
    if role.arn in inventory.config.principals or role.id in inventory.config.principals:
        return True
    if role.trust_policy is None:
        return False
    return admits(role, inventory, SAGEMAKER)
