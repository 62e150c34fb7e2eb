"""The terminal report: failures, then what could not be examined and what is not known, never raw control bytes."""

from __future__ import annotations

from typing import Any

from sagefence.findings import FindingsDocument, SkippedEntry
from sagefence.reports.text import LIST_CAP, render_text
from sagefence.reports.visible import visible

HOSTILE = "X\x1b[2J\x1b]0;owned\x07\r\n\t\x9b31m\u202eY"


def test_visible_escapes_c0_c1_and_bidi_controls() -> None:
    assert visible(HOSTILE) == "X\\x1b[2J\\x1b]0;owned\\x07\\x0d\\x0a\\x09\\x9b31m\\u202eY"
    assert visible("DataBucket ünïcode — ok") == "DataBucket ünïcode — ok"


def test_errors_entries_and_error_findings_are_listed(factory: Any) -> None:
    doc = factory.document(factory.sample_findings(), source="account",
                           errors=[("templates/broken.yaml", "line 7: malformed YAML", 7),
                                   ("111122223333/us-east-1", "s3:ListBuckets failed: AccessDenied")])
    lines = render_text(doc).splitlines()
    start = lines.index("errors (3): could not be examined")
    assert lines[start + 1:start + 4] == [
        "  templates/broken.yaml:7: malformed YAML",
        "  111122223333/us-east-1: s3:ListBuckets failed: AccessDenied",
        "  NB-002 arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/nb1 (111122223333/us-east-1): "
        "AccessDenied on DescribeNotebookInstance",
    ]
    assert lines[-1].startswith("5 failed (1 critical, 1 high, 2 medium, 1 info), 2 passed, 3 errors, 1 unknown")


def test_unknowns_are_listed_with_what_was_not_known(sample_doc: FindingsDocument) -> None:
    lines = render_text(sample_doc).splitlines()
    start = lines.index("unknown (1): neither pass nor fail: what was not known")
    assert lines[start + 1] == "  VPCE-001 vpc-0abc (444455556666/eu-west-1): endpoint policy is unresolved"


def test_the_table_holds_failures_only(sample_doc: FindingsDocument) -> None:
    table = render_text(sample_doc).split("\n\n")[0].splitlines()
    assert len(table) == 1 + 5 and all(" fail " in row for row in table[1:])


def test_suppressed_errors_and_unknowns_are_not_listed(factory: Any) -> None:
    doc = factory.document([factory.finding(status="error", suppressed="known"),
                            factory.finding("S3-002", status="unknown", suppressed="known")])
    out = render_text(doc)
    assert "errors (" not in out and "unknown (" not in out


def test_long_lists_are_capped(factory: Any) -> None:
    unknown = [factory.finding("S3-001", f"Bucket{i:03}", status="unknown") for i in range(LIST_CAP + 5)]
    errors = [(f"t{i:03}.yaml", "bad") for i in range(LIST_CAP + 1)]
    lines = render_text(factory.document(unknown, errors=errors)).splitlines()
    assert f"unknown ({LIST_CAP + 5}): neither pass nor fail: what was not known" in lines
    assert "  ... and 5 more" in lines and "  ... and 1 more" in lines
    assert f"  S3-001 Bucket{LIST_CAP - 1:03} (templates/data.yaml:42): S3-001 is unknown on " \
           f"Bucket{LIST_CAP - 1:03}" in lines
    assert not any(f"Bucket{LIST_CAP:03}" in line for line in lines)


def test_control_characters_never_reach_the_terminal(factory: Any) -> None:
    doc = factory.document([factory.finding(resource_id=HOSTILE, message=HOSTILE, file=HOSTILE),
                            factory.finding("S3-002", HOSTILE, status="error", message=HOSTILE),
                            factory.finding("S3-003", HOSTILE, status="unknown", message=HOSTILE)],
                           errors=[(HOSTILE, HOSTILE, 3)])
    doc.scan.skipped.append(SkippedEntry(target=HOSTILE, reason=HOSTILE))
    doc.scan.notices.append(HOSTILE)
    for color in (False, True):
        out = render_text(doc, color=color)
        plain = out.replace("\033[0m", "")
        for code in ("\033[1;31m", "\033[31m", "\033[33m", "\033[36m", "\033[2m"):
            plain = plain.replace(code, "")
        assert not any(ch in plain for ch in "\x1b\x07\r\t\x9b\u202e")
        assert plain.count("X\\x1b[2J\\x1b]0;owned\\x07\\x0d\\x0a\\x09\\x9b31m\\u202eY") >= 8
