"""Small readers shared by several check modules.

Three-valued readers (``bool | None``, None meaning "not known") let a check decide when the
outcome holds for every value an unknown input can take (rules.md v2 §1, certain beats unknown):
an opaque template value or a field the API did not return is unknown; a failed read raises
(``require`` turns it into an `error`). None of them tests the truthiness of a marker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sagefence.values import OPAQUE_CLOSE, OPAQUE_OPEN, Missing, UnknownInput, is_opaque, require

_REGION = rf"(?:[a-z0-9-]+|{OPAQUE_OPEN}[^{OPAQUE_CLOSE}]*{OPAQUE_CLOSE})"
OPAQUE_PART = re.compile(f"{OPAQUE_OPEN}[^{OPAQUE_CLOSE}]*{OPAQUE_CLOSE}")
_SERVICE = re.compile(rf"^(?:com\.amazonaws\.{_REGION}\.(?P<svc>[^{OPAQUE_OPEN}]+)"
                      rf"|aws\.sagemaker\.{_REGION}\.(?P<sm>[^{OPAQUE_OPEN}]+))$")


def service_short_name(service_name: Any) -> str | None:
    """'com.amazonaws.us-east-1.sagemaker.api' -> 'sagemaker.api'; 'aws.sagemaker.<r>.studio' -> 'sagemaker.studio'.

    The service is known also when only the region is a parameter (``com.amazonaws.${Region}.sts``)."""
    if not isinstance(service_name, str):
        return None
    match = _SERVICE.match(service_name.strip())
    if not match:
        return None
    return match.group("svc") or f"sagemaker.{match.group('sm')}"


def could_serve(service_name: Any, svc: str) -> bool:
    """Whether an endpoint's service name is the service's, or is not known and may resolve to it
    (``com.amazonaws.${AWS::Region}.${Service}``; a literal tail after the unknown part must fit)."""
    short = service_short_name(service_name)
    if short is not None:
        return short == svc
    if not is_opaque(service_name):
        return unknowable(service_name, "ServiceName")
    wanted = [f".{svc}"] + ([f".{svc.removeprefix('sagemaker.')}"] if svc.startswith("sagemaker.") else [])
    return any(could_end_with(service_name, w) for w in wanted)


def could_end_with(value: str, suffix: str) -> bool:
    """Whether a (possibly partly opaque) string can end with ``suffix``: the text after its last ⟨…⟩
    part and the suffix must fit one into the other."""
    tail = OPAQUE_PART.split(value)[-1]
    return suffix.endswith(tail) or tail.endswith(suffix)


def unknowable(value: Any, what: str) -> bool:
    """Whether the value may be anything: an opaque template value, or a field the API did not return.
    A failed read (or any other marker ``require`` refuses) raises instead."""
    if is_opaque(value) or isinstance(value, Missing):
        return True
    require(value, what)
    return False


def present(value: Any, what: str) -> bool | None:
    """Whether a field is set. An opaque value (parameter, ImportValue) is set whatever it resolves to;
    a field the API did not return is not known (None)."""
    if is_opaque(value):
        return True
    if unknowable(value, what):
        return None
    if value is None:
        return False
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value) > 0
    return True


def equals(value: Any, expected: str, what: str) -> bool | None:
    """Whether a setting is ``expected`` (compared as text); None when the value is not known."""
    if unknowable(value, what):
        return None
    return str(value) == expected


def could_be(value: Any, literal: str) -> bool:
    """Whether a (possibly partly opaque) string can resolve to ``literal``: each ⟨…⟩ part may be any text.
    Matched greedily part by part (linear, no backtracking regular expression)."""
    if not isinstance(value, str):
        return False
    if not is_opaque(value):
        return value == literal
    first, *middle, last = OPAQUE_PART.split(value)
    if len(first) + len(last) > len(literal) or not literal.startswith(first) or not literal.endswith(last):
        return False
    position, end = len(first), len(literal) - len(last)
    for part in middle:
        found = literal.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def boolean(value: Any, what: str) -> bool | None:
    """CloudFormation booleans: true/false, 'true'/'false' in any case; None when not known."""
    if unknowable(value, what):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"{what} is {value!r}, not a boolean")


def truthy(value: Any, what: str) -> bool:
    """A CloudFormation boolean the rule cannot do without: unknown raises (the engine reports `unknown`)."""
    known = boolean(value, what)
    if known is None:
        raise UnknownInput(why_unknown(value, what))
    return known


def why_unknown(value: Any, what: str) -> str:
    """'<what> is not known before deployment (<token>)' or '<what> is not reported by the API'."""
    if isinstance(value, Missing):
        return f"{what} is not reported by the API"
    return f"{what} is not known before deployment ({value})"


def setting(value: Any, what: str) -> str:
    value = require(value, what)
    return str(value)
