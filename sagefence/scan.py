"""Scans: a source, the inventory, the engine, and the findings document."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sagefence import __version__
from sagefence.config import Config
from sagefence.engine import Evaluation, SelectedRule
from sagefence.findings import ErrorEntry, FindingsDocument, ScanInfo, SkippedEntry, ToolInfo, summarize
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Role
from sagefence.reports.visible import visible
from sagefence.status import SourceKind

# What rules that read roles of every template (whole_scan) need of each template.
_IAM_TYPES = frozenset({"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
                        "AWS::CloudFormation::Stack"})
_LINE_PREFIX = re.compile(r"line (\d+): ")


class NoTemplates(Exception):
    """The paths hold no template to examine (an empty folder, only files that are not templates): the scan
    checked nothing, which must not look like a clean result."""


def _nothing_found(paths: Sequence[str], skipped: int) -> str:
    where = ", ".join(visible(p) for p in paths)
    why = (f"{skipped} file{'s' if skipped != 1 else ''} skipped as not templates" if skipped
           else "no .yaml, .yml, .json or .template file")
    return f"no CloudFormation template found in {where} ({why}): nothing was scanned"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class ScanContext:
    config: Config
    rules: Sequence[SelectedRule]
    config_summary: Mapping[str, Any] = field(default_factory=dict)
    today: date = field(default_factory=date.today)
    # Seconds one file (one group of linked templates) may take: past it the condition assignments not
    # yet evaluated are not, and what the file reported as pass or unknown becomes an error.
    file_budget_s: float = 120.0


def scan_templates(paths: Sequence[str], ctx: ScanContext, skip_non_templates: bool = False) -> FindingsDocument:
    from sagefence.sources import cloudformation as cfn

    started, clock = _now(), time.perf_counter()
    loaded = cfn.load(paths, skip_non_templates=skip_non_templates)
    if not loaded.templates and not loaded.errors and not skip_non_templates:
        raise NoTemplates(_nothing_found(paths, len(loaded.skipped)))
    evaluation = Evaluation(ctx.rules, ctx.config, today=ctx.today)
    config = ctx.config
    extra_roles: dict[str, Role] = {}
    seen_problems: set[ErrorEntry] = set()
    per_group = [s for s in ctx.rules if not s.rule.whole_scan]
    whole_scan = [s for s in ctx.rules if s.rule.whole_scan]
    deferred: list[tuple[Inventory, str | None]] = []
    for group in cfn.group_templates(loaded.templates, config.account_id, config.region):
        group_started, evaluated = time.perf_counter(), 0
        try:
            for variant in cfn.variants(group, account_id=config.account_id, region=config.region):
                if evaluated and time.perf_counter() - group_started >= ctx.file_budget_s:
                    _over_budget(evaluation, group, evaluated, ctx.file_budget_s)
                    break
                evaluated += 1
                inventory = Inventory(variant.resources, config=config, source=SourceKind.TEMPLATES,
                                      scan_date=ctx.today, extra_roles=extra_roles)
                evaluation.run(inventory, variant.describe(), per_group)
                for role in inventory.of_type("AWS::IAM::Role"):
                    if isinstance(role, Role):
                        extra_roles.setdefault(role.arn, role)
                if whole_scan:
                    iam = [r for r in variant.resources if r.type in _IAM_TYPES]
                    deferred.append((Inventory(iam, config=config, source=SourceKind.TEMPLATES, scan_date=ctx.today,
                                               extra_roles=extra_roles), variant.describe()))
                for raw in variant.resources:
                    for problem in raw.extra.get("suppression_problems", ()):
                        entry = ErrorEntry(target=str(raw.file), line=raw.line, message=f"{raw.id}: {problem}")
                        if entry not in seen_problems:
                            seen_problems.add(entry)
                            evaluation.errors.append(entry)
        except (cfn.TemplateReadError, *cfn.UNEXPECTED_SHAPE) as exc:
            # A group that cannot be evaluated costs its own findings only: every other file still reports.
            reason = str(exc) if isinstance(exc, cfn.TemplateReadError) else f"{type(exc).__name__}: {str(exc)[:200]}"
            for template in group:
                evaluation.errors.append(ErrorEntry(target=template.label, message=f"could not be evaluated: {reason}"))
        for template in group:
            template.release()
    for inventory, assignment in deferred:
        evaluation.run(inventory, assignment, whole_scan)
    errors = [_read_error(t, m) for t, m in loaded.errors] + evaluation.errors
    scan = ScanInfo(source=SourceKind.TEMPLATES.value, started_at=started, finished_at=_now(),
                    targets=list(paths), accounts=[config.account_id], regions=[config.region],
                    config=dict(ctx.config_summary),
                    skipped=[SkippedEntry(target=t, reason=r) for t, r in loaded.skipped],
                    duration_s=round(time.perf_counter() - clock, 3))
    return _document(scan, evaluation, errors)


def _over_budget(evaluation: Evaluation, group: Sequence[Any], evaluated: int, budget: float) -> None:
    labels = [t.label for t in group]
    reason = (f"evaluation stopped after {budget:g} s, its time budget: only {evaluated} condition "
              "assignment(s) were evaluated, so nothing here is reported as pass")
    evaluation.withdraw_passes(set(labels), reason)
    for label in labels:
        evaluation.errors.append(ErrorEntry(target=label, message=reason))


def _read_error(target: str, message: str) -> ErrorEntry:
    """A file that could not be read; the reader puts the line, where known, at the head of its message."""
    match = _LINE_PREFIX.match(message)
    return ErrorEntry(target=target, message=message, line=int(match.group(1)) if match else None)


def _document(scan: ScanInfo, evaluation: Evaluation, errors: list[ErrorEntry]) -> FindingsDocument:
    findings = evaluation.findings()
    return FindingsDocument(tool=ToolInfo(version=__version__), scan=scan, summary=summarize(findings),
                            findings=findings, errors=errors)
