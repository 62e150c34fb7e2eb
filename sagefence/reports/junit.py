"""JUnit XML: a test suite per rule, a test case per (rule, resource).

``fail`` becomes ``<failure>``, ``error`` becomes ``<error>``, suppressed findings and
``unknown`` become ``<skipped>``. Scan-level errors (a template that does not parse)
get a suite of their own so CI shows them too, with the file and line of a template where known.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from sagefence.catalogue import Rule
from sagefence.findings import Finding, FindingsDocument
from sagefence.status import Status

SCAN_ERRORS_SUITE = "sagefence.scan-errors"
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _case_name(finding: Finding) -> str:
    service = finding.evidence.get("service")
    return f"{finding.resource.id} [{service}]" if service else finding.resource.id


def _details(finding: Finding) -> str:
    res = finding.resource
    lines = [finding.message, "", f"resource: {res.type} {res.id}"]
    if res.account or res.region:
        lines.append(f"account/region: {res.account or '-'}/{res.region or '-'}")
    if res.file:
        lines.append(f"file: {res.file}" + (f":{res.line}" if res.line else ""))
    if finding.remediation:
        lines += ["", "remediation:", finding.remediation]
    return "\n".join(lines)


def _testcase(suite: ET.Element, finding: Finding) -> str:
    """Add the case and return its outcome: passed, failure, error or skipped."""
    attrs = {"classname": _clean(finding.rule_id), "name": _clean(_case_name(finding)), "time": "0"}
    if finding.resource.file:
        attrs["file"] = _clean(finding.resource.file)
        if finding.resource.line:
            attrs["line"] = str(finding.resource.line)
    case = ET.SubElement(suite, "testcase", attrs)
    if finding.suppressed is not None:
        sup = finding.suppressed
        expires = f", expires {sup.expires}" if sup.expires else ""
        reason = f"suppressed ({sup.source}{expires}): {sup.reason}"
        ET.SubElement(case, "skipped", {"message": _clean(reason)})
        return "skipped"
    if finding.status is Status.FAIL:
        element = ET.SubElement(case, "failure", {"message": _clean(finding.message),
                                                  "type": finding.severity.value})
        element.text = _clean(_details(finding))
        return "failure"
    if finding.status is Status.ERROR:
        element = ET.SubElement(case, "error", {"message": _clean(finding.message), "type": "error"})
        element.text = _clean(_details(finding))
        return "error"
    if finding.status is Status.UNKNOWN:
        ET.SubElement(case, "skipped", {"message": _clean(f"unknown: {finding.message}")})
        return "skipped"
    return "passed"


def _set_counts(element: ET.Element, counts: dict[str, int]) -> None:
    element.set("tests", str(sum(counts.values())))
    element.set("failures", str(counts["failure"]))
    element.set("errors", str(counts["error"]))
    element.set("skipped", str(counts["skipped"]))
    element.set("time", "0")


def render_junit(doc: FindingsDocument, rules: Mapping[str, Rule] | None = None) -> str:
    root = ET.Element("testsuites", {"name": doc.tool.name})
    total = {"passed": 0, "failure": 0, "error": 0, "skipped": 0}
    by_rule: dict[str, list[Finding]] = {}
    for finding in doc.findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)

    for rule_id in sorted(by_rule):
        findings = by_rule[rule_id]
        rule = (rules or {}).get(rule_id)
        suite = ET.SubElement(root, "testsuite", {"name": _clean(rule_id)})
        if doc.scan.started_at:
            suite.set("timestamp", doc.scan.started_at)
        props = ET.SubElement(suite, "properties")
        title = rule.title if rule else findings[0].title
        severity = rule.severity.value if rule else findings[0].severity.value
        ET.SubElement(props, "property", {"name": "title", "value": _clean(title)})
        ET.SubElement(props, "property", {"name": "severity", "value": severity})
        counts = {"passed": 0, "failure": 0, "error": 0, "skipped": 0}
        for finding in findings:
            counts[_testcase(suite, finding)] += 1
        _set_counts(suite, counts)
        for key, value in counts.items():
            total[key] += value

    if doc.errors:
        suite = ET.SubElement(root, "testsuite", {"name": SCAN_ERRORS_SUITE})
        for err in doc.errors:
            attrs = {"classname": SCAN_ERRORS_SUITE, "name": _clean(err.target), "time": "0"}
            if doc.scan.source == "templates":
                attrs["file"] = _clean(err.target)
                if err.line:
                    attrs["line"] = str(err.line)
            case = ET.SubElement(suite, "testcase", attrs)
            element = ET.SubElement(case, "error", {"message": _clean(err.message), "type": "scan-error"})
            element.text = _clean(f"{err.target}: {err.message}")
        errors = {"passed": 0, "failure": 0, "error": len(doc.errors), "skipped": 0}
        _set_counts(suite, errors)
        total["error"] += len(doc.errors)

    _set_counts(root, total)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
