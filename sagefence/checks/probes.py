"""The probe requests of rules.md: who asks, from where, for what.

The probe principal is a role of the scanned account that no policy names. "Outside the
designated endpoints" is two contexts, both of which must be denied; "from the designated
endpoint" uses the first endpoint/VPC id the policy names, so a DenyNoVPC does not mask
what a rule is about.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sagefence.checks import Result, failed, passed
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Located
from sagefence.policy import Evaluation, Policy, Request, condition_values, evaluate
from sagefence.policy.patterns import arn_match, glob_match
from sagefence.values import OPAQUE_CLOSE, OPAQUE_OPEN

_PRINCIPAL_ACCOUNT = re.compile(r"^(?:arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):|(\d{12})$)")
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
    """A request of the probe principal. aws:RequestedRegion (the region of the resource ARN, when it
    has one) is set because every real request carries it: a region guard must not hide an open request."""
    principal = principal if principal is not None else probe_arn(account)
    context = {**base_context(principal, account), **(extra or {})}
    parts = resource.split(":", 4)
    if len(parts) > 3 and parts[0] == "arn" and parts[3] and "aws:RequestedRegion" not in context:
        context["aws:RequestedRegion"] = parts[3]
    return Request(principal, action, resource, context)


def _instance(pattern: str) -> str:
    """A concrete value a StringLike pattern matches (vpce-0abc* -> vpce-0abc0)."""
    return pattern.replace("*", "0").replace("?", "0")


def designated_endpoint(policy: Policy) -> dict[str, str]:
    """aws:SourceVpce / aws:SourceVpc at the first value the policy names (else another endpoint's),
    and aws:VpcSourceIp inside the first network it names, so a DenyNoVPC does not mask a rule."""
    context = dict(ANOTHER_ENDPOINT)
    for key in ("aws:SourceVpce", "aws:SourceVpc"):
        named = [v for v in condition_values(policy, key) if "${" not in v]
        if named:
            context[key] = _instance(named[0])
    for value in condition_values(policy, "aws:VpcSourceIp"):
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            continue
        context["aws:VpcSourceIp"] = str(network.network_address + (1 if network.num_addresses > 2 else 0))
        break
    return context


def designated_endpoints(policy: Policy, limit: int = 6) -> list[dict[str, str]]:
    """The designated-endpoint context for each endpoint and VPC id the policy names (the first one
    named may belong to an Allow for an admin endpoint, not to the DenyNoVPC)."""
    first = designated_endpoint(policy)
    contexts = [first]
    for key in ("aws:SourceVpce", "aws:SourceVpc"):
        for value in condition_values(policy, key):
            if "${" in value:
                continue
            context = {**first, key: _instance(value)}
            if context not in contexts:
                contexts.append(context)
    return contexts[:limit]


def principal_account(value: str) -> str | None:
    """The 12-digit account of an IAM/STS principal ARN or bare id, also when other parts are opaque."""
    match = _PRINCIPAL_ACCOUNT.match(value)
    return match.group(1) or match.group(2) if match else None


def denied_everywhere(policy: Policy, actions: Sequence[tuple[str, str]], account: str,
                      resource_account: str | None = None) -> tuple[list[str], set[str]]:
    """Each (action, resource) in both outside contexts: what is not explicitly denied, and the deny labels."""
    open_: list[str] = []
    deciding: set[str] = set()
    for name, context in OUTSIDE_CONTEXTS.items():
        base: Request | None = None
        for action, arn in actions:
            base = probe(action, arn, account, context) if base is None else base.retarget(action, arn)
            result = evaluate(base, resource=policy, resource_account=resource_account)
            if result.explicitly_denied:
                deciding.update(ref.label for ref in result.deciding)
            else:
                open_.append(f"{action} on {arn} is not denied {CONTEXT_WORDS[name]}")
    return open_, deciding


def outside_denial(policy: Policy, actions: Sequence[tuple[str, str]], account: str, service: str) -> Result:
    """S3-001 and KMS-001's verdict: fail naming what is not denied from outside the designated
    endpoints, else pass naming the statements that deny it."""
    open_, deciding = denied_everywhere(policy, actions, account)
    evidence = {"policy": policy.source, "denied_by": sorted(deciding)}
    if open_:
        return failed(summarize_open(open_), not_denied=open_, **evidence)
    return passed(f"every probed {service} action is denied from outside the designated endpoints by "
                  f"{', '.join(sorted(deciding))}", **evidence)


def summarize_open(open_: Sequence[str]) -> str:
    """'a on X is not denied C', ... grouped as 'not denied C: a, b on X; c on Y'."""
    grouped: dict[str, dict[str, list[str]]] = {}
    for line in open_:
        head, _, context = line.partition(" is not denied ")
        action, _, resource = head.partition(" on ")
        grouped.setdefault(context, {}).setdefault(resource, []).append(action)
    parts = []
    for context, by_resource in grouped.items():
        listed = "; ".join(f"{', '.join(actions)} on {resource}" for resource, actions in by_resource.items())
        parts.append(f"not denied {context}: {listed}")
    return ". ".join(parts)


def role_evaluation(inventory: Inventory, role: Any, request: Request, open_gates: bool = False) -> Evaluation:
    """A role's identity policies, permission boundary and (live) the SCPs of its account.

    With ``open_gates`` a boundary or SCP whose content is not known is left out: rules.md
    takes such a policy (an AWS managed policy we do not ship) to possibly allow anything and
    never deny, so it cannot save a request the known identity policies allow. One that
    could not be read at all (``may_deny``: an SCP) stays: it may deny, so a verdict that
    depends on it remains uncertain.
    """
    identity = [inventory.policy(doc) for doc in role.policies]
    boundary = inventory.policy(role.boundary) if role.boundary is not None else None
    scps = inventory.scps_for(role.account)
    if open_gates:
        boundary = None if boundary is not None and _open(boundary) else boundary
        scps = [scp for scp in scps if not _open(scp)]
    return evaluate(request, identity=identity, boundary=boundary, scps=scps)


def arn_segments(arn: str) -> list[str]:
    """An ARN's (up to) six colon-separated parts; a colon inside an opaque token ⟨…⟩ does not split."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in arn:
        depth += (char == OPAQUE_OPEN) - (char == OPAQUE_CLOSE)
        if char == ":" and depth <= 0 and len(parts) < 5:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _open(policy: Policy) -> bool:
    """An unknown policy that never denies: leaving it out is taking it to allow everything."""
    return policy.unknown and not policy.may_deny


def witness_resources(policies: Sequence[Policy], action: str, default: str, limit: int = 24) -> list[str]:
    """Concrete resources a request could name: the default probe, plus one instance of every ARN
    pattern an Allow statement for the action names that the default does not match, so a grant scoped
    by name prefix or region is probed where it applies. A witness keeps the default's partition,
    service, account and resource type: a pattern that leaves them open is filled with the default's,
    one that names others cannot apply to the resource the request creates and gives no witness."""
    out = [default]
    for policy in policies:
        for pattern in _policy_patterns(policy, action):
            concrete = _witness(pattern, default)
            if concrete is not None and concrete not in out:
                out.append(concrete)
    return out[:limit]


def _witness(pattern: str, default: str) -> str | None:
    if arn_match(pattern, default, {}):
        return None
    wanted = arn_segments(default)
    given = arn_segments(pattern)
    if len(given) < len(wanted):
        if not given[-1].endswith("*"):
            return None
        given += ["*"] * (len(wanted) - len(given))
    fitted = [want if glob_match(seg, want, {}, variables=False) else None for seg, want in zip(given, wanted, strict=True)]
    if any(fitted[i] is None for i in (0, 1, 2, 4)):
        return None
    if fitted[3] is None:
        fitted[3] = _fill(given[3])
    if fitted[5] is None:
        fitted[5] = _typed_instance(given[5], wanted[5].split("/", 1)[0])
    return None if None in fitted else ":".join(part for part in fitted if part is not None)


def _fill(pattern: str) -> str:
    return pattern.replace("*", "sagefence").replace("?", "x")


def _typed_instance(pattern: str, kind: str) -> str | None:
    """An instance of a resource pattern of the given type (notebook-instance/...), if it has one."""
    candidates = [_fill(pattern), f"{kind}/{_fill(pattern)}"]
    if pattern[:1] in ("*", "?"):
        candidates.insert(1, kind + _fill(pattern[1:]))
    for candidate in candidates:
        if candidate.startswith(f"{kind}/") and glob_match(pattern, candidate, {}, variables=False):
            return candidate
    return None


_witness_cache: dict[tuple[int, str], tuple[Policy, tuple[str, ...]]] = {}


def _policy_patterns(policy: Policy, action: str) -> tuple[str, ...]:
    """One policy's ARN patterns for an action; AWS managed policies attached to many roles are read once."""
    cached = _witness_cache.get((id(policy), action))
    if cached is not None and cached[0] is policy:
        return cached[1]
    found: list[str] = []
    for statement in policy.statements:
        if not statement.is_allow or statement.resources is None or not statement_grants(statement, action):
            continue
        for pattern in statement.resources:
            if pattern.startswith("arn:") and "${" not in pattern and pattern not in found:
                found.append(pattern)
    if len(_witness_cache) > 8192:
        _witness_cache.clear()
    _witness_cache[(id(policy), action)] = (policy, tuple(found))
    return tuple(found)


def unreadable_policies(inventory: Inventory) -> list[str]:
    """IAM policy resources that could not be read: they may attach to any role of the template."""
    return [r.id for r in inventory.broken if r.type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")]


@dataclass(frozen=True)
class Candidate:
    """A principal outside the trusted accounts that a resource policy's Allow names, as a probe."""

    named: Any  # sagefence.policy.NamedPrincipal
    principal: str
    account: str | None  # None: the account is not known before deployment
    opaque: bool


_ACCOUNT_KEYS = ("aws:PrincipalAccount", "kms:CallerAccount", "aws:SourceAccount")
_SPECIFIC = (":role/", ":user/", ":assumed-role/", ":federated-user/")


def foreign_candidates(policy: Policy, trusted: set[str]) -> list[Candidate]:
    """Every principal of another account an Allow names: "*" is probed from an unrelated account
    and from every untrusted account its conditions name; an ARN whose account is known but whose
    other parts are parameters is probed as that account's principal."""
    from sagefence.policy import named_principals

    out: list[Candidate] = []
    for named in named_principals(policy):
        if named.kind not in ("*", "AWS"):
            continue
        if named.kind == "*" or named.value == "*":
            accounts = [OUTSIDE_ACCOUNT] + [v for key in _ACCOUNT_KEYS for v in condition_values(policy, key)
                                            if re.fullmatch(r"\d{12}", v) and v not in trusted]
            out.extend(Candidate(named, probe_arn(a), a, False) for a in dict.fromkeys(accounts))
            for arn in condition_values(policy, "aws:PrincipalArn"):
                concrete = re.sub(r"^(arn:aws[a-z-]*:(?:iam|sts)::)[*?]+:", rf"\g<1>{OUTSIDE_ACCOUNT}:", arn)
                account = principal_account(concrete)
                if account is not None and account not in trusted:
                    out.append(Candidate(named, _instance(concrete), account, False))
            continue
        account = principal_account(named.value)
        if account is None:
            if named.opaque:
                out.append(Candidate(named, named.value, None, True))
            continue
        if account in trusted:
            continue
        specific = any(part in named.value for part in _SPECIFIC)
        out.append(Candidate(named, named.value if specific else probe_arn(account), account, False))
    return out


def restricting(statement: Any, keys: frozenset[str]) -> bool:
    """Whether the statement has a condition that narrows who may use it: a positive operator on one of
    ``keys`` whose values are not all bare wildcards, and for aws:PrincipalArn only ARNs whose account
    is written out (arn:aws:iam::*:role/x lets every account in)."""
    for condition in statement.conditions:
        if condition.key not in keys or condition.negated:
            continue
        values = [v for v in condition.values if v.strip("*?") != ""]
        if not values:
            continue
        if condition.key == "aws:principalarn" and any(principal_account(v) is None for v in values):
            continue
        return True
    return False


def statement_grants(statement: Any, action: str) -> bool:
    """Whether the statement's Action / NotAction covers the action (one compiled regex per list)."""
    from sagefence.policy.patterns import any_action_matches

    if statement.actions is not None:
        return any_action_matches(statement.actions, action)
    return not any_action_matches(statement.not_actions or (), action)
