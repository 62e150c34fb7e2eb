"""The parsed policy model: immutable statements, conditions and principals.

Only `parse.py` builds these from raw JSON; everything else reads them. Values keep their
original objects, so an `Opaque` template token stays an `Opaque` all the way through.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

KINDS = frozenset({"identity", "resource", "trust", "key", "boundary", "scp", "endpoint"})
# Policy kinds whose statements name a principal (everything else applies to its holder).
PRINCIPAL_KINDS = frozenset({"resource", "trust", "key", "endpoint"})
# Resource policies that must allow the caller even within one account (a role's trust policy,
# a KMS key policy): an identity-policy allow alone is not enough.
AUTHORITATIVE_KINDS = frozenset({"trust", "key"})
PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")


class PolicyError(ValueError):
    """A policy document IAM would reject; the message names the statement."""


class Decision(str, Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"


@dataclass(frozen=True)
class StatementRef:
    """Where a statement sits, for evidence. `index` counts from 0; `label` counts from 1."""

    source: str
    sid: str | None
    index: int

    @property
    def label(self) -> str:
        where = f"statement {self.index + 1}"
        if self.sid:
            return f'Sid "{self.sid}" ({where}) of {self.source}'
        return f"{where.capitalize()} of {self.source}"

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class PrincipalSpec:
    """A Principal or NotPrincipal element. `everyone` is the bare string ``"*"``.

    `entries` holds (key, value) pairs, key one of AWS/Service/Federated/CanonicalUser,
    in order of appearance.
    """

    everyone: bool = False
    entries: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Condition:
    """One key under one operator of a Condition block.

    `base` is the positive operator family member (``StringEquals`` for
    ``ForAnyValue:StringNotEqualsIfExists``), `negated` says whether the operator is its
    negation, `qualifier` is None, ``"ForAnyValue"`` or ``"ForAllValues"``.
    """

    operator: str
    base: str
    negated: bool
    if_exists: bool
    qualifier: str | None
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    source: str
    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principal: PrincipalSpec | None
    not_principal: PrincipalSpec | None
    conditions: tuple[Condition, ...]
    # Policy variables are only recognised in policies of Version 2012-10-17.
    variables: bool = True

    @property
    def ref(self) -> StatementRef:
        return StatementRef(self.source, self.sid, self.index)

    @property
    def is_allow(self) -> bool:
        return self.effect == "Allow"

    @property
    def is_deny(self) -> bool:
        return self.effect == "Deny"


@dataclass(frozen=True)
class Policy:
    """A parsed policy. `unknown` marks content we do not have (an AWS managed policy we do
    not ship): it may allow anything and never denies. `statements` may still hold the part
    that is known (the readable SCPs of a level that also has an unreadable one).
    `may_deny`, with `unknown`, says the unknown part may also deny (an SCP nobody could
    read), so an allow that depends on it is uncertain too."""

    source: str
    kind: str
    statements: tuple[Statement, ...] = ()
    version: str | None = None
    unknown: bool = False
    may_deny: bool = False


@dataclass(frozen=True)
class NamedPrincipal:
    """A principal named by an Allow statement (see `named_principals`).

    `kind` is ``"*"`` for the bare ``"Principal": "*"``, else the Principal key. `account`
    is the account id an AWS principal belongs to (None for ``*``, services, and opaque
    values); `opaque` is True when the value holds an unresolved template token, i.e. it
    may be any account or principal.
    """

    kind: str
    value: str
    statement: Statement
    conditional: bool
    account: str | None = None
    opaque: bool = False


@dataclass(frozen=True)
class Evaluation:
    """The answer to one request.

    `deciding` lists the Deny statements that denied, or the Allow statements of the
    identity and resource policies that allowed; it is empty for an implicit deny.
    `uncertain` is True when a policy we do not know (`unknown_policy`) could change the
    decision.
    """

    decision: Decision
    deciding: tuple[StatementRef, ...] = ()
    uncertain: bool = False

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW

    @property
    def explicitly_denied(self) -> bool:
        return self.decision is Decision.EXPLICIT_DENY

    @property
    def denied(self) -> bool:
        return self.decision is not Decision.ALLOW

    def describe(self) -> str:
        """One line for a finding's message."""
        what = {
            Decision.ALLOW: "allowed",
            Decision.EXPLICIT_DENY: "explicitly denied",
            Decision.IMPLICIT_DENY: "not allowed (implicit deny)",
        }[self.decision]
        if self.deciding:
            what += " by " + "; ".join(ref.label for ref in self.deciding)
        if self.uncertain:
            what += " (a policy whose content is unknown could change this)"
        return what
