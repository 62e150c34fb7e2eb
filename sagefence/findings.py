"""The findings document: the single source every report renders from (cli.md).

Plain frozen dataclasses, so a template scan builds and writes its findings without
importing pydantic (start-up time); pydantic validates a saved document read back from
disk (``load_document``), which is where input comes from outside.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sagefence.boundary import EXTRA, FORBID, Invalid, validate
from sagefence.status import SEVERITIES, Severity, Status

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class ResourceRef:
    __pydantic_config__ = FORBID

    type: str
    id: str
    account: str | None = None
    region: str | None = None
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Suppression:
    __pydantic_config__ = FORBID

    reason: str
    source: str  # "config" | "template"
    expires: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    __pydantic_config__ = FORBID

    rule_id: str
    title: str
    severity: Severity
    status: Status
    resource: ResourceRef
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
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

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of cli.md (field order included)."""
        r, s = self.resource, self.suppressed
        return {
            "rule_id": self.rule_id, "title": self.title, "severity": self.severity.value,
            "status": self.status.value,
            "resource": {"type": r.type, "id": r.id, "account": r.account, "region": r.region,
                         "file": r.file, "line": r.line},
            "message": self.message, "evidence": self.evidence, "remediation": self.remediation,
            "suppressed": None if s is None else {"reason": s.reason, "expires": s.expires, "source": s.source},
        }


@dataclass(frozen=True, slots=True)
class ErrorEntry:
    """What could not be examined: ``target`` is the file (template mode) or the API scope (live mode),
    ``line`` the line in that file where known. Documents written before ``line`` existed may hold
    ``file:line`` targets; they still load, as they are."""

    __pydantic_config__ = FORBID

    target: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "message": self.message, "line": self.line}


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    __pydantic_config__ = FORBID

    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class ToolInfo:
    __pydantic_config__ = FORBID

    version: str
    name: str = "sagefence"


@dataclass(frozen=True)
class ScanInfo:
    __pydantic_config__ = {"extra": "ignore"}  # a newer sagefence may record more about its scan

    source: str
    started_at: str
    finished_at: str
    targets: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    skipped: list[SkippedEntry] = field(default_factory=list)
    duration_s: float = 0.0
    api_calls: dict[str, Any] | None = None
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "started_at": self.started_at, "finished_at": self.finished_at,
                "targets": self.targets, "accounts": self.accounts, "regions": self.regions,
                "config": self.config,
                "skipped": [{"target": s.target, "reason": s.reason} for s in self.skipped],
                "duration_s": self.duration_s, "api_calls": self.api_calls, "notices": self.notices}


@dataclass(frozen=True, slots=True)
class Summary:
    __pydantic_config__ = FORBID

    fail: dict[str, int]
    pass_: int
    error: int
    unknown: int
    suppressed: int

    def to_dict(self) -> dict[str, Any]:
        return {"fail": self.fail, "pass": self.pass_, "error": self.error, "unknown": self.unknown,
                "suppressed": self.suppressed}


@dataclass(frozen=True)
class FindingsDocument:
    __pydantic_config__ = FORBID

    tool: ToolInfo
    scan: ScanInfo
    summary: Summary
    findings: list[Finding]
    errors: list[ErrorEntry] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        out = io.StringIO()
        self.write_json(out)
        return out.getvalue()

    def write_json(self, out: TextIO) -> None:
        """Indented head, then one finding a line, written as encoded: C-speed encoding for big
        scans, no second copy of the document in memory, and greppable, diffable lines."""
        head = json.dumps({
            "schema_version": self.schema_version,
            "tool": {"name": self.tool.name, "version": self.tool.version},
            "scan": self.scan.to_dict(),
            "summary": self.summary.to_dict(),
        }, indent=2, ensure_ascii=False, default=_jsonable)
        encode = json.JSONEncoder(ensure_ascii=False, default=_jsonable).encode
        out.write(head[:-2] + ',\n  "findings": [')
        separator = "\n    "
        for finding in self.findings:
            out.write(separator + encode(finding.to_dict()))
            separator = ",\n    "
        out.write("\n  ],\n" if self.findings else "],\n")
        errors = json.dumps([e.to_dict() for e in self.errors],
                            indent=2, ensure_ascii=False).replace("\n", "\n  ")
        out.write(f'  "errors": {errors}\n}}\n')


def _jsonable(value: Any) -> Any:
    """Evidence may hold tuples' cousins: sets become sorted lists, anything else its text."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


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
    return Summary(fail=fail, pass_=counts[Status.PASS], error=counts[Status.ERROR],
                   unknown=counts[Status.UNKNOWN], suppressed=suppressed)


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
    summary = raw.get("summary")
    if isinstance(summary, dict) and "pass" in summary and "pass_" not in summary:
        raw["summary"] = {("pass_" if k == "pass" else k): v for k, v in summary.items()}
    try:
        return validate(FindingsDocument, raw)
    except Invalid as exc:
        loc = ".".join("pass" if p == "pass_" else str(p) for p in exc.loc)
        message = "unknown key" if exc.kind == EXTRA else exc.message
        raise FindingsFileError(f"{path}: {loc}: {message}") from exc


def exit_status(doc: FindingsDocument, fail_on: Severity | None, allow_partial: bool) -> int:
    """0/1/3 of cli.md; 3 wins over 1. fail_on None means 'never'."""
    incomplete = bool(doc.errors) or any(f.status is Status.ERROR and f.suppressed is None for f in doc.findings)
    if incomplete and not allow_partial:
        return 3
    if fail_on is not None and any(
            f.counts_as_failure and f.severity.rank >= fail_on.rank for f in doc.findings):
        return 1
    return 0
