"""Markers for values a rule cannot simply read: opaque template values and failed reads.

Both are shared by every source, so checks treat a template parameter without default
and a live API answer that failed the same way: never as a pass.
"""

from __future__ import annotations

from typing import Any

OPAQUE_OPEN = "\u27e8"  # ⟨
OPAQUE_CLOSE = "\u27e9"  # ⟩
TOKEN_COLON = "\u2236"  # ∶


class Opaque(str):
    """A template value that cannot be resolved (parameter without default, ImportValue of an
    export no scanned template defines, GetAtt of a custom resource).

    It is a ``str`` so that policy evaluation treats it as a literal equal only to itself and
    different from every probe value; the brackets never occur in real identifiers.
    """

    __slots__ = ()

    @classmethod
    def token(cls, kind: str, name: str) -> Opaque:
        """``⟨kind∶name⟩``. A token never holds a colon (U+2236 stands in for one), so an ARN whose
        account or region is unknown still splits into its six parts, and ``*`` covers the unknown part."""
        text = f"{kind}{TOKEN_COLON}{name.replace(':', TOKEN_COLON)}"
        return cls(f"{OPAQUE_OPEN}{text}{OPAQUE_CLOSE}")

    def __bool__(self) -> bool:
        raise UnknownInput(f"{self} is not known before deployment (an unknown has no truth value)")


def is_opaque(value: Any) -> bool:
    return isinstance(value, Opaque) or (isinstance(value, str) and OPAQUE_OPEN in value)


class _Marker:
    """A value that is not there: it has no truth value and compares equal only to an identical marker.

    ``if value:`` or ``value == "Enabled"`` on a marker raises, so a consumer that forgets to
    ask ``require`` first gets an `error`/`unknown` finding from the engine, never a silent pass.
    """

    __slots__ = ()

    def _refusal(self) -> Exception:
        raise NotImplementedError

    def _identity(self) -> tuple[object, ...]:
        raise NotImplementedError

    def __bool__(self) -> bool:
        raise self._refusal()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Marker):
            return type(other) is type(self) and other._identity() == self._identity()
        raise self._refusal()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._identity()))

    def __iter__(self) -> Any:
        raise self._refusal()

    def __len__(self) -> int:
        raise self._refusal()


class ReadError(_Marker):
    """A live read that failed (AccessDenied, throttling) for one field of one resource."""

    __slots__ = ("operation", "message")

    def __init__(self, operation: str, message: str) -> None:
        self.operation = operation
        self.message = message

    def __repr__(self) -> str:
        return f"ReadError({self.operation!r}, {self.message!r})"

    def _identity(self) -> tuple[object, ...]:
        return (self.operation, self.message)

    def _refusal(self) -> Exception:
        return InputError(f"could not be read: {self.operation}: {self.message}")


class Missing(_Marker):
    """A field a live answer lacked and that has no documented default (e.g. PlatformIdentifier)."""

    __slots__ = ("field",)

    def __init__(self, field: str) -> None:
        self.field = field

    def __repr__(self) -> str:
        return f"Missing({self.field!r})"

    def _identity(self) -> tuple[object, ...]:
        return (self.field,)

    def _refusal(self) -> Exception:
        return UnknownInput(f"{self.field} is not reported by the API")


class Malformed(_Marker):
    """A value CloudFormation (or the API) would reject for its property: the wrong type, or null.

    Rules that read it report `error` naming the property and the problem; it never reads as absent.
    """

    __slots__ = ("field", "problem")

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem

    def __repr__(self) -> str:
        return f"Malformed({self.field!r}, {self.problem!r})"

    def _identity(self) -> tuple[object, ...]:
        return (self.field, self.problem)

    def _refusal(self) -> Exception:
        return InputError(f"malformed input: {self.problem}")


def is_marker(value: Any) -> bool:
    """A failed read, a missing field or a malformed value (not an opaque template token)."""
    return isinstance(value, _Marker)


class UnknownInput(Exception):
    """Raised by a check when the input lacks what the rule needs: the engine reports `unknown`."""


class InputError(Exception):
    """Raised by a check when its input could not be read: the engine reports `error`."""


def require(value: Any, what: str) -> Any:
    """Return a plain value, or raise so that the engine reports unknown/error for this rule."""
    if isinstance(value, ReadError):
        raise InputError(f"{what} could not be read: {value.operation}: {value.message}")
    if isinstance(value, Missing):
        raise UnknownInput(f"{what} is not reported by the API")
    if isinstance(value, Malformed):
        raise InputError(f"malformed {what}: {value.problem}")
    if is_opaque(value):
        raise UnknownInput(f"{what} is not known before deployment ({value})")
    return value


def require_document(value: Any, what: str) -> Any:
    """A policy document: like ``require``, except that JSON text built with ``!Sub`` around unknown
    values (``"Resource": "arn:aws:s3:::${Bucket}/*"``) is read, its unknowns staying unknown inside it;
    only text that is not JSON once the unknowns are in place is not known before deployment."""
    if isinstance(value, str) and is_opaque(value):
        import json

        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return require(value, what)
