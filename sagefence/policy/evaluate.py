"""IAM's policy evaluation logic over parsed policies.

The order follows AWS's documented flow: an explicit deny in any policy wins; every SCP
and the permissions boundary, when present, must allow (they only restrict); then, in one
account, an allow in the identity policies or in the resource policy is enough, while a
cross-account request needs both. A role's trust policy and a KMS key policy are
authoritative: they must allow the caller within one account too.

Resource-policy grants depend on how the principal was named (see `principals`): a grant
to the requester's account only delegates to the account, so within the account it needs
an identity-policy allow too; a same-account grant naming the requester's own user or
session ARN is not limited by its permissions boundary (a grant to the role ARN is).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from .conditions import conditions_hold
from .model import AUTHORITATIVE_KINDS, Decision, Evaluation, Policy, Statement, StatementRef
from .patterns import Context, any_action_matches, any_arn_matches
from .principals import ACCOUNT, EXACT, statement_principal_match
from .request import Request


def _action_applies(statement: Statement, action: str) -> bool:
    if statement.actions is not None:
        return any_action_matches(statement.actions, action)
    return not any_action_matches(statement.not_actions or (), action)


def _resource_applies(statement: Statement, request: Request) -> bool:
    context: Context = request.context  # type: ignore[assignment]
    if statement.resources is not None:
        return any_arn_matches(statement.resources, request.resource, context, statement.variables)
    if statement.not_resources is not None:
        return not any_arn_matches(statement.not_resources, request.resource, context, statement.variables)
    return True  # trust policies name no resource: the role itself


def _match_after_action(statement: Statement, request: Request, bounded: bool) -> str | None:
    """How a statement whose actions cover the request applies: None, or the principal match kind
    (`principals.EXACT` for statements that name no principal). `bounded`: the requester has a
    permissions boundary."""
    principal = statement_principal_match(statement, request, bounded)
    if principal is None or not _resource_applies(statement, request):
        return None
    if not conditions_hold(statement.conditions, request.context, statement.variables):  # type: ignore[arg-type]
        return None
    return principal


_ACTION_CACHE_SIZE = 4096
# id(policy) -> (policy, {action: statements whose Action/NotAction covers it}); the policy is held so
# that its id cannot be reused while the entry lives.
_by_action: OrderedDict[int, tuple[Policy, dict[str, tuple[Statement, ...]]]] = OrderedDict()


def _statements_for(policy: Policy, action: str) -> tuple[Statement, ...]:
    """The statements whose actions cover `action`: checks ask the same policy many questions."""
    entry = _by_action.get(id(policy))
    if entry is None or entry[0] is not policy:
        entry = (policy, {})
        _by_action[id(policy)] = entry
        if len(_by_action) > _ACTION_CACHE_SIZE:
            _by_action.popitem(last=False)
    found = entry[1].get(action)
    if found is None:
        found = tuple(s for s in policy.statements if _action_applies(s, action))
        entry[1][action] = found
    return found


def _applicable(
    policy: Policy, request: Request, bounded: bool = False
) -> tuple[list[tuple[Statement, str]], list[tuple[Statement, str]]]:
    """(Deny, Allow) statements of the policy that apply to the request, in one pass."""
    denies: list[tuple[Statement, str]] = []
    allows: list[tuple[Statement, str]] = []
    for statement in _statements_for(policy, request.action):
        kind = _match_after_action(statement, request, bounded)
        if kind is not None:
            (allows if statement.is_allow else denies).append((statement, kind))
    return denies, allows


def _bypasses_boundary(request: Request, kind: str) -> bool:
    """A same-account resource grant to the user ARN or the session ARN itself."""
    if kind != EXACT:
        return False
    resource = request.principal_arn.split(":", 5)[-1]
    return resource.startswith(("user/", "assumed-role/"))


def evaluate(
    request: Request,
    *,
    identity: Sequence[Policy] = (),
    resource: Policy | None = None,
    boundary: Policy | None = None,
    scps: Sequence[Policy] = (),
    resource_account: str | None = None,
    resource_required: bool | None = None,
) -> Evaluation:
    """Decide a request as IAM would.

    With no identity policies and a resource policy, only that policy (and any boundary
    and SCPs given) is evaluated, and a grant to the requester's account counts as an
    allow: the question is what that policy says. A cross-account request (the
    principal's account differs from `resource_account`) needs an allow in the resource
    policy as well as in the identity policies; without a resource policy it is denied.
    `resource_required` says the resource policy must allow the caller even within one
    account (sts:AssumeRole on a role, KMS operations on a key); by default it is true for
    policies of kind ``trust`` and ``key``. There, a grant to the account root delegates to
    the identity policies, which then must allow too; a grant naming the caller allows on
    its own. SCPs given are all required to allow (pass one merged policy per level of the
    organization). Policies from `unknown_policy` never deny and are taken to allow
    nothing (beyond their known statements); `uncertain` reports when allowing everything
    instead would change the decision, or, for one that `may_deny`, when an allow could be
    taken away by it.
    """
    everything = [*identity, *([resource] if resource is not None else []), *scps]
    everything += [boundary] if boundary is not None else []
    bounded = boundary is not None
    if resource_required is None:
        resource_required = resource is not None and resource.kind in AUTHORITATIVE_KINDS
    matched = {id(policy): _applicable(policy, request, bounded) for policy in everything}
    denies = [s.ref for policy in everything for s, _ in matched[id(policy)][0]]
    if denies:
        return Evaluation(Decision.EXPLICIT_DENY, tuple(dict.fromkeys(denies)))
    identity_allows = [pair for policy in identity for pair in matched[id(policy)][1]]
    resource_allows = matched[id(resource)][1] if resource is not None else []
    cross = (
        resource_account is not None
        and request.principal_account is not None
        and resource_account != request.principal_account
    )

    def gate(policy: Policy | None, optimistic: bool) -> bool:
        if policy is None:
            return True
        return bool(matched[id(policy)][1]) or (optimistic and policy.unknown)

    def allowed(optimistic: bool) -> bool:
        if not all(gate(policy, optimistic) for policy in scps):
            return False
        boundary_ok = gate(boundary, optimistic)
        resource_unknown = optimistic and resource is not None and resource.unknown
        resource_any = bool(resource_allows) or resource_unknown
        if not identity:
            bypass = any(_bypasses_boundary(request, kind) for _, kind in resource_allows)
            return resource_any and (boundary_ok or bypass)
        identity_ok = bool(identity_allows) or (optimistic and any(p.unknown for p in identity))
        if cross:
            return identity_ok and resource_any and boundary_ok
        direct = [kind for _, kind in resource_allows if kind != ACCOUNT]
        bypass = any(_bypasses_boundary(request, kind) for kind in direct)
        if (direct or resource_unknown) and (boundary_ok or bypass):
            return True
        if resource_required and not resource_allows:
            return False
        return identity_ok and boundary_ok

    certain = allowed(optimistic=False)
    hidden_deny = certain and any(policy.unknown and policy.may_deny for policy in everything)
    uncertain = hidden_deny or certain != allowed(optimistic=True)
    if not certain:
        return Evaluation(Decision.IMPLICIT_DENY, (), uncertain)
    refs: list[StatementRef] = [s.ref for s, _ in identity_allows] + [s.ref for s, _ in resource_allows]
    return Evaluation(Decision.ALLOW, tuple(dict.fromkeys(refs)), uncertain)


def condition_values(policy: Policy, key: str) -> list[str]:
    """Every value any statement's condition names for `key` (case-insensitive), in order of
    appearance, each once. Opaque values are returned as they are."""
    wanted = key.lower()
    seen: list[str] = []
    for statement in policy.statements:
        for condition in statement.conditions:
            if condition.key != wanted:
                continue
            for value in condition.values:
                if value not in seen:
                    seen.append(value)
    return seen
