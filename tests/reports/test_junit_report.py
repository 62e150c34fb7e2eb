from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from sagefence.findings import FindingsDocument
from sagefence.reports.junit import SCAN_ERRORS_SUITE, render_junit


def parse(doc: FindingsDocument) -> ET.Element:
    text = render_junit(doc)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def counts(element: ET.Element) -> tuple[int, int, int, int]:
    return tuple(int(element.get(k)) for k in ("tests", "failures", "errors", "skipped"))  # type: ignore[return-value]


def test_a_suite_per_rule_and_a_case_per_resource(sample_doc: FindingsDocument) -> None:
    root = parse(sample_doc)
    assert root.tag == "testsuites"
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == ["NB-001", "NB-002", "S3-001", "S3-002", "S3-003", "VPCE-001", "VPCE-002", SCAN_ERRORS_SUITE]
    vpce = root.find("testsuite[@name='VPCE-002']")
    assert [c.get("name") for c in vpce.findall("testcase")] == ["vpc-0abc [sagemaker.api]", "vpc-0abc [sts]"]
    assert {c.get("classname") for c in vpce.findall("testcase")} == {"VPCE-002"}
    s3 = root.find("testsuite[@name='S3-001']")
    case = s3.find("testcase[@name='DataBucket']")
    assert case.get("file") == "templates/data.yaml" and case.get("line") == "12"


def test_outcomes_and_counts(sample_doc: FindingsDocument) -> None:
    root = parse(sample_doc)
    suite = {s.get("name"): s for s in root.findall("testsuite")}
    assert counts(suite["S3-001"]) == (2, 1, 0, 1)    # one fail, one suppressed
    assert counts(suite["NB-001"]) == (2, 1, 0, 0)    # one fail, one pass
    assert counts(suite["NB-002"]) == (1, 0, 1, 0)    # error
    assert counts(suite["VPCE-001"]) == (1, 0, 0, 1)  # unknown
    assert counts(suite["S3-002"]) == (1, 0, 0, 0)    # pass
    assert counts(suite[SCAN_ERRORS_SUITE]) == (1, 0, 1, 0)
    assert counts(root) == (11, 5, 2, 2)
    for s in root.findall("testsuite"):
        cases = s.findall("testcase")
        assert int(s.get("tests")) == len(cases)
        assert int(s.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(s.get("errors")) == sum(1 for c in cases if c.find("error") is not None)
        assert int(s.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)


def test_failure_element_carries_message_and_remediation(sample_doc: FindingsDocument) -> None:
    root = parse(sample_doc)
    failure = root.find("testsuite[@name='S3-001']/testcase[@name='DataBucket']/failure")
    assert failure.get("message") == "S3-001 is fail on DataBucket"
    assert failure.get("type") == "high"
    assert "remediation:\nAdd a Deny statement" in failure.text
    skipped = root.find("testsuite[@name='S3-001']/testcase[@name='LogsBucket']/skipped")
    assert skipped.get("message") == "suppressed (config, expires 2099-01-01): logs are public by design"
    unknown = root.find("testsuite[@name='VPCE-001']/testcase/skipped")
    assert unknown.get("message") == "unknown: endpoint policy is unresolved"
    scan_error = root.find(f"testsuite[@name='{SCAN_ERRORS_SUITE}']/testcase/error")
    assert scan_error.get("message") == "line 7: bad"
    props = {p.get("name"): p.get("value") for p in root.findall("testsuite[@name='NB-001']/properties/property")}
    assert props == {"title": "Rule NB-001 holds", "severity": "critical"}


def test_hostile_text_round_trips(factory: Any) -> None:
    nasty = 'a<b>&"c"\n\']]><!-- \x00\x1b[31m'
    doc = factory.document([
        factory.finding(resource_id=nasty, message=nasty, evidence={"service": "s</x>"}),
    ])
    text = render_junit(doc)
    root = ET.fromstring(text.encode("utf-8"))
    case = root.find("testsuite/testcase")
    expected = nasty.replace("\x00", "\\x00").replace("\x1b", "\\x1b")
    assert case.get("name") == f"{expected} [s</x>]"
    assert case.find("failure").get("message") == expected
    assert "\x00" not in text and "\x1b" not in text


def test_empty_document(factory: Any) -> None:
    root = parse(factory.document([]))
    assert root.findall("testsuite") == []
    assert counts(root) == (0, 0, 0, 0)


def test_scan_error_case_carries_the_template_file_and_line(factory: Any) -> None:
    doc = factory.document([], errors=[("templates/broken.yaml", "line 7: bad", 7)])
    case = parse(doc).find(f"testsuite[@name='{SCAN_ERRORS_SUITE}']/testcase")
    assert (case.get("file"), case.get("line")) == ("templates/broken.yaml", "7")
    assert case.find("error").get("message") == "line 7: bad"


def test_live_scan_error_case_has_no_file(factory: Any) -> None:
    doc = factory.document([], source="account", errors=[("111122223333/us-east-1", "ListBuckets failed")])
    case = parse(doc).find(f"testsuite[@name='{SCAN_ERRORS_SUITE}']/testcase")
    assert case.get("file") is None and case.find("error") is not None
