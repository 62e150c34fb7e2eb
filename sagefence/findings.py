"""The findings document: the single source every report renders from (cli.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sagefence.status import SEVERITIES, Severity, Status

SCHEMA_VERSION = 1


class ResourceRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    id: str
    account: str | None = None
    region: str | None = None
    file: str | None = None
    line: int | None = None


class Suppression(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str
    expires: str | None = None
    source: str  # "config" | "template"


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    title: str
    severity: Severity
    status: Status
    resource: ResourceRef
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    remediation: str = ""
    suppressed: Suppression | None = None

    @property
    def fingerprint(self) -> str:
        """Stable across runs: rule, resource, account, region, and the VPCE-002 service; never the message."""
        parts = [self.rule_id, self.resource.type, self.resource.id, self.resource.account or "",
                 self.resource.region or "", str(self.evidence.get("service", ""))]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    @property
    def counts_as_failure(self) -> bool:
        return self.status is Status.FAIL and self.suppressed is None


class ErrorEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str
    message: str


class SkippedEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str
    reason: str


class ToolInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "sagefence"
    version: str


class ScanInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    source: str
    started_at: str
    finished_at: str
    targets: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    skipped: list[SkippedEntry] = Field(default_factory=list)
    duration_s: float = 0.0
    api_calls: dict[str, Any] | None = None
    notices: list[str] = Field(default_factory=list)


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    fail: dict[str, int]
    pass_: int = Field(alias="pass")
    error: int
    unknown: int
    suppressed: int


class FindingsDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    tool: ToolInfo
    scan: ScanInfo
    summary: Summary
    findings: list[Finding]
    errors: list[ErrorEntry] = Field(default_factory=list)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"


def summarize(findings: list[Finding]) -> Summary:
    fail = {s.value: 0 for s in SEVERITIES}
    counts = {Status.PASS: 0, Status.ERROR: 0, Status.UNKNOWN: 0}
    suppressed = 0
    for f in findings:
        if f.suppressed is not None:
            suppressed += 1
        elif f.status is Status.FAIL:
            fail[f.severity.value] += 1
        else:
            counts[f.status] += 1
    return Summary.model_validate({"fail": fail, "pass": counts[Status.PASS], "error": counts[Status.ERROR],
                                   "unknown": counts[Status.UNKNOWN], "suppressed": suppressed})


class FindingsFileError(Exception):
    """A saved findings file that cannot be read: broken JSON, wrong schema or version."""


def load_document(path: str | Path) -> FindingsDocument:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FindingsFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FindingsFileError(f"{path}: not a JSON findings document: {exc}") from exc
    if not isinstance(raw, dict):
        raise FindingsFileError(f"{path}: not a findings document (top level is not an object)")
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise FindingsFileError(
            f"{path}: schema_version {version!r} is not supported (this sagefence reads {SCHEMA_VERSION})")
    try:
        return FindingsDocument.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise FindingsFileError(f"{path}: {loc}: {first['msg']}") from exc


def exit_status(doc: FindingsDocument, fail_on: Severity | None, allow_partial: bool) -> int:
    """0/1/3 of cli.md; 3 wins over 1. fail_on None means 'never'."""
    incomplete = bool(doc.errors) or any(f.status is Status.ERROR and f.suppressed is None for f in doc.findings)
    if incomplete and not allow_partial:
        return 3
    if fail_on is not None and any(
            f.counts_as_failure and f.severity.rank >= fail_on.rank for f in doc.findings):
        return 1
    return 0
