"""The terminal report: a table of failures, what could not be examined, what is not known, a summary line.

Every piece of scanned text goes through ``visible``: ids, names and messages may carry
control characters, and a report must not let them drive the terminal.
"""

from __future__ import annotations

from sagefence.findings import ErrorEntry, Finding, FindingsDocument
from sagefence.reports.visible import visible
from sagefence.status import SEVERITIES, Status

_COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[2m"}
_RESET = "\033[0m"
LIST_CAP = 20  # errors and unknowns listed in full up to this many each, then "and N more"


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


def _failures(doc: FindingsDocument, color: bool) -> list[str]:
    shown = [f for f in doc.findings if f.counts_as_failure]
    if not shown:
        return []
    shown.sort(key=lambda f: (-f.severity.rank, f.rule_id, _where(f), f.resource.id))
    rows = [["SEVERITY", "RULE", "STATUS", "RESOURCE", "WHERE", "MESSAGE"]]
    for f in shown:
        rows.append([visible(cell) for cell in
                     (f.severity.value, f.rule_id, f.status.value, f.resource.id, _where(f), f.message)])
    table = _table(rows)
    if color:
        table = [_COLORS.get(row[0], "") + line + _RESET if i else line
                 for i, (row, line) in enumerate(zip(rows, table, strict=True))]
    return [*table, ""]


def _error_line(entry: ErrorEntry) -> str:
    if not entry.line:
        return visible(f"{entry.target}: {entry.message}")
    message = entry.message.removeprefix(f"line {entry.line}: ")  # the reader's messages name the line too
    return visible(f"{entry.target}:{entry.line}: {message}")


def _finding_line(f: Finding) -> str:
    where = _where(f)
    return visible(f"{f.rule_id} {f.resource.id}" + (f" ({where})" if where else "") + f": {f.message}")


def _section(name: str, meaning: str, items: list[str]) -> list[str]:
    if not items:
        return []
    lines = [f"{name} ({len(items)}): {meaning}"] + [f"  {item}" for item in items[:LIST_CAP]]
    if len(items) > LIST_CAP:
        lines.append(f"  ... and {len(items) - LIST_CAP} more")
    return lines


def _open(doc: FindingsDocument, status: Status) -> list[Finding]:
    found = [f for f in doc.findings if f.status is status and f.suppressed is None]
    return sorted(found, key=lambda f: (f.rule_id, _where(f), f.resource.id))


def render_text(doc: FindingsDocument, color: bool = False) -> str:
    lines = _failures(doc, color)
    errors = [_error_line(e) for e in doc.errors] + [_finding_line(f) for f in _open(doc, Status.ERROR)]
    lines += _section("errors", "could not be examined", errors)
    lines += _section("unknown", "neither pass nor fail: what was not known", [
        _finding_line(f) for f in _open(doc, Status.UNKNOWN)])
    for skipped in doc.scan.skipped:
        lines.append(visible(f"skipped: {skipped.target}: {skipped.reason}"))
    for notice in doc.scan.notices:
        lines.append(visible(f"notice: {notice}"))
    s = doc.summary  # errors: findings with status error and `errors` entries alike
    fails = ", ".join(f"{s.fail[sev.value]} {sev.value}" for sev in SEVERITIES if s.fail[sev.value])
    total_fail = sum(s.fail.values())
    lines.append(f"{total_fail} failed" + (f" ({fails})" if fails else "") +
                 f", {s.pass_} passed, {s.error + len(doc.errors)} errors, {s.unknown} unknown, {s.suppressed} suppressed"
                 f" — {len(doc.findings)} checks in {doc.scan.duration_s:.2f}s")
    return "\n".join(lines) + "\n"
