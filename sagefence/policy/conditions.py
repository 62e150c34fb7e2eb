"""Condition operators, evaluated as IAM documents them.

For one key under one operator: the request values are compared with the policy values
(several policy values: OR). A negated operator (``StringNotEquals``...) is true when no
policy value matches. An absent key (or an empty multi-valued key) makes the condition
false, except for negated operators (true), ``...IfExists`` (true), ``Null`` and
``ForAllValues:`` (true); ``ForAnyValue:`` is false for it, also with a negated operator.

A value that cannot be read (a non-number under Numeric*, a non-IP under IpAddress) makes
the whole condition not match, whatever the operator. An opaque template value is equal
only to the same token.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from sagefence.values import is_opaque

from .model import Condition
from .patterns import Context, arn_match, glob_match, resolve_text


class Malformed(Exception):
    """A value in a condition or request that the operator cannot read."""


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise Malformed(text) from None
    if not value.is_finite():
        raise Malformed(text)
    return value


def _date(text: str) -> float:
    text = text.strip()
    try:
        return float(_number(text))
    except Malformed:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Malformed(text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise Malformed(text) from None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise Malformed(text) from None


def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed(text) from None


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise Malformed(text)
    return lowered == "true"


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
        return _COMPARISONS[base[len("Numeric") :]](_number(actual), _number(expected))
    if base.startswith("Date"):
        return _COMPARISONS[base[len("Date") :]](_date(actual), _date(expected))
    if base == "Bool":
        return _bool(actual) == _bool(expected)
    if base == "IpAddress":
        return _ip(actual) in _network(expected)
    if base == "BinaryEquals":
        return actual == expected or _binary(actual) == _binary(expected)
    raise AssertionError(f"unhandled operator {base}")


def _validate(base: str, values: tuple[str, ...]) -> None:
    """Raise Malformed when a policy value cannot be read, even if another value matches."""
    readers: dict[str, Callable[[str], object]] = {"IpAddress": _network, "Bool": _bool}
    reader = readers.get(base) or (
        _number if base.startswith("Numeric") else _date if base.startswith("Date") else None
    )
    if reader is None:
        return
    for value in values:
        if not is_opaque(value):
            reader(value)


def _null(condition: Condition, present: bool) -> bool:
    """``Null: true`` holds when the key is absent, ``Null: false`` when it is present."""
    wanted = set()
    for value in condition.values:
        try:
            wanted.add(_bool(value))
        except Malformed:
            return False
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
        _validate(condition.base, condition.values)
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
