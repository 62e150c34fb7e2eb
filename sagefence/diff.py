"""Compare two findings documents: which failures are new, resolved or unchanged.

Findings are matched by ``Finding.fingerprint`` (rule, resource, account, region and
the VPCE-002 service), never by message, so a reworded message is not a new failure.
Only unsuppressed ``fail`` findings count as failures. An old failure that is still
failing but now suppressed, or that could not be checked in the new run (``error`` /
``unknown``), is reported apart rather than as resolved.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sagefence.findings import Finding, FindingsDocument
from sagefence.status import Severity, Status

DIFF_SCHEMA_VERSION = 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class DiffResult:
    new: tuple[Finding, ...]
    resolved: tuple[Finding, ...]
    unchanged: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    """Old failures that still fail in the new document but are suppressed there."""
    unverified: tuple[Finding, ...]
    """Old failures whose check ended in error or unknown in the new document."""


def _order(finding: Finding) -> tuple[int, str, str, str, str]:
    res = finding.resource
    return (-finding.severity.rank, finding.rule_id, res.account or "", res.region or "", res.id)


def _failures(doc: FindingsDocument) -> dict[str, Finding]:
    failures: dict[str, Finding] = {}
    for finding in doc.findings:
        if finding.counts_as_failure:
            failures.setdefault(finding.fingerprint, finding)
    return failures


def diff_documents(old: FindingsDocument, new: FindingsDocument) -> DiffResult:
    old_fail = _failures(old)
    new_fail = _failures(new)
    new_by_fp: dict[str, Finding] = {}
    for finding in new.findings:
        new_by_fp.setdefault(finding.fingerprint, finding)

    resolved, suppressed, unverified = [], [], []
    for fp, finding in old_fail.items():
        if fp in new_fail:
            continue
        now = new_by_fp.get(fp)
        if now is not None and now.status is Status.FAIL:
            suppressed.append(now)
        elif now is not None and now.status in (Status.ERROR, Status.UNKNOWN):
            unverified.append(now)
        else:
            resolved.append(finding)
    return DiffResult(
        new=tuple(sorted((f for fp, f in new_fail.items() if fp not in old_fail), key=_order)),
        resolved=tuple(sorted(resolved, key=_order)),
        unchanged=tuple(sorted((f for fp, f in new_fail.items() if fp in old_fail), key=_order)),
        suppressed=tuple(sorted(suppressed, key=_order)),
        unverified=tuple(sorted(unverified, key=_order)),
    )


def diff_exit_status(result: DiffResult, fail_on: Severity | None) -> int:
    """1 when a new failure is at or above ``fail_on``; ``None`` means never."""
    if fail_on is None:
        return 0
    return 1 if any(f.severity.rank >= fail_on.rank for f in result.new) else 0


def _printable(text: str) -> str:
    """Finding text comes from templates and APIs: never let it drive the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _where(finding: Finding) -> str:
    res = finding.resource
    parts = [res.id]
    if finding.evidence.get("service"):
        parts.append(f"service {finding.evidence['service']}")
    if res.account or res.region:
        parts.append("/".join(p for p in (res.account, res.region) if p))
    if res.file:
        parts.append(f"{res.file}:{res.line}" if res.line else res.file)
    return "  ".join(parts)


_SECTIONS = (
    ("new", "New failures"),
    ("resolved", "Resolved"),
    ("suppressed", "Now suppressed (still failing)"),
    ("unverified", "Not verified in the new scan (error or unknown)"),
    ("unchanged", "Unchanged failures"),
)


def render_diff_text(result: DiffResult) -> str:
    lines = [
        f"sagefence diff: {len(result.new)} new, {len(result.resolved)} resolved, "
        f"{len(result.unchanged)} unchanged failures"
        f" ({len(result.suppressed)} now suppressed, {len(result.unverified)} not verified)"
    ]
    for attr, heading in _SECTIONS:
        findings: tuple[Finding, ...] = getattr(result, attr)
        if not findings:
            continue
        lines.append("")
        lines.append(f"{heading} ({len(findings)}):")
        for f in findings:
            lines.append(_printable(f"  {f.severity.value.upper():<8} {f.rule_id:<9} {_where(f)}"))
            if attr != "unchanged":
                lines.append(f"  {'':<8} {'':<9} {_printable(f.message)}")
    return "\n".join(lines) + "\n"


def _entry(finding: Finding) -> dict[str, Any]:
    data = finding.to_dict()
    data["fingerprint"] = finding.fingerprint
    return data


def render_diff_json(result: DiffResult) -> str:
    doc: dict[str, Any] = {
        "schema_version": DIFF_SCHEMA_VERSION,
        "summary": {attr: len(getattr(result, attr)) for attr, _ in _SECTIONS},
    }
    for attr, _ in _SECTIONS:
        doc[attr] = [_entry(f) for f in getattr(result, attr)]
    return json.dumps(doc, indent=2) + "\n"
