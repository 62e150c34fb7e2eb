"""The terminal report: a table of failures (and errors) and a one-line summary."""

from __future__ import annotations

from sagefence.findings import Finding, FindingsDocument
from sagefence.status import SEVERITIES, Status

_COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[2m"}
_RESET = "\033[0m"


def _where(f: Finding) -> str:
    r = f.resource
    if r.file:
        return f"{r.file}:{r.line}" if r.line else r.file
    parts = [p for p in (r.account, r.region) if p]
    return "/".join(parts)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [min(max(len(row[i]) for row in rows), 60) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(len(widths))]
        lines.append("  ".join(cells + [row[-1]]).rstrip())
    return lines


def render_text(doc: FindingsDocument, color: bool = False) -> str:
    shown = [f for f in doc.findings if f.suppressed is None and f.status in (Status.FAIL, Status.ERROR)]
    shown.sort(key=lambda f: (f.status is not Status.FAIL, -f.severity.rank, f.rule_id, _where(f), f.resource.id))
    lines: list[str] = []
    if shown:
        rows = [["SEVERITY", "RULE", "STATUS", "RESOURCE", "WHERE", "MESSAGE"]]
        for f in shown:
            rows.append([f.severity.value, f.rule_id, f.status.value, f.resource.id, _where(f), f.message])
        table = _table(rows)
        if color:
            table = [_COLORS.get(row[0], "") + line + _RESET if i else line
                     for i, (row, line) in enumerate(zip(rows, table, strict=True))]
        lines.extend(table)
        lines.append("")
    for entry in doc.errors:
        lines.append(f"error: {entry.target}: {entry.message}")
    for skipped in doc.scan.skipped:
        lines.append(f"skipped: {skipped.target}: {skipped.reason}")
    for notice in doc.scan.notices:
        lines.append(f"notice: {notice}")
    s = doc.summary
    fails = ", ".join(f"{s.fail[sev.value]} {sev.value}" for sev in SEVERITIES if s.fail[sev.value])
    total_fail = sum(s.fail.values())
    lines.append(f"{total_fail} failed" + (f" ({fails})" if fails else "") +
                 f", {s.pass_} passed, {s.error} errors, {s.unknown} unknown, {s.suppressed} suppressed"
                 f" — {len(doc.findings)} checks in {doc.scan.duration_s:.2f}s")
    return "\n".join(lines) + "\n"
