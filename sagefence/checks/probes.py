"""The probe requests of rules.md: who asks, from where, for what.

The probe principal is a role of the scanned account that no policy names. "Outside the
designated endpoints" is two contexts, both of which must be denied; "from the designated
endpoint" uses the first endpoint/VPC id the policy names, so a DenyNoVPC does not mask
what a rule is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Located
from sagefence.policy import Evaluation, Policy, Request, condition_values, evaluate

PROBE_ROLE = "sagefence-probe"
OUTSIDE_ACCOUNT = "999999999999"
ANOTHER_VPCE = "vpce-0a0a0a0a0a0a0a0a0"
ANOTHER_VPC = "vpc-0a0a0a0a0a0a0a0a0"

INTERNET: Mapping[str, str] = {"aws:SourceIp": "203.0.113.10"}
ANOTHER_ENDPOINT: Mapping[str, str] = {"aws:SourceVpce": ANOTHER_VPCE, "aws:SourceVpc": ANOTHER_VPC,
                                       "aws:VpcSourceIp": "10.255.0.10"}
OUTSIDE_CONTEXTS: Mapping[str, Mapping[str, str]] = {"internet": INTERNET, "another endpoint": ANOTHER_ENDPOINT}
CONTEXT_WORDS = {"internet": "when aws:SourceVpce is absent (from the internet)",
                 "another endpoint": f"through another endpoint ({ANOTHER_VPCE})"}


def account_of_resource(resource: Located) -> str:
    return resource.raw.account or "123456789012"


def probe_arn(account: str, name: str = PROBE_ROLE) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def base_context(principal_arn: str, account: str) -> dict[str, Any]:
    return {"aws:PrincipalArn": principal_arn, "aws:PrincipalAccount": account,
            "aws:PrincipalType": "AssumedRole", "aws:SecureTransport": "true",
            "aws:PrincipalIsAWSService": "false", "aws:ViaAWSService": "false"}


def probe(action: str, resource: str, account: str, extra: Mapping[str, Any] | None = None,
          principal: str | None = None) -> Request:
    principal = principal or probe_arn(account)
    context = {**base_context(principal, account), **(extra or {})}
    return Request(principal, action, resource, context)


def designated_endpoint(policy: Policy) -> dict[str, str]:
    """aws:SourceVpce / aws:SourceVpc at the first value the policy names (else another endpoint's)."""
    context = dict(ANOTHER_ENDPOINT)
    for key in ("aws:SourceVpce", "aws:SourceVpc"):
        named = [v for v in condition_values(policy, key) if "*" not in v and "?" not in v]
        if named:
            context[key] = named[0]
    return context


def denied_everywhere(policy: Policy, actions: Sequence[tuple[str, str]], account: str,
                      resource_account: str | None = None) -> tuple[list[str], set[str]]:
    """Each (action, resource) in both outside contexts: what is not explicitly denied, and the deny labels."""
    open_: list[str] = []
    deciding: set[str] = set()
    for action, arn in actions:
        for name, context in OUTSIDE_CONTEXTS.items():
            result = evaluate(probe(action, arn, account, context), resource=policy, resource_account=resource_account)
            if result.explicitly_denied:
                deciding.update(ref.label for ref in result.deciding)
            else:
                open_.append(f"{action} on {arn} is not denied {CONTEXT_WORDS[name]}")
    return open_, deciding


def role_evaluation(inventory: Inventory, role: Any, request: Request) -> Evaluation:
    """A role's identity policies, permission boundary and (live) the SCPs of its account."""
    identity = [inventory.policy(doc) for doc in role.policies]
    boundary = inventory.policy(role.boundary) if role.boundary is not None else None
    scps = inventory.scps_for(role.account)
    return evaluate(request, identity=identity, boundary=boundary, scps=scps)
