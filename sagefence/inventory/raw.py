"""What sources emit: CloudFormation-shaped resources, and the listings that failed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sagefence.status import SourceKind


@dataclass(frozen=True)
class InlineSuppression:
    rule: str
    reason: str
    expires: date | None = None


@dataclass(frozen=True)
class RawResource:
    """One resource as a source sees it.

    ``properties`` follow the CloudFormation schema of ``type`` with values resolved as far
    as the source allows: template values that cannot be known are ``Opaque`` strings, live
    fields whose read failed are ``ReadError`` objects, live fields the API did not return
    and that have no documented default are ``Missing``.
    ``extra`` carries what CloudFormation has no property for but live rules need
    (e.g. the platform a live notebook reports, a stack's service role, attached AWS managed
    policy documents); keys are documented where the source sets them.
    """

    type: str
    id: str
    properties: Mapping[str, Any]
    source: SourceKind
    account: str | None = None
    region: str | None = None
    file: str | None = None
    line: int | None = None
    arn: str | None = None
    suppressions: tuple[InlineSuppression, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ListingFailure:
    """A resource type that could not be listed in one account and region (region 'global' for IAM).

    Nothing of ``resource_type`` in that scope may be reported as pass: the engine turns this
    into an `errors` entry and one `error` finding per affected rule.
    """

    account: str
    region: str
    resource_type: str
    operation: str
    message: str

    @property
    def scope_id(self) -> str:
        return f"{self.account}/{self.region}/{self.resource_type}"
