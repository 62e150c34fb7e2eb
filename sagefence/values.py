"""Markers for values a rule cannot simply read: opaque template values and failed reads.

Both are shared by every source, so checks treat a template parameter without default
and a live API answer that failed the same way: never as a pass.
"""

from __future__ import annotations

from typing import Any

OPAQUE_OPEN = "\u27e8"  # ⟨
OPAQUE_CLOSE = "\u27e9"  # ⟩


class Opaque(str):
    """A template value that cannot be resolved (parameter without default, ImportValue of an
    export no scanned template defines, GetAtt of a custom resource).

    It is a ``str`` so that policy evaluation treats it as a literal equal only to itself and
    different from every probe value; the brackets never occur in real identifiers.
    """

    __slots__ = ()

    @classmethod
    def token(cls, kind: str, name: str) -> Opaque:
        return cls(f"{OPAQUE_OPEN}{kind}:{name}{OPAQUE_CLOSE}")


def is_opaque(value: Any) -> bool:
    return isinstance(value, Opaque) or (isinstance(value, str) and OPAQUE_OPEN in value)


class ReadError:
    """A live read that failed (AccessDenied, throttling) for one field of one resource."""

    __slots__ = ("operation", "message")

    def __init__(self, operation: str, message: str) -> None:
        self.operation = operation
        self.message = message

    def __repr__(self) -> str:
        return f"ReadError({self.operation!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReadError) and (self.operation, self.message) == (other.operation, other.message)

    def __hash__(self) -> int:
        return hash((self.operation, self.message))


class Missing:
    """A field a live answer lacked and that has no documented default (e.g. PlatformIdentifier)."""

    __slots__ = ("field",)

    def __init__(self, field: str) -> None:
        self.field = field

    def __repr__(self) -> str:
        return f"Missing({self.field!r})"


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
    if is_opaque(value):
        raise UnknownInput(f"{what} is not known before deployment ({value})")
    return value
