"""Condition operators, evaluated as IAM documents them.

For one key under one operator: the request values are compared with the policy values
(several policy values: OR). A negated operator (``StringNotEquals``...) is true when no
policy value matches. An absent key (or an empty multi-valued key) makes the condition
false, except for negated operators (true), ``...IfExists`` (true), ``Null`` and
``ForAllValues:`` (true); ``ForAnyValue:`` is false for it, also with a negated operator.

``Null`` tests presence; under a set qualifier it follows the documented empty-set rules:
``ForAllValues:Null`` is true for an absent or empty key, ``ForAnyValue:Null`` false, and
with the key present both answer as plain ``Null``.

Policy values are checked when the policy is parsed (`validate`): an ill-formed one is a
`PolicyError`, never a condition that silently does not match. A request value the
operator cannot read (a non-IP aws:SourceIp) makes the condition not match, whatever the
operator. An opaque template value is equal only to the same token.
"""

from __future__ import annotations

from collections.abc import Callable

from sagefence.values import is_opaque

from .model import Condition
from .patterns import Context, arn_match, glob_match, resolve_text
from .validate import Malformed, binary, boolean, date, ip, network, number, unknown

_COMPARISONS: dict[str, Callable[[object, object], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,  # type: ignore[operator]
    "LessThanEquals": lambda a, b: a <= b,  # type: ignore[operator]
    "GreaterThan": lambda a, b: a > b,  # type: ignore[operator]
    "GreaterThanEquals": lambda a, b: a >= b,  # type: ignore[operator]
}


def _compare(base: str, actual: str, expected: str, context: Context, variables: bool) -> bool:
    """Whether one request value matches one policy value under a positive base operator."""
    if is_opaque(expected) and base not in ("StringLike", "ArnLike", "ArnEquals"):
        return actual == expected
    if base == "StringEquals":
        text = resolve_text(expected, context, variables)
        return text is not None and actual == text
    if base == "StringEqualsIgnoreCase":
        text = resolve_text(expected, context, variables)
        return text is not None and actual.casefold() == text.casefold()
    if base == "StringLike":
        return glob_match(expected, actual, context, variables)
    if base in ("ArnEquals", "ArnLike"):
        return arn_match(expected, actual, context, variables)
    if base.startswith("Numeric"):
        return _COMPARISONS[base[len("Numeric") :]](number(actual), number(expected))
    if base.startswith("Date"):
        return _COMPARISONS[base[len("Date") :]](date(actual), date(expected))
    if base == "Bool":
        return boolean(actual) == boolean(expected)
    if base == "IpAddress":
        return ip(actual) in network(expected)
    if base == "BinaryEquals":
        return actual == expected or binary(actual) == binary(expected)
    raise AssertionError(f"unhandled operator {base}")


def _null(condition: Condition, present: bool) -> bool:
    """``Null: true`` holds when the key is absent, ``Null: false`` when it is present. With a set
    qualifier and the key absent (or empty) there is no value to test: true for all, false for any."""
    if not present and condition.qualifier is not None:
        return condition.qualifier == "ForAllValues"
    wanted = {boolean(value) for value in condition.values if not unknown(value)}
    return (not present) in wanted


def condition_holds(condition: Condition, context: Context, variables: bool = True) -> bool:
    """Evaluate one key under one operator against a request context (lower-case keys)."""
    actual = context.get(condition.key, ())
    if condition.base == "Null":
        return _null(condition, bool(actual))
    if not actual:
        if condition.if_exists or condition.qualifier == "ForAllValues":
            return True
        if condition.qualifier == "ForAnyValue":
            return False
        return condition.negated
    try:
        matched = [
            any(
                _compare(condition.base, value, expected, context, variables) for expected in condition.values
            )
            for value in actual
        ]
    except Malformed:
        return False
    if condition.negated:
        matched = [not hit for hit in matched]
        if condition.qualifier is None:
            return all(matched)
    if condition.qualifier == "ForAllValues":
        return all(matched)
    return any(matched)


def conditions_hold(conditions: tuple[Condition, ...], context: Context, variables: bool = True) -> bool:
    """All conditions of a statement hold (AND across operators and keys)."""
    return all(condition_holds(condition, context, variables) for condition in conditions)
