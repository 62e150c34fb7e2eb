"""The IAM policy evaluation engine.

Checks ask it questions ("is this request denied?") instead of reading statement text.
Nothing here imports policyuniverse, boto3 or moto at import time; `actions.expand_action`
loads policyuniverse's action list on first use.
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
