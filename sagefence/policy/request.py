"""The request being evaluated: principal, action, resource and its condition context."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from sagefence.values import is_opaque

_ACCOUNT = re.compile(r"^\d{12}$")
_CANONICAL = re.compile(r"^[0-9a-f]{64}$")
# Identity providers that appear as Federated principals although they look like hosts.
_WEB_IDPS = frozenset(
    {"cognito-identity.amazonaws.com", "accounts.google.com", "graph.facebook.com", "www.amazon.com"}
)

ContextValue = str | Sequence[str]


def _context_value(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, int | float):
        return (str(value),)
    if isinstance(value, Sequence):
        return tuple(text for item in value for text in _context_value(item))
    raise TypeError(f"context value must be a string or a sequence of strings, not {type(value).__name__}")


_NORMALISED: dict[tuple[tuple[str, object], ...], Mapping[str, tuple[str, ...]]] = {}


def _normalised(context: Mapping[str, ContextValue]) -> Mapping[str, tuple[str, ...]]:
    """Lower-case keys, values as tuples of strings, absent values dropped; read-only.

    Checks probe with a few dozen distinct contexts thousands of times: a context of plain
    string values is normalised once (the result is immutable, so it can be shared)."""
    items = tuple(context.items())
    key = items if all(type(v) is str for _, v in items) else None  # noqa: E721 - not a str subclass
    if key is not None:
        cached = _NORMALISED.get(key)
        if cached is not None:
            return cached
    normalised = {}
    for name, value in context.items():
        values = _context_value(value)
        if values:
            normalised[name.lower()] = values
    frozen = MappingProxyType(normalised)
    if key is not None:
        if len(_NORMALISED) > 4096:
            _NORMALISED.clear()
        _NORMALISED[key] = frozen
    return frozen


def account_of(principal: str) -> str | None:
    """The account id of an IAM/STS principal ARN or a bare account id, else None."""
    if _ACCOUNT.match(principal):
        return principal
    parts = principal.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and _ACCOUNT.match(parts[4]):
        return parts[4]
    return None


def principal_type_of(principal: str) -> str:
    """The Principal key that names this kind of principal: AWS, Service, Federated or CanonicalUser.

    An opaque template token (an unresolved account id or ARN) counts as AWS.
    """
    if is_opaque(principal):
        return "AWS"
    if principal.lower() in _WEB_IDPS:
        return "Federated"
    if principal.startswith("arn:"):
        resource = principal.split(":", 5)[-1]
        if resource.startswith(("saml-provider/", "oidc-provider/")):
            return "Federated"
        return "AWS"
    if _ACCOUNT.match(principal) or principal == "*":
        return "AWS"
    if _CANONICAL.match(principal):
        return "CanonicalUser"
    if "." in principal:
        return "Service"
    return "AWS"


@dataclass(frozen=True)
class Request:
    """One request: who does what on which resource, and the request context.

    Context keys are case-insensitive; a value is a string or a sequence of strings
    (multi-valued keys). None or an empty sequence counts as an absent key. `principal_account`
    and `principal_type` are derived from `principal_arn` unless given; a service
    principal such as ``sagemaker.amazonaws.com`` has type ``Service`` and no account.
    """

    principal_arn: str
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict, hash=False)
    principal_account: str | None = None
    principal_type: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", _normalised(self.context))
        if self.principal_account is None:
            object.__setattr__(self, "principal_account", account_of(self.principal_arn))
        if self.principal_type is None:
            object.__setattr__(self, "principal_type", principal_type_of(self.principal_arn))

    def retarget(self, action: str, resource: str) -> Request:
        """The same principal and context asking for another action on another resource; the context is
        already normalised, so checks that probe many actions do not pay for it again."""
        twin = object.__new__(Request)
        for name in ("principal_arn", "context", "principal_account", "principal_type"):
            object.__setattr__(twin, name, getattr(self, name))
        object.__setattr__(twin, "action", action)
        object.__setattr__(twin, "resource", resource)
        return twin

    def values(self, key: str) -> tuple[str, ...]:
        """The values of a context key (case-insensitive); empty when absent."""
        return self.context.get(key.lower(), ())  # type: ignore[return-value]

    def with_context(self, changes: Mapping[str, ContextValue | None]) -> Request:
        """A copy with context keys set; a None value removes the key."""
        context: dict[str, ContextValue] = dict(self.context)
        for key, value in changes.items():
            if value is None:
                context.pop(key.lower(), None)
            else:
                context[key.lower()] = value
        return Request(
            self.principal_arn,
            self.action,
            self.resource,
            context,
            self.principal_account,
            self.principal_type,
        )
