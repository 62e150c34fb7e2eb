"""JMESPath ``assert:`` rules over CloudFormation-shaped properties, without failing open.

An expression is a black box to us, so whether its answer depends on a value that is not
known (an opaque template token, a failed or missing live read, a malformed value) is decided
by trying it: every such value the expression can reach is given, in turn, each literal the
expression compares with and a few values of every JSON type. One answer for all of them is
the verdict; two answers make the finding `unknown` (`error` when a value that decides it could
not be read). A value the expression names no field of is not tried: its answer cannot change.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sagefence.status import Status
from sagefence.values import Malformed, Missing, ReadError, is_marker, is_opaque

MAX_TRIALS = 512
_GENERIC: tuple[Any, ...] = (None, True, False, "", 0, "\u27e8sagefence-unknown\u27e9", [], {})
# Node types that reach values without naming their field: every unknown value is reachable.
_ANY_FIELD = frozenset({"value_projection", "current"})
_ANY_FIELD_FUNCTIONS = frozenset({"keys", "values", "merge", "to_string", "to_array", "type", "not_null"})


@dataclass
class _Slot:
    container: Any  # the dict or list that holds the unknown value
    key: Any
    path: tuple[Any, ...]
    value: Any  # the marker or opaque string


@dataclass(frozen=True)
class AssertOutcome:
    status: Status
    message: str | None = None  # why the outcome is not pass/fail


def _plain(value: Any, path: tuple[Any, ...], slots: list[_Slot]) -> Any:
    """JMESPath needs plain containers; unknown values become slots filled per trial."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out[str(k)] = _plain(v, (*path, str(k)), slots)
            if _is_unknown(v):
                slots.append(_Slot(out, str(k), (*path, str(k)), v))
        return out
    if isinstance(value, (list, tuple)):
        items: list[Any] = []
        for i, v in enumerate(value):
            items.append(_plain(v, (*path, i), slots))
            if _is_unknown(v):
                slots.append(_Slot(items, i, (*path, i), v))
        return items
    if _is_unknown(value):
        return None  # filled per trial
    if isinstance(value, str):
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return repr(value)


def _is_unknown(value: Any) -> bool:
    return is_marker(value) or is_opaque(value)


def _nodes(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for child in node.get("children", ()):
            yield from _nodes(child)


def _reach(parsed: Mapping[str, Any]) -> tuple[frozenset[str], bool, list[Any]]:
    """Field names the expression reads, whether it reaches values without naming them, its literals."""
    fields: set[str] = set()
    literals: list[Any] = []
    anywhere = False
    for node in _nodes(parsed):
        kind = node.get("type")
        if kind == "field":
            fields.add(str(node.get("value")))
        elif kind == "literal":
            literals.append(node.get("value"))
        elif kind in _ANY_FIELD or kind == "function_expression" and node.get("value") in _ANY_FIELD_FUNCTIONS:
            anywhere = True
    return frozenset(fields), anywhere, literals


def _candidates(literals: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in [*literals, *_GENERIC]:
        if not any(type(value) is type(seen) and value == seen for seen in out):
            out.append(value)
    return out


def _describe(slot: _Slot) -> str:
    where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in slot.path).replace(".[", "[")
    value = slot.value
    if isinstance(value, ReadError):
        return f"{where} could not be read ({value.operation}: {value.message})"
    if isinstance(value, Missing):
        return f"{where} is not reported by the API"
    if isinstance(value, Malformed):
        return f"{where} is malformed ({value.problem})"
    return f"{where} is not known before deployment ({value})"


def _trial(expression: Any, document: Any) -> object:
    """The expression's truth, or the error a value of another type gives (also one possible answer)."""
    from jmespath.exceptions import JMESPathError

    try:
        return bool(expression.search(document))
    except JMESPathError as exc:
        return type(exc).__name__


def evaluate_assert(expression: Any, properties: Mapping[str, Any]) -> AssertOutcome:
    """PASS/FAIL when the compiled expression's truth is the same for every value the unknowns can take."""
    slots: list[_Slot] = []
    document = _plain(properties, (), slots)
    fields, anywhere, literals = _reach(expression.parsed)
    relevant = [s for s in slots if anywhere or any(isinstance(p, str) and p in fields for p in s.path)]
    if not relevant:
        return AssertOutcome(Status.PASS if expression.search(document) else Status.FAIL)
    candidates = _candidates(literals)
    answers: set[object] = set()
    if len(candidates) ** len(relevant) > MAX_TRIALS:
        answers = {True, False}  # too many to try: taken as depending on them
    else:
        for trial in itertools.product(candidates, repeat=len(relevant)):
            for slot, value in zip(relevant, trial, strict=True):
                slot.container[slot.key] = value
            answers.add(_trial(expression, document))
            if len(answers) > 1:
                break
    if answers == {True} or answers == {False}:
        return AssertOutcome(Status.PASS if answers.pop() else Status.FAIL)
    unreadable = [s for s in relevant if isinstance(s.value, (ReadError, Malformed))]
    deciding = unreadable or relevant
    reason = "; ".join(_describe(s) for s in deciding[:5])
    status = Status.ERROR if unreadable else Status.UNKNOWN
    return AssertOutcome(status, f"the answer depends on values that are not known: {reason}")
