"""SARIF 2.1.0: one result per unsuppressed failure, for code-scanning services.

An unsuppressed ``unknown`` finding is a result of kind ``review`` (level ``none``): a person
must look. What could not be examined (``errors`` entries, ``error`` findings) is an error
notification of the invocation, which is then not ``executionSuccessful``.

Template findings carry a physical location (relative file URI with forward slashes and
the start line) so pull requests get annotated; live findings carry a logical location
(the ARN or id, kind ``resource``). ``partialFingerprints`` holds ``Finding.fingerprint``,
which is stable across runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import quote

from sagefence.catalogue import Rule
from sagefence.findings import ErrorEntry, Finding, FindingsDocument
from sagefence.status import Severity, Status

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/sagefence/sagefence"
FINGERPRINT_KEY = "sagefence/v1"

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning buckets: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _rule_name(title: str, rule_id: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words) or rule_id.replace("-", "")


def _markdown_block(text: str) -> str:
    """Prose stays markdown; a CloudFormation snippet (indented lines, ``Key:`` lines) is fenced."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    snippet = bool(lines) and (lines[0].rstrip().endswith(":") or any(line[:1] in (" ", "\t") for line in lines))
    if not snippet:
        return text.strip()
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text.strip("\n")
    return f"{fence}yaml\n{body}\n{fence}"


def _descriptor(rule_id: str, sample: Finding, rule: Rule | None) -> dict[str, Any]:
    title = rule.title if rule else sample.title
    severity = rule.severity if rule else sample.severity
    remediation = (rule.remediation if rule else sample.remediation) or "No remediation recorded."
    description = rule.description if rule and rule.description else title
    references = list(rule.references) if rule else []
    markdown = f"**Remediation**\n\n{_markdown_block(remediation)}"
    if references:
        markdown += "\n\n**References**\n\n" + "\n".join(f"- <{ref}>" for ref in references)
    tags = ["security", "sagefence", rule_id.split("-", 1)[0].lower()]
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": _rule_name(title, rule_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": description},
        "help": {"text": remediation, "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"security-severity": SECURITY_SEVERITY[severity], "severity": severity.value,
                       "tags": tags},
    }
    if references:
        descriptor["helpUri"] = references[0]
    return descriptor


def artifact_uri(file: str) -> str:
    """A URI reference for a template path: relative, forward slashes, percent-encoded."""
    if PureWindowsPath(file).drive or file.startswith(("/", "\\")):
        path = Path(file)
        try:
            file = path.resolve().relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            return path.resolve().as_uri()
    posix = file.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    return quote(posix, safe="/")


def _physical(file: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(file)}}
    if line is not None and line >= 1:
        physical["region"] = {"startLine": line}
    return physical


def _location(finding: Finding) -> dict[str, Any]:
    res = finding.resource
    location: dict[str, Any] = {
        "logicalLocations": [{"fullyQualifiedName": res.id, "name": res.id.rsplit("/", 1)[-1],
                              "kind": "resource"}],
    }
    if res.file:
        location["physicalLocation"] = _physical(res.file, res.line)
    return location


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    """A failure, or (kind review, level none as SARIF 2.1.0 requires for a kind other than fail) an unknown."""
    res = finding.resource
    properties = {"severity": finding.severity.value, "resourceType": res.type,
                  "account": res.account, "region": res.region, "service": finding.evidence.get("service")}
    result: dict[str, Any] = {"ruleId": finding.rule_id, "ruleIndex": rule_index}
    if finding.status is Status.UNKNOWN:
        result.update(kind="review", level="none")
    else:
        result["level"] = LEVELS[finding.severity]
    result.update({
        "message": {"text": finding.message},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {k: v for k, v in properties.items() if v is not None},
    })
    return result


def _error_notification(err: ErrorEntry, templates: bool) -> dict[str, Any]:
    """In template mode the target is the file (with the line where known); in live mode an API scope."""
    notification: dict[str, Any] = {"level": "error", "message": {"text": f"{err.target}: {err.message}"}}
    if templates:
        notification["locations"] = [{"physicalLocation": _physical(err.target, err.line)}]
    return notification


def _finding_notification(finding: Finding, rule_index: int) -> dict[str, Any]:
    return {"level": "error", "message": {"text": f"{finding.resource.id}: {finding.message}"},
            "locations": [_location(finding)],
            "associatedRule": {"id": finding.rule_id, "index": rule_index}}


def _invocation(doc: FindingsDocument, index: Mapping[str, int]) -> dict[str, Any]:
    """Anything not examined (an `errors` entry, a finding with status error) is an error notification and
    makes the run unsuccessful, so code scanning does not show an incomplete scan as a clean one."""
    templates = doc.scan.source == "templates"
    notifications = [_error_notification(err, templates) for err in doc.errors]
    notifications += [_finding_notification(f, index[f.rule_id]) for f in doc.findings
                      if f.status is Status.ERROR and f.suppressed is None]
    invocation: dict[str, Any] = {"executionSuccessful": not notifications}
    if doc.scan.started_at:
        invocation["startTimeUtc"] = doc.scan.started_at
    if doc.scan.finished_at:
        invocation["endTimeUtc"] = doc.scan.finished_at
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def render_sarif(doc: FindingsDocument, rules: Mapping[str, Rule] | None = None) -> str:
    samples: dict[str, Finding] = {}
    for finding in doc.findings:
        samples.setdefault(finding.rule_id, finding)
    rule_ids = sorted(samples)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    descriptors = [_descriptor(r, samples[r], (rules or {}).get(r)) for r in rule_ids]
    results = [_result(f, index[f.rule_id]) for f in doc.findings
               if f.counts_as_failure or (f.status is Status.UNKNOWN and f.suppressed is None)]
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": doc.tool.name,
                "version": doc.tool.version,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }},
            "invocations": [_invocation(doc, index)],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"source": doc.scan.source},
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


