"""Who a role's trust policy admits: shared by SM-001, IAM-003, IAM-004 and IAM-005.

"Admits" is about who the trust names, not whether a particular request would carry the
keys its conditions test: a trust with the confused-deputy conditions AWS recommends
(aws:SourceAccount, aws:SourceArn) or an sts:ExternalId still admits that principal.
An unconditional Deny for the principal does take admission away.
"""

from __future__ import annotations

from sagefence.checks.common import could_be
from sagefence.checks.probes import base_context, statement_grants
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Role
from sagefence.policy import Policy, Request, named_principals, principal_matches
from sagefence.values import require_document

SAGEMAKER = "sagemaker.amazonaws.com"


def trust_policy(role: Role, inventory: Inventory) -> Policy:
    document = require_document(role.trust_policy, "AssumeRolePolicyDocument")
    return inventory.policy(document, f"trust policy of role {role.id}", "trust")


def admits(role: Role, inventory: Inventory, principal: str, account: str | None = None) -> bool:
    """Whether the trust policy names this principal (ARN, account root or service) for sts:AssumeRole."""
    policy = trust_policy(role, inventory)
    context = base_context(principal, account or "") if principal.startswith("arn:") else {
        "aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": principal}
    request = Request(principal, "sts:AssumeRole", role.arn, context)
    named = False
    for statement in policy.statements:
        if not statement_grants(statement, "sts:AssumeRole") or not principal_matches(statement, request):
            continue
        if statement.is_deny and not statement.conditions:
            return False
        named = named or statement.is_allow
    return named


def may_admit(role: Role, inventory: Inventory, principal: str, account: str | None = None) -> bool:
    """Whether an Allow of the trust policy names a principal not known before deployment that may resolve
    to this principal (or, for an ARN, its account's root or id): then admission is not certain either way."""
    wanted = [principal] + ([f"arn:aws:iam::{account}:root", account] if account else [])
    for named in named_principals(trust_policy(role, inventory)):
        if named.opaque and statement_grants(named.statement, "sts:AssumeRole") and any(
                could_be(named.value, w) for w in wanted):
            return True
    return False


def sagemaker_can_assume(role: Role, inventory: Inventory) -> bool:
    if role.arn in inventory.config.principals or role.id in inventory.config.principals:
        return True
    if role.trust_policy is None:
        return False
    return admits(role, inventory, SAGEMAKER)
