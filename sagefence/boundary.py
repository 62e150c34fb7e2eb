"""Validation at the boundaries: pydantic over the frozen dataclasses the rest of the code reads.

Config files, rule files and saved findings documents are validated here; pydantic is
imported only when one of them is read, never on a default template scan's start-up.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

EXTRA = "extra_forbidden"
FORBID = {"extra": "forbid"}  # a dataclass's ``__pydantic_config__``: unknown keys are refused


class Invalid(Exception):
    """The first problem pydantic found: where (its loc), what kind, and its message."""

    def __init__(self, loc: tuple[Any, ...], kind: str, message: str) -> None:
        super().__init__(message)
        self.loc, self.kind, self.message = loc, kind, message


_ADAPTERS: dict[type, Any] = {}  # building one costs tens of milliseconds: once per schema


def _adapter(schema: type) -> Any:
    adapter = _ADAPTERS.get(schema)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[schema] = TypeAdapter(schema)
    return adapter


def validate(schema: type[T], data: Any) -> T:
    """``data`` as an instance of the dataclass ``schema``, or Invalid. Messages keep the wording of
    the pydantic models the dataclasses replaced: an unknown key is kind EXTRA, "Extra inputs are
    not permitted", and a value that is not a mapping names the class it should be."""
    from pydantic import ValidationError

    try:
        return _adapter(schema).validate_python(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        kind, message = error["type"], error["msg"].removeprefix("Value error, ")
        if kind in (EXTRA, "unexpected_keyword_argument"):
            kind, message = EXTRA, "Extra inputs are not permitted"
        elif kind == "dataclass_type":
            message = f"Input should be a valid dictionary or instance of {error['ctx']['class_name']}"
        raise Invalid(tuple(error["loc"]), kind, message) from exc
