"""The terminal report: errors and unknowns are listed (capped), control characters never reach the terminal."""

from __future__ import annotations

from sagefence.reports.text import SHOWN_AT_MOST, render_text
from tests.reports.conftest import make_document, make_finding

ESCAPE = "\x1b[2J\x1b]0;owned\x07"


def test_unknowns_and_errors_are_listed_with_what_was_not_known() -> None:
    doc = make_document([make_finding("SM-002", "Notebook", status="unknown",
                                      message="DirectInternetAccess is not known before deployment (⟨Ref∶Access⟩)"),
                         make_finding("S3-001", "Data", status="fail")],
                        errors=[("templates/broken.yaml", "line 7: values nested deeper than 100 levels")])
    text = render_text(doc)
    assert "unknown: SM-002 Notebook (templates/data.yaml:42): DirectInternetAccess is not known" in text
    assert "error: templates/broken.yaml: line 7: values nested deeper than 100 levels" in text


def test_long_lists_are_capped() -> None:
    unknown = [make_finding("VPCE-005", f"Endpoint{i}", status="unknown") for i in range(SHOWN_AT_MOST + 7)]
    errors = [(f"t{i}.yaml", "not UTF-8 text") for i in range(SHOWN_AT_MOST + 3)]
    text = render_text(make_document(unknown, errors=errors))
    assert text.count("unknown: VPCE-005") == SHOWN_AT_MOST and "... and 7 more unknown" in text
    assert text.count(": not UTF-8 text") == SHOWN_AT_MOST and "... and 3 more errors" in text


def test_control_characters_are_escaped_with_or_without_color() -> None:
    doc = make_document([make_finding("S3-001", f"Bucket{ESCAPE}", status="fail", message=f"policy {ESCAPE}"),
                         make_finding("S3-002", f"Other{ESCAPE}", status="unknown")],
                        errors=[(f"t{ESCAPE}.yaml", f"bad {ESCAPE}")])
    for color in (False, True):
        text = render_text(doc, color=color)
        assert "\x1b[2J" not in text and "\x07" not in text and "\x1b]" not in text
        assert "Bucket\\x1b[2J\\x1b]0;owned\\x07" in text and "t\\x1b[2J" in text
