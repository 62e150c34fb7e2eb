"""The rule engine: selected rules x inventory -> findings.

Checks may raise; the engine turns that into an `error` finding for that rule and
resource and goes on. ``UnknownInput`` becomes `unknown`. Template groups evaluated under
several condition assignments are merged per (rule, resource): the worst status wins and
a failure names the assignment that produces it.
"""

from __future__ import annotations

import fnmatch
import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from sagefence.catalogue import Rule
from sagefence.checks import Result
from sagefence.config import Config
from sagefence.findings import ErrorEntry, Finding, ResourceRef, Suppression
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Generic, Located
from sagefence.inventory.raw import ListingFailure, RawResource
from sagefence.status import Severity, SourceKind, Status
from sagefence.values import InputError, UnknownInput

CheckFunction = Callable[[Located, Inventory, Mapping[str, Any]], Iterable[Result]]
_STATUS_ORDER = {Status.PASS: 0, Status.UNKNOWN: 1, Status.ERROR: 2, Status.FAIL: 3}


@dataclass(frozen=True)
class SelectedRule:
    rule: Rule
    severity: Severity
    params: Mapping[str, Any]
    function: CheckFunction | None
    expression: Any  # compiled JMESPath for assert rules


class RuleSelectionError(Exception):
    """--rules / --skip-rules naming an unknown id, or a check that cannot be imported."""


def _import_check(rule: Rule, rules_dirs: Sequence[Path]) -> CheckFunction:
    assert rule.check is not None
    module_name, _, function_name = rule.check.rpartition(".")
    candidates = [f"sagefence.checks.{module_name}", module_name]
    for path in rules_dirs:
        if str(path) not in sys.path:
            sys.path.append(str(path))
    for candidate in candidates:
        try:
            module = importlib.import_module(candidate)
        except ModuleNotFoundError as exc:
            if exc.name == candidate or (exc.name and candidate.startswith(exc.name + ".")):
                continue
            raise
        function = getattr(module, function_name, None)
        if callable(function):
            return function
        raise RuleSelectionError(f"{rule.file}: {rule.id}: {candidate} has no function {function_name!r}")
    raise RuleSelectionError(f"{rule.file}: {rule.id}: check module {module_name!r} not found")


def select_rules(catalogue: Mapping[str, Rule], config: Config, *, only: Sequence[str] = (),
                 skip: Sequence[str] = (), source: SourceKind, rules_dirs: Sequence[Path] = ()) -> list[SelectedRule]:
    for rule_id in [*only, *skip]:
        if rule_id not in catalogue:
            raise RuleSelectionError(f"unknown rule id {rule_id!r}")
    selected: list[SelectedRule] = []
    for rule in catalogue.values():
        override = config.rules.get(rule.id)
        if only and rule.id not in only or rule.id in skip:
            continue
        if override is not None and not override.enabled and rule.id not in only:
            continue
        if source not in rule.sources:
            continue
        params = {**rule.params, **(override.params if override else {})}
        unknown_params = set(params) - set(rule.params)
        if unknown_params:
            raise RuleSelectionError(f"rules.{rule.id}.params: unknown parameter(s) {sorted(unknown_params)}")
        severity = override.severity if override and override.severity else rule.severity
        function = _import_check(rule, rules_dirs) if rule.check else None
        expression = None
        if rule.assert_ is not None:
            import jmespath

            expression = jmespath.compile(rule.assert_)
        selected.append(SelectedRule(rule, severity, params, function, expression))
    return selected


@dataclass
class _Accumulated:
    result: Result
    raw: RawResource  # without properties: a finding needs only where the resource is
    variant: str | None
    all_variants_fail: bool = True


@dataclass
class Evaluation:
    """Findings accumulated over the inventories of one scan."""

    rules: Sequence[SelectedRule]
    config: Config
    today: date = field(default_factory=date.today)
    errors: list[ErrorEntry] = field(default_factory=list)
    _acc: dict[tuple[str, ...], _Accumulated] = field(default_factory=dict)
    _light: dict[int, RawResource] = field(default_factory=dict)
    _variant_counts: dict[tuple[str, ...], int] = field(default_factory=dict)

    def run(self, inventory: Inventory, variant: str | None = None,
            rules: Sequence[SelectedRule] | None = None) -> None:
        self._light = {}
        for selected in self.rules if rules is None else rules:
            types = selected.rule.resource_types
            for resource in inventory.of_type(*types):
                for result in self._evaluate(selected, resource, inventory):
                    self._record(selected, result.resource or resource, result, variant)
            for raw in inventory.broken:
                if raw.type in types or raw.type == "Unknown":
                    broken = Result(Status.ERROR, f"resource could not be read: {raw.extra['broken']}")
                    self._record(selected, Generic(raw), broken, None)
        self._report_uncovered(inventory)

    def _report_uncovered(self, inventory: Inventory) -> None:
        """A broken resource no rule sits on (a bucket policy, an IAM policy, an ingress rule) still changes
        what other rules see: it is an `errors` entry, so the scan cannot look complete."""
        covered = {t for selected in self.rules for t in selected.rule.resource_types}
        for raw in inventory.broken:
            if raw.type in covered or raw.type == "Unknown":
                continue
            entry = ErrorEntry(target=str(raw.file or raw.id), line=raw.line if raw.file else None,
                               message=f"{raw.id} ({raw.type}) could not be read: {raw.extra['broken']}")
            if entry not in self.errors:
                self.errors.append(entry)

    def _evaluate(self, selected: SelectedRule, resource: Located, inventory: Inventory) -> list[Result]:
        try:
            if selected.function is not None:
                return list(selected.function(resource, inventory, selected.params))
            return [_assert(selected, resource)]
        except UnknownInput as exc:
            return [Result(Status.UNKNOWN, str(exc))]
        except InputError as exc:
            return [Result(Status.ERROR, str(exc))]
        except Exception as exc:  # noqa: BLE001 - a failing check must not stop the scan
            return [Result(Status.ERROR, f"{type(exc).__name__}: {exc}")]

    def _record(self, selected: SelectedRule, resource: Located, result: Result, variant: str | None) -> None:
        raw = resource.raw
        key = (selected.rule.id, raw.file or "", raw.account or "", raw.region or "", raw.id, result.key or "")
        current = self._acc.get(key)
        if current is None:
            self._acc[key] = _Accumulated(result, self._located(raw), variant, result.status is Status.FAIL)
            return
        current.all_variants_fail = current.all_variants_fail and result.status is Status.FAIL
        if _STATUS_ORDER[result.status] > _STATUS_ORDER[current.result.status]:
            current.result, current.raw, current.variant = result, self._located(raw), variant

    def withdraw_passes(self, files: set[str], reason: str) -> None:
        """What files reported as pass or unknown, from a part of their evaluation only, becomes an error."""
        for key, acc in self._acc.items():
            if key[1] in files and acc.result.status in (Status.PASS, Status.UNKNOWN):
                acc.result = Result(Status.ERROR, reason)

    def _located(self, raw: RawResource) -> RawResource:
        """The resource without its properties, so a large scan does not keep every resolved template alive."""
        light = self._light.get(id(raw))
        if light is None:
            light = replace(raw, properties={}, extra={})
            self._light[id(raw)] = light
        return light

    def add_listing_failure(self, failure: ListingFailure) -> None:
        message = f"{failure.operation} failed in account {failure.account}, region {failure.region}: {failure.message}"
        self.errors.append(ErrorEntry(target=failure.scope_id, message=message))
        for selected in self.rules:
            if failure.resource_type in (*selected.rule.resource_types, *selected.rule.depends_on):
                raw = RawResource(type=failure.resource_type, id=failure.scope_id, properties={},
                                  source=SourceKind.ACCOUNT, account=failure.account,
                                  region=None if failure.region == "global" else failure.region)
                self._record(selected, Generic(raw), Result(
                    Status.ERROR, f"not evaluated: {message}; nothing of this type in this scope is reported as pass"),
                    None)

    def findings(self) -> list[Finding]:
        out: list[Finding] = []
        by_rule = {s.rule.id: s for s in self.rules}
        while self._acc:  # consumed as the findings are built, so both do not sit in memory at once
            key, acc = self._acc.popitem()
            selected = by_rule[key[0]]
            result, raw = acc.result, acc.raw
            message = result.message
            if result.status is Status.FAIL and acc.variant and not acc.all_variants_fail:
                message = f"{message} (when {acc.variant})"
            evidence = dict(result.evidence)
            if acc.variant and result.status is Status.FAIL:
                evidence.setdefault("conditions", acc.variant)
            suppressed, expired = self._suppression(selected.rule.id, raw)
            if expired is not None and result.status is not Status.PASS:
                evidence["expired_suppression"] = {"reason": expired.reason, "expires": expired.expires,
                                                   "source": expired.source}
                message = f"{message} (its suppression expired on {expired.expires}: {expired.reason})"
            finding = Finding(
                rule_id=selected.rule.id, title=selected.rule.title, severity=selected.severity,
                status=result.status,
                resource=ResourceRef(type=raw.type, id=str(raw.id), account=raw.account, region=raw.region,
                                     file=raw.file, line=raw.line),
                message=str(message), evidence=evidence, remediation=selected.rule.remediation.strip(),
                suppressed=suppressed,
            )
            out.append(finding)
        out.sort(key=lambda f: (f.resource.file or "", f.resource.account or "", f.resource.region or "",
                                f.resource.line or 0, f.resource.id, f.rule_id, str(f.evidence.get("service", ""))))
        return out

    def _suppression(self, rule_id: str, raw: RawResource) -> tuple[Suppression | None, Suppression | None]:
        """(the suppression that applies, else the expired one that would have), config before template."""
        names = {raw.id, *([raw.arn] if raw.arn else [])}
        expired: Suppression | None = None
        for sup in self.config.suppressions:
            if sup.rule != rule_id or not any(fnmatch.fnmatchcase(name, sup.resource) for name in names):
                continue
            found = Suppression(reason=sup.reason, expires=sup.expires.isoformat() if sup.expires else None,
                                source="config")
            if sup.expires is None or sup.expires >= self.today:
                return found, None
            expired = expired or found
        for inline in raw.suppressions:
            if inline.rule != rule_id:
                continue
            found = Suppression(reason=inline.reason, expires=inline.expires.isoformat() if inline.expires else None,
                                source="template")
            if inline.expires is None or inline.expires >= self.today:
                return found, None
            expired = expired or found
        return None, expired


def _assert(selected: SelectedRule, resource: Located) -> Result:
    from sagefence.assertions import evaluate_assert

    outcome = evaluate_assert(selected.expression, resource.raw.properties)
    message = selected.rule.assert_message or selected.rule.title
    if outcome.message:
        message = f"{message}: {outcome.message}"
    return Result(outcome.status, message)
