"""The IAM policy evaluation engine.

Checks ask it questions ("is this request denied?") instead of reading statement text:
``parse_policy`` once per document, then ``evaluate(Request(...), identity=..., resource=...)``.
Nothing here imports policyuniverse, boto3 or moto at import time; ``expand_action`` loads
policyuniverse's action list on first use.

Decisions where AWS's documentation leaves room (each covered by tests/policy/table.yaml):

- ``evaluate`` with a resource policy and no identity policies answers what that policy
  says; a grant to the requester's account root then counts as an allow. With identity
  policies, such a grant only delegates to the account (an identity allow is needed).
- A trust policy (kind ``trust``) and a key policy (kind ``key``) are authoritative, also
  within one account: without an allow in them the request is denied whatever the
  identity policies say; a grant to the account root there delegates to the identity
  policies (which must then allow), a grant naming the caller allows on its own.
  ``evaluate(resource_required=...)`` overrides the default taken from the kind.
- ``scps`` is the chain of levels (root, OUs, account): each must allow. Merge the SCPs
  attached at one level into one policy.
- ``resource_account`` different from the principal's account makes the request
  cross-account: identity and resource policy must both allow.
- ``"*"`` and ``{"AWS": "*"}`` both match every principal, service principals included.
- NotPrincipal exempts a principal only when its own ARN (a role ARN does not cover its
  sessions) and its account are listed; it never exempts a principal with a boundary.
- A key without a set qualifier that carries several values matches when any value does
  (negated operators: when none does).
- Policy variables are recognised only in ``Version: 2012-10-17`` policies.
- ``ForAllValues:Null`` / ``ForAnyValue:Null`` (AWS accepts both) follow the documented
  empty-set rules: with the key absent or empty, ``ForAllValues`` is true and
  ``ForAnyValue`` false whatever the value; with the key present both answer as ``Null``.
- A document AWS would reject is a ``PolicyError`` (see ``validate``), never evaluated:
  condition values the operator cannot read (CIDR, date, number, boolean, base64, ARN),
  empty Action/Resource lists, actions without a service prefix, resources that are not
  ``*`` or an ARN, a Version other than 2012-10-17/2008-10-17, AWS principals other than
  ``*``, an account id or an IAM user/role/root or STS session ARN (no wildcards), Service
  principals that are not service names, and in identity and boundary policies Sids other
  than ASCII letters and digits or used twice (resource, trust, SCP and endpoint policies
  are not held to IAM's Sid rule). Opaque tokens and ``${...}`` variables are never
  malformed. An empty Statement list is accepted (it allows and denies nothing): a
  template's ``Fn::If`` may leave no statement, and AWS's answer to that is not documented.
- ``unknown_policy`` never denies and is taken to allow nothing; ``Evaluation.uncertain``
  says when allowing everything instead would change the decision. With ``may_deny`` (an
  SCP that could not be read) an allow is uncertain as well, since the unknown content
  may deny it; the known statements given with ``known`` still allow and deny. An SCP
  whose targets could not be read is such an unknown policy at every level.
"""

from __future__ import annotations

from .actions import expand_action, is_known_action
from .evaluate import condition_values, evaluate
from .model import (
    Condition,
    Decision,
    Evaluation,
    NamedPrincipal,
    Policy,
    PolicyError,
    PrincipalSpec,
    Statement,
    StatementRef,
)
from .parse import parse_policy, unknown_policy
from .patterns import action_matches
from .principals import named_principals, principal_matches
from .request import Request

__all__ = [
    "Condition",
    "Decision",
    "Evaluation",
    "NamedPrincipal",
    "Policy",
    "PolicyError",
    "PrincipalSpec",
    "Request",
    "Statement",
    "StatementRef",
    "action_matches",
    "condition_values",
    "evaluate",
    "expand_action",
    "is_known_action",
    "named_principals",
    "parse_policy",
    "principal_matches",
    "unknown_policy",
]
