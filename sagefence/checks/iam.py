"""Simulated IAM rules: open trust (IAM-001), PassRole on everything (IAM-002),
broken assume chains (IAM-003) and broken PassRole relationships (IAM-004)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.probes import (
    INTERNET,
    OUTSIDE_ACCOUNT,
    base_context,
    foreign_candidates,
    probe,
    probe_arn,
    restricting,
    role_evaluation,
    statement_grants,
)
from sagefence.checks.trust import admits, may_admit, trust_policy
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Located, ManagedPolicy, PolicyDoc, Role
from sagefence.policy import Policy, Request, action_matches, condition_values, evaluate, named_principals

RESTRICTING_KEYS = frozenset({"sts:externalid", "aws:principalorgid", "aws:principalarn", "aws:sourceaccount",
                              "aws:sourcearn", "aws:principalaccount", "aws:principalorgpaths"})
UNRELATED_ROLE = "sagefence-probe-unrelated"


def _restricted(statement: Any) -> bool:
    return restricting(statement, RESTRICTING_KEYS)


def open_trust(role: Role, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    policy = trust_policy(role, inventory)
    own = role.account or "123456789012"
    trusted = {own, *inventory.config.trusted_accounts}
    region = role.raw.region or inventory.config.region
    opened: list[str] = []
    maybe: list[str] = []
    for candidate in foreign_candidates(policy, trusted):
        account = candidate.account or OUTSIDE_ACCOUNT
        statement = candidate.named.statement
        if not any(action_matches(a, "sts:AssumeRole") for a in (statement.actions or ("*",))):
            continue
        results = [evaluate(Request(candidate.principal, "sts:AssumeRole", role.arn,
                                    {**base_context(candidate.principal, account), **context,
                                     "aws:RequestedRegion": region}), resource=policy)
                   for context in ({}, INTERNET)]
        if any(r.explicitly_denied for r in results):
            continue
        if not any(r.allowed for r in results) and _restricted(statement):
            continue
        grant = f"{candidate.principal} may assume the role ({statement.ref.label})"
        (maybe if candidate.opaque else opened).append(grant)
    evidence = {"policy": policy.source, "trusted_accounts": sorted(trusted)}
    if opened:
        yield failed("; ".join(dict.fromkeys(opened)) + " with no condition on sts:ExternalId, aws:PrincipalOrgID, "
                     "aws:PrincipalArn, aws:SourceAccount or aws:SourceArn", grants=opened, **evidence)
    elif maybe:
        yield unknown("; ".join(dict.fromkeys(maybe)) + ": the account is not known before deployment and may be "
                      "any account", grants=maybe, **evidence)
    else:
        yield passed("only the role's own account, trusted accounts, services or restricted principals may assume it",
                     **evidence)


def _passrole_docs(resource: Located) -> list[PolicyDoc]:
    """The identity policies whose statements sit on this resource for IAM-002."""
    if isinstance(resource, Role):
        return [d for d in resource.policies if d.holder is not None and d.holder.raw is resource.raw
                or d.holder is None and d.arn and d.arn.startswith("arn:aws:iam::aws:policy/")
                or isinstance(d.holder, ManagedPolicy) and d.holder.aws_managed]
    if isinstance(resource, ManagedPolicy) and not resource.aws_managed:
        what = "managed policy" if resource.raw.type == "AWS::IAM::ManagedPolicy" else "policy"
        return [PolicyDoc(resource.document, f"{what} {resource.arn if resource.live else resource.id}",
                          resource, "identity", resource.arn)]
    return []


def _grants(policy: Policy, action: str) -> bool:
    return any(s.is_allow and statement_grants(s, action) for s in policy.statements)


def _may_grant(role: Role, inventory: Inventory, action: str) -> bool:
    """Cheap pre-filter: may any identity policy of the role allow this action at all?"""
    return any(doc.document is None or _grants(inventory.policy(doc), action) for doc in role.policies)


UNRELATED_SERVICE = "sagefence-probe.amazonaws.com"


def _unscoped_statements(policy: Policy, request: Request) -> list[str]:
    """Allow statements that grant the request once their conditions are set aside and that have no
    iam:PassedToService condition: a guard on another key (aws:SourceIp, aws:RequestedRegion) does not
    scope PassRole to a service."""
    out = []
    for statement in policy.statements:
        if not statement.is_allow or not statement_grants(statement, request.action) or any(
                c.key == "iam:passedtoservice" for c in statement.conditions):
            continue
        denies = tuple(s for s in policy.statements if s.is_deny)
        bare = Policy(policy.source, policy.kind, (replace(statement, conditions=()), *denies), policy.version)
        if evaluate(request, identity=[bare]).allowed:
            out.append(statement.ref.label)
    return out


_passrole_cache: dict[tuple[int, str], tuple[Policy, list[str]]] = {}


def _passrole_open(policy: Policy, account: str) -> list[str]:
    """The statements that let the policy pass an unrelated role to an unrelated service; an AWS managed
    policy attached to many roles is evaluated once per account."""
    cached = _passrole_cache.get((id(policy), account))
    if cached is not None and cached[0] is policy:
        return cached[1]
    request = probe("iam:PassRole", probe_arn(account, UNRELATED_ROLE), account,
                    {"iam:PassedToService": UNRELATED_SERVICE})
    result = evaluate(request, identity=[policy])
    labels = [r.label for r in result.deciding] if result.allowed else _unscoped_statements(policy, request)
    if len(_passrole_cache) > 8192:
        _passrole_cache.clear()
    _passrole_cache[(id(policy), account)] = (policy, labels)
    return labels


def passrole_everything(resource: Located, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    account = resource.raw.account or "123456789012"
    holders: list[str] = []
    opened: list[str] = []
    for doc in _passrole_docs(resource):
        if doc.document is None:
            continue
        policy = inventory.policy(doc)
        if not _grants(policy, "iam:PassRole"):
            continue
        holders.append(policy.source)
        labels = _passrole_open(policy, account)
        if labels:
            opened.append(f"{policy.source} allows iam:PassRole on every role without an iam:PassedToService "
                          f"condition ({', '.join(labels)})")
    if not holders:
        return
    if opened:
        yield failed("; ".join(opened), policies=holders)
    else:
        yield passed("iam:PassRole grants are scoped to specific roles or by iam:PassedToService", policies=holders)


def _assume_allowed(inventory: Inventory, source: Role, target_arn: str) -> bool:
    account = source.account or "123456789012"
    return role_evaluation(inventory, source, probe("sts:AssumeRole", target_arn, account, principal=source.arn)).allowed


def _scan_roles(inventory: Inventory) -> list[Role]:
    roles = {r.arn: r for r in inventory.of_type("AWS::IAM::Role") if isinstance(r, Role)}
    for arn, role in inventory.extra_roles().items():
        roles.setdefault(arn, role)
    return list(roles.values())


def assume_chain(role: Role, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    account = role.account or "123456789012"
    broken: list[str] = []
    maybe: list[str] = []
    checked: list[str] = []
    if not _may_grant(role, inventory, "sts:AssumeRole"):
        others: list[Role] = []
    elif _assume_allowed(inventory, role, probe_arn(account, UNRELATED_ROLE)):
        others = []  # a wildcard grant names no role in particular: not a chain
    else:
        others = [r for r in _scan_roles(inventory) if r.arn != role.arn]
    for target in others:
        if not _assume_allowed(inventory, role, target.arn):
            continue
        checked.append(target.arn)
        if admits(target, inventory, role.arn, account):
            continue
        gap = (f"{role.id} is allowed sts:AssumeRole on {target.arn}, but {target.id}'s trust policy admits neither "
               f"{role.arn} nor arn:aws:iam::{account}:root")
        if may_admit(target, inventory, role.arn, account):
            maybe.append(f"{gap} by a known value; a principal it names is not known before deployment")
        else:
            broken.append(gap)
    for named in _cross_account_trusts(role, inventory):
        checked.append(named.arn)
        if not _assume_allowed(inventory, named, role.arn):
            broken.append(f"{role.id} trusts {named.arn} (another account), but {named.id} is not allowed "
                          f"sts:AssumeRole on {role.arn}")
    if broken:
        yield failed("; ".join(broken), roles=checked)
    elif maybe:
        yield unknown("; ".join(maybe), roles=checked)
    elif checked:
        yield passed(f"assume relationships line up with {', '.join(checked)}", roles=checked)


def _cross_account_trusts(role: Role, inventory: Inventory) -> list[Role]:
    if role.trust_policy is None:
        return []
    out = []
    for named in named_principals(trust_policy(role, inventory)):
        if named.kind != "AWS" or ":role/" not in named.value or named.account in (None, role.account):
            continue
        source = inventory.role_by_arn(named.value)
        if source is not None:
            out.append(source)
    return out


def passrole_relationships(role: Role, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    account = role.account or "123456789012"
    problems: list[str] = []
    checked: list[str] = []
    for expectation in inventory.config.expectations.passrole:
        if expectation.deployer not in (role.arn, role.id):
            continue
        target = inventory.role_by_arn(expectation.role) or inventory.lookup(expectation.role, "AWS::IAM::Role")
        target_arn = target.arn if isinstance(target, Role) else expectation.role
        checked.append(f"expectation: pass {target_arn} to {expectation.service}")
        request = probe("iam:PassRole", target_arn, account, {"iam:PassedToService": expectation.service},
                        principal=role.arn)
        if not role_evaluation(inventory, role, request).allowed:
            problems.append(f"{role.id} is not allowed iam:PassRole on {target_arn} with iam:PassedToService="
                            f"{expectation.service} (config expectations.passrole)")
    problems.extend(_stack_service_role(role, inventory, account, checked))
    problems.extend(_scoped_grants(role, inventory, account, checked))
    if problems:
        yield failed("; ".join(problems), checked=checked)
    elif checked:
        yield passed("PassRole grants and expectations line up: " + "; ".join(checked), checked=checked)


ROLE_PROPERTIES = ("RoleArn", "ExecutionRoleArn")


def _stack_service_role(role: Role, inventory: Inventory, account: str, checked: list[str]) -> list[str]:
    """(a), live: a stack's service role must be able to pass the roles its SageMaker resources are given."""
    problems = []
    for stack in inventory.of_type("AWS::CloudFormation::Stack"):
        if stack.props.get("RoleARN") != role.arn:
            continue
        for member in stack.raw.extra.get("resources", ()):
            if not str(member.get("type", "")).startswith("AWS::SageMaker::"):
                continue
            target = inventory.lookup(member.get("physical_id"))
            passed_role = next((target.props.get(p) for p in ROLE_PROPERTIES if target is not None
                                and isinstance(target.props.get(p), str)), None)
            if passed_role is None:
                continue
            checked.append(f"stack {stack.props.get('StackName')}: pass {passed_role} to sagemaker.amazonaws.com")
            request = probe("iam:PassRole", passed_role, account, {"iam:PassedToService": "sagemaker.amazonaws.com"},
                            principal=role.arn)
            if not role_evaluation(inventory, role, request).allowed:
                problems.append(f"{role.id} is the service role of stack {stack.props.get('StackName')} but is not "
                                f"allowed iam:PassRole on {passed_role} (given to {member.get('physical_id')})")
    return problems


def _scoped_grants(role: Role, inventory: Inventory, account: str, checked: list[str]) -> list[str]:
    """(b): a grant scoped by iam:PassedToService to a service the target role's trust does not admit."""
    if not _may_grant(role, inventory, "iam:PassRole"):
        return []
    services: list[str] = []
    for doc in role.policies:
        if doc.document is not None:
            services.extend(condition_values(inventory.policy(doc), "iam:PassedToService"))
    if not services:
        return []
    unrelated = probe("iam:PassRole", probe_arn(account, UNRELATED_ROLE), account,
                      {"iam:PassedToService": services[0]}, principal=role.arn)
    if role_evaluation(inventory, role, unrelated).allowed:
        return []  # wildcard grants are IAM-002's concern
    problems = []
    for target in _scan_roles(inventory):
        for service in dict.fromkeys(services):
            if "*" in service:
                continue
            request = probe("iam:PassRole", target.arn, account, {"iam:PassedToService": service}, principal=role.arn)
            if not role_evaluation(inventory, role, request).allowed:
                continue
            checked.append(f"grant: pass {target.arn} to {service}")
            if target.trust_policy is not None and not admits(target, inventory, service):
                problems.append(f"{role.id} may pass {target.arn} to {service}, but {target.id}'s trust policy "
                                f"does not admit {service}")
    return problems
