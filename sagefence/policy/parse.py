"""The one place raw policy JSON becomes the policy model.

Scalars become tuples (IAM accepts a string wherever a list is allowed), condition keys are
lower-cased, operators are split into base, negation, IfExists and set qualifier, and YAML
booleans and numbers in condition values become the strings IAM sees. `Opaque` values are
kept as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from . import validate
from .model import (
    KINDS,
    PRINCIPAL_KEYS,
    PRINCIPAL_KINDS,
    Condition,
    Policy,
    PolicyError,
    PrincipalSpec,
    Statement,
)

# Positive base operator -> its negation (None when it has none). Keys are canonical names.
_FAMILIES: dict[str, str | None] = {
    "StringEquals": "StringNotEquals",
    "StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
    "StringLike": "StringNotLike",
    "NumericEquals": "NumericNotEquals",
    "NumericLessThan": None,
    "NumericLessThanEquals": None,
    "NumericGreaterThan": None,
    "NumericGreaterThanEquals": None,
    "DateEquals": "DateNotEquals",
    "DateLessThan": None,
    "DateLessThanEquals": None,
    "DateGreaterThan": None,
    "DateGreaterThanEquals": None,
    "Bool": None,
    "BinaryEquals": None,
    "IpAddress": "NotIpAddress",
    "ArnEquals": "ArnNotEquals",
    "ArnLike": "ArnNotLike",
    "Null": None,
}
# lower-case operator name -> (canonical base, negated)
OPERATORS: dict[str, tuple[str, bool]] = {}
for _base, _negation in _FAMILIES.items():
    OPERATORS[_base.lower()] = (_base, False)
    if _negation:
        OPERATORS[_negation.lower()] = (_base, True)

_QUALIFIERS = {"foranyvalue": "ForAnyValue", "forallvalues": "ForAllValues"}
_POLICY_VERSION_WITH_VARIABLES = "2012-10-17"


def split_operator(operator: str) -> tuple[str, bool, bool, str | None]:
    """``ForAnyValue:StringNotEqualsIfExists`` -> (``StringEquals``, negated, if_exists, qualifier).

    Operator names are matched case-insensitively. Raises KeyError for an unknown operator.
    """
    qualifier = None
    name = operator.strip()
    if ":" in name:
        prefix, name = name.split(":", 1)
        qualifier = _QUALIFIERS[prefix.lower()]
    lowered = name.lower()
    if_exists = lowered.endswith("ifexists") and lowered not in OPERATORS
    if if_exists:
        lowered = lowered[: -len("ifexists")]
    base, negated = OPERATORS[lowered]
    if if_exists and base == "Null":
        raise KeyError(operator)
    return base, negated, if_exists, qualifier


def parse_policy(document: Mapping[str, Any] | str | bytes, source: str, kind: str = "identity") -> Policy:
    """Parse a policy document (a mapping or a JSON string) into an immutable `Policy`.

    `source` labels the policy in evidence ("bucket policy of DataBucket"). Raises
    `PolicyError` naming the statement for a document IAM would reject.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown policy kind {kind!r}; expected one of {sorted(KINDS)}")
    if isinstance(document, bytes | str):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise PolicyError(f"{source}: not valid JSON: {error}") from None
    if not isinstance(document, Mapping):
        raise PolicyError(f"{source}: a policy document must be a JSON object, not {type(document).__name__}")
    if "Statement" not in document:
        raise PolicyError(f"{source}: the policy has no Statement")
    raw = document["Statement"]
    raw_statements = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(raw_statements, list):
        raise PolicyError(f"{source}: Statement must be an object or a list of objects")
    version = document.get("Version")
    validate.version(version, source)
    validate.sids([item.get("Sid") if isinstance(item, Mapping) else None for item in raw_statements], kind, source)
    variables = version == _POLICY_VERSION_WITH_VARIABLES
    statements = tuple(
        _statement(item, index, source, kind, variables) for index, item in enumerate(raw_statements)
    )
    return Policy(source, kind, statements, version if isinstance(version, str) else None)


def unknown_policy(source: str, kind: str = "identity", may_deny: bool = False, known: Policy | None = None) -> Policy:
    """A stand-in for a policy whose content we do not ship: may allow anything, never denies.

    `may_deny` marks content nobody could read (an SCP), which may deny as well; `known` is
    the part that could be read (its statements are kept and evaluated)."""
    if kind not in KINDS:
        raise ValueError(f"unknown policy kind {kind!r}")
    statements = known.statements if known is not None else ()
    version = known.version if known is not None else None
    return Policy(source, kind, statements, version, unknown=True, may_deny=may_deny)


def _where(index: int, sid: object, source: str) -> str:
    if isinstance(sid, str) and sid:
        return f'Sid "{sid}" (statement {index + 1}) of {source}'
    return f"statement {index + 1} of {source}"


def _strings(value: object, element: str, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str):
            raise PolicyError(f"{where}: {element} must hold strings, found {type(item).__name__} {item!r}")
    return tuple(items)


def _statement(raw: object, index: int, source: str, kind: str, variables: bool) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"statement {index + 1} of {source}: a statement must be an object")
    sid = raw.get("Sid")
    where = _where(index, sid, source)
    effect = raw.get("Effect")
    if effect is None:
        raise PolicyError(f"{where}: Effect is missing")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be Allow or Deny, not {effect!r}")
    actions, not_actions = _pair(raw, "Action", "NotAction", where, validate.actions)
    if actions is None and not_actions is None:
        raise PolicyError(f"{where}: one of Action or NotAction is required")
    resources, not_resources = _pair(raw, "Resource", "NotResource", where, validate.resources)
    if resources is None and not_resources is None and kind != "trust":
        raise PolicyError(f"{where}: one of Resource or NotResource is required")
    principal, not_principal = _principals(raw, kind, effect, where)
    return Statement(
        source=source,
        index=index,
        sid=sid if isinstance(sid, str) else None,
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principal=principal,
        not_principal=not_principal,
        conditions=_conditions(raw.get("Condition"), where),
        variables=variables,
    )


def _pair(
    raw: Mapping[str, Any], name: str, negation: str, where: str, check: Callable[[tuple[str, ...], str, str], None]
) -> tuple[tuple[str, ...] | None, ...]:
    if name in raw and negation in raw:
        raise PolicyError(f"{where}: {name} and {negation} cannot both be present")
    found: list[tuple[str, ...] | None] = []
    for element in (name, negation):
        values = _strings(raw[element], element, where) if element in raw else None
        if values is not None:
            check(values, element, where)
        found.append(values)
    return tuple(found)


def _principals(
    raw: Mapping[str, Any], kind: str, effect: str, where: str
) -> tuple[PrincipalSpec | None, PrincipalSpec | None]:
    has, has_not = "Principal" in raw, "NotPrincipal" in raw
    if has and has_not:
        raise PolicyError(f"{where}: Principal and NotPrincipal cannot both be present")
    if kind not in PRINCIPAL_KINDS:
        if has or has_not:
            element = "Principal" if has else "NotPrincipal"
            raise PolicyError(f"{where}: {element} is not allowed in a {kind} policy")
        return None, None
    if has_not:
        if effect != "Deny":
            raise PolicyError(f"{where}: NotPrincipal can only be used with Effect Deny")
        if kind == "trust":
            raise PolicyError(f"{where}: NotPrincipal is not allowed in a trust policy")
        return None, _principal_spec(raw["NotPrincipal"], "NotPrincipal", where)
    if has:
        return _principal_spec(raw["Principal"], "Principal", where), None
    if kind == "endpoint":
        # An endpoint policy statement without Principal applies to everyone.
        return PrincipalSpec(everyone=True), None
    raise PolicyError(f"{where}: Principal is required in a {kind} policy")


def _principal_spec(value: object, element: str, where: str) -> PrincipalSpec:
    if isinstance(value, str):
        if value == "*":
            return PrincipalSpec(everyone=True)
        raise PolicyError(
            f'{where}: {element} must be "*" or an object with AWS/Service/Federated/CanonicalUser keys, not {value!r}'
        )
    if not isinstance(value, Mapping) or not value:
        raise PolicyError(
            f'{where}: {element} must be "*" or an object with AWS/Service/Federated/CanonicalUser keys, found {type(value).__name__}'
        )
    entries: list[tuple[str, str]] = []
    for key, items in value.items():
        if key not in PRINCIPAL_KEYS:
            raise PolicyError(
                f"{where}: {element} has an unknown key {key!r} (expected one of {', '.join(PRINCIPAL_KEYS)})"
            )
        for item in _strings(_account_ids(items), f"{element} {key}", where):
            validate.principal(key, item, element, where)
            entries.append((key, item))
    return PrincipalSpec(everyone=False, entries=tuple(entries))


def _account_ids(items: object) -> object:
    """An unquoted YAML account id arrives as an int; CloudFormation sends its digits, which IAM reads as the id."""
    def text(item: object) -> object:
        return f"{item:012d}" if isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 10**12 else item

    return [text(i) for i in items] if isinstance(items, list) else text(items)


def _condition_value(value: object, where: str, operator: str, key: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise PolicyError(
        f"{where}: condition {operator} {key!r} has a value of unsupported type {type(value).__name__}"
    )


def _conditions(block: object, where: str) -> tuple[Condition, ...]:
    if block is None:
        return ()
    if not isinstance(block, Mapping):
        raise PolicyError(f"{where}: Condition must be an object")
    conditions: list[Condition] = []
    for operator, keys in block.items():
        if not isinstance(operator, str):
            raise PolicyError(f"{where}: unknown condition operator {operator!r}")
        try:
            base, negated, if_exists, qualifier = split_operator(operator)
        except KeyError:
            raise PolicyError(f"{where}: unknown condition operator {operator!r}") from None
        if not isinstance(keys, Mapping):
            raise PolicyError(f"{where}: condition operator {operator} must map condition keys to values")
        for key, raw_values in keys.items():
            if not isinstance(key, str):
                raise PolicyError(f"{where}: condition key {key!r} under {operator} is not a string")
            items = raw_values if isinstance(raw_values, list) else [raw_values]
            values = tuple(_condition_value(item, where, operator, key) for item in items)
            validate.condition_values(base, values, where, operator, key)
            conditions.append(Condition(operator, base, negated, if_exists, qualifier, key.lower(), values))
    return tuple(conditions)
