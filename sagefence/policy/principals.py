"""Principal and NotPrincipal matching.

How a principal entry matches decides what IAM does with a resource-policy grant, so the
match returns its kind:

- ``WILDCARD``: ``"*"`` or ``{"AWS": "*"}``, which the IAM User Guide documents as the same
  "all principals" (anonymous and service principals included; a few services read
  ``{"AWS": "*"}`` more narrowly, which we do not model);
- ``ACCOUNT``: an account id or ``arn:aws:iam::<id>:root`` naming the requester's account.
  In a resource policy this delegates to the account: its principals still need an
  identity-policy allow (unless the requester is the root itself);
- ``ROLE``: a role ARN matching the role or one of its assumed-role sessions;
- ``EXACT``: the requester's own ARN (user, session, root, service, federated, canonical id).
"""

from __future__ import annotations

import re

from sagefence.values import is_opaque

from .model import NamedPrincipal, Policy, PrincipalSpec, Statement
from .request import Request, account_of

WILDCARD, ACCOUNT, ROLE, EXACT = "wildcard", "account", "role", "exact"
# A grant to everyone is a direct grant; one to the account only delegates to it.
_STRENGTH = {ACCOUNT: 0, WILDCARD: 1, ROLE: 2, EXACT: 2}

_ROOT = re.compile(r"^arn:[^:]+:iam::(\d{12}):root$")
_ROLE = re.compile(r"^arn:([^:]+):iam::(\d{12}):role/(?:.*/)?([^/]+)$")
_SESSION = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/[^/]+$")


def _account_entry(value: str) -> str | None:
    if len(value) == 12 and value.isdigit():
        return value
    match = _ROOT.match(value)
    return match.group(1) if match else None


def _aws_entry(value: str, request: Request, sessions: bool) -> str | None:
    principal = request.principal_arn
    if value == "*":
        return WILDCARD
    if request.principal_type != "AWS":
        return None
    account = _account_entry(value)
    if account is not None:
        if account != request.principal_account:
            return None
        return EXACT if _account_entry(principal) == account else ACCOUNT
    if value == principal:
        return ROLE if _ROLE.match(value) else EXACT
    role = _ROLE.match(value)
    session = _SESSION.match(principal)
    if sessions and role and session and role.group(1, 2, 3) == session.group(1, 2, 3):
        return ROLE
    return None


def entry_match(key: str, value: str, request: Request, sessions: bool = True) -> str | None:
    """How one Principal entry matches the requester, or None.

    An opaque value (an unresolved template token) matches exactly the same token, under
    any key, whatever type was guessed for the requester.
    """
    if is_opaque(value):
        return EXACT if value == request.principal_arn else None
    if key == "AWS":
        return _aws_entry(value, request, sessions)
    if request.principal_type != key:
        return None
    if key == "Service":
        return EXACT if value.lower() == request.principal_arn.lower() else None
    return EXACT if value == request.principal_arn else None


def spec_match(spec: PrincipalSpec, request: Request) -> str | None:
    """The strongest way a Principal element matches the requester, or None."""
    if spec.everyone:
        return WILDCARD
    best = None
    for key, value in spec.entries:
        kind = entry_match(key, value, request)
        if kind in (EXACT, ROLE):
            return kind
        if kind is not None and (best is None or _STRENGTH[kind] > _STRENGTH[best]):
            best = kind
    return best


def _exempt(spec: PrincipalSpec, request: Request) -> bool:
    """Whether a NotPrincipal element exempts the requester.

    IAM checks every identity of the requester against NotPrincipal: a role ARN does not
    exempt its sessions, and an IAM principal is exempt only when its account is listed too.
    """
    if spec.everyone:
        return True
    own = account = False
    for key, value in spec.entries:
        kind = entry_match(key, value, request, sessions=False)
        if kind == WILDCARD:
            return True
        own = own or kind in (EXACT, ROLE)
        account = account or kind == ACCOUNT
    if request.principal_type != "AWS" or _account_entry(request.principal_arn) is not None:
        return own
    return own and account


def statement_principal_match(statement: Statement, request: Request, bounded: bool = False) -> str | None:
    """How the statement's Principal/NotPrincipal admits the requester, or None if it does not.

    Statements without either element (identity, boundary and SCP policies) apply to
    whoever holds them: EXACT. `bounded` says the requester has a permissions boundary:
    IAM then applies a NotPrincipal Deny to it whatever NotPrincipal lists.
    """
    if statement.principal is not None:
        return spec_match(statement.principal, request)
    if statement.not_principal is not None:
        if bounded and request.principal_type == "AWS":
            return WILDCARD
        return None if _exempt(statement.not_principal, request) else WILDCARD
    return EXACT


def principal_matches(statement: Statement, principal: str | Request) -> bool:
    """Whether the statement applies to this principal (an ARN, account id or service name)."""
    request = principal if isinstance(principal, Request) else Request(principal, "", "")
    return statement_principal_match(statement, request) is not None


def named_principals(policy: Policy) -> list[NamedPrincipal]:
    """Each principal named by an Allow statement, in order of appearance.

    Every entry is returned with its statement and whether that statement has a
    Condition, so rules can tell an unconditional grant from a scoped one.
    """
    named: list[NamedPrincipal] = []
    for statement in policy.statements:
        if not statement.is_allow or statement.principal is None:
            continue
        conditional = bool(statement.conditions)
        if statement.principal.everyone:
            named.append(NamedPrincipal("*", "*", statement, conditional))
        for key, value in statement.principal.entries:
            opaque = is_opaque(value)
            account = account_of(value) if key == "AWS" and not opaque else None
            named.append(NamedPrincipal(key, value, statement, conditional, account, opaque))
    return named
