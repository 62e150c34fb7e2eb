"""A self-contained HTML report: summary, chart, tables, filters and per-finding details.

Rendered with jinja2 and autoescaping on; the page needs no network (a
Content-Security-Policy with ``default-src 'none'`` and hashes of the one inline style
and the one inline script enforces it). The script reads its data from ``data-*``
attributes only, so no finding text ever reaches JavaScript as code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from sagefence.catalogue import Rule
from sagefence.findings import Finding, FindingsDocument
from sagefence.status import SEVERITIES

TEMPLATES = Path(__file__).parent / "templates"
STATUSES = ("fail", "error", "unknown", "suppressed", "pass")
PLACE_KEYS = ("critical", "high", "medium", "low", "info", "pass", "error", "unknown", "suppressed")
RULE_KEYS = ("fail", "pass", "error", "unknown", "suppressed")
_STATUS_ORDER = {s: i for i, s in enumerate(STATUSES)}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    csp = (f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(script)}; "
           "img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'")
    return css, script, csp


def effective_status(finding: Finding) -> str:
    return "suppressed" if finding.suppressed is not None else finding.status.value


def _pretty(value: Any) -> Any:
    """Pretty-print JSON held in strings too (policy documents are often kept as text)."""
    if isinstance(value, dict):
        return {str(k): _pretty(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pretty(v) for v in value]
    if isinstance(value, str) and value[:1] in ("{", "[") and len(value) < 200_000:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _evidence(evidence: dict[str, Any]) -> str:
    if not evidence:
        return ""
    return json.dumps(_pretty(evidence), indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _where(finding: Finding) -> list[str]:
    res = finding.resource
    parts = []
    if res.account or res.region:
        parts.append(" / ".join(p for p in (res.account, res.region) if p))
    if res.file:
        parts.append(f"{res.file}:{res.line}" if res.line else res.file)
    return parts


def _suppression(finding: Finding) -> str:
    sup = finding.suppressed
    if sup is None:
        return ""
    expires = f", expires {sup.expires}" if sup.expires else ", no expiry"
    return f"{sup.reason} ({sup.source}{expires})"


def _row(finding: Finding, rule: Rule | None) -> dict[str, Any]:
    res = finding.resource
    return {
        "severity": finding.severity.value,
        "status": effective_status(finding),
        "rule_id": finding.rule_id,
        "title": finding.title or (rule.title if rule else ""),
        "resource_id": res.id,
        "resource_type": res.type,
        "service": str(finding.evidence.get("service") or ""),
        "account": res.account or "",
        "where": _where(finding),
        "message": finding.message,
        "suppression": _suppression(finding),
        "evidence": _evidence(finding.evidence),
        "remediation": finding.remediation or (rule.remediation if rule else ""),
    }


@dataclass
class _Counts:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLACE_KEYS + ("fail",), 0))

    def add(self, finding: Finding) -> None:
        status = effective_status(finding)
        self.values[status] += 1
        if status == "fail":
            self.values[finding.severity.value] += 1


def _grouped(findings: Iterable[Finding], key: Callable[[Finding], Hashable]) -> dict[Any, _Counts]:
    groups: dict[Any, _Counts] = {}
    for finding in findings:
        groups.setdefault(key(finding), _Counts()).add(finding)
    return groups


def _chart(findings: list[Finding]) -> dict[str, Any]:
    """Horizontal stacked bars: one per rule family, one segment per severity."""
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        if f.counts_as_failure:
            family = f.rule_id.split("-", 1)[0]
            per = counts.setdefault(family, dict.fromkeys((s.value for s in SEVERITIES), 0))
            per[f.severity.value] += 1
    left, span, row_h, top = 90, 480, 28, 28
    biggest = max((sum(c.values()) for c in counts.values()), default=0)
    bars = []
    for i, family in enumerate(sorted(counts)):
        x, segments = float(left), []
        for severity, count in counts[family].items():
            if count:
                width = round(span * count / biggest, 2)
                segments.append({"severity": severity, "count": count, "x": round(x, 2), "width": width})
                x += width
        bars.append({"family": family, "y": top + i * row_h, "segments": segments,
                     "total": sum(counts[family].values()), "end": round(x, 2)})
    legend = [{"severity": s.value, "x": left + i * 90} for i, s in enumerate(SEVERITIES)]
    return {"bars": bars, "legend": legend, "left": left, "width": left + span + 50,
            "height": top + len(bars) * row_h + 4}


def _cards(doc: FindingsDocument) -> list[dict[str, Any]]:
    summary = doc.summary
    cards = [{"key": f"fail-{s.value}", "label": f"{s.value} failures", "cls": f"sev-{s.value}",
              "count": summary.fail.get(s.value, 0)} for s in SEVERITIES]
    for key, count in (("pass", summary.pass_), ("error", summary.error), ("unknown", summary.unknown),
                       ("suppressed", summary.suppressed)):
        cards.append({"key": key, "label": key, "cls": f"st-{key}", "count": count})
    return cards


def _sort_key(finding: Finding) -> tuple[int, int, str, str, str, str]:
    res = finding.resource
    return (_STATUS_ORDER[effective_status(finding)], -finding.severity.rank, finding.rule_id,
            res.account or "", res.region or "", res.id)


def _context(doc: FindingsDocument, rules: Mapping[str, Rule]) -> dict[str, Any]:
    findings = sorted(doc.findings, key=_sort_key)
    samples: dict[str, Finding] = {}
    for finding in findings:
        samples.setdefault(finding.rule_id, finding)
    by_rule = []
    for rule_id, counts in sorted(_grouped(findings, lambda f: f.rule_id).items()):
        rule, sample = rules.get(rule_id), samples[rule_id]
        by_rule.append({"id": rule_id, "title": rule.title if rule else sample.title,
                        "severity": (rule.severity if rule else sample.severity).value,
                        "description": rule.description if rule else "", "counts": counts.values})
    by_account = []
    if any(f.resource.account or f.resource.region for f in findings):
        groups = _grouped(findings, lambda f: (f.resource.account or "", f.resource.region or ""))
        by_account = [{"account": a, "region": r, "counts": c.values} for (a, r), c in sorted(groups.items())]
    by_file = []
    if any(f.resource.file for f in findings):
        groups = _grouped((f for f in findings if f.resource.file), lambda f: f.resource.file)
        by_file = [{"file": name, "counts": c.values} for name, c in sorted(groups.items())]
    present_status = {effective_status(f) for f in findings}
    options = {
        "severity": [s.value for s in SEVERITIES],
        "status": [s for s in STATUSES if s in present_status] or list(STATUSES),
        "rule": sorted({f.rule_id for f in findings}),
        "account": sorted({f.resource.account for f in findings if f.resource.account}),
    }
    return {
        "doc": doc, "cards": _cards(doc), "chart": _chart(findings), "by_rule": by_rule,
        "by_account": by_account, "by_file": by_file, "options": options,
        "rows": [_row(f, rules.get(f.rule_id)) for f in findings],
        "place_keys": PLACE_KEYS, "rule_keys": RULE_KEYS,
    }


def render_html(doc: FindingsDocument, rules: Mapping[str, Rule] | None = None) -> str:
    css, script, csp = _assets()
    context = _context(doc, rules or {})
    template = _environment().get_template("report.html.j2")
    return template.render(css=Markup(css), script=Markup(script), csp=csp, **context)

