"""Check functions: ``(resource, inventory, params) -> iterable of Result``, one per rule.

The rule YAML names the function (``check: vpce.s3_endpoint``); the engine imports only
the modules of the rules a scan selects and attaches the rule's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sagefence.inventory.models import Located
from sagefence.status import Status


@dataclass(frozen=True)
class Result:
    status: Status
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None  # tells several findings of one rule on one resource apart (VPCE-002)
    resource: Located | None = None  # when the finding sits on another resource than the one checked


def passed(message: str, **evidence: Any) -> Result:
    return Result(Status.PASS, message, evidence)


def failed(message: str, **evidence: Any) -> Result:
    return Result(Status.FAIL, message, evidence)


def unknown(message: str, **evidence: Any) -> Result:
    return Result(Status.UNKNOWN, message, evidence)


def error(message: str, **evidence: Any) -> Result:
    return Result(Status.ERROR, message, evidence)
