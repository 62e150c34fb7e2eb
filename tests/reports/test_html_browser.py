"""The HTML report in a real headless browser (Debian's chromium driven by playwright).

Skipped only when chromium or playwright is missing on a developer machine; under
CI=true a missing browser fails the test (.ci/run installs it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagefence.findings import FindingsDocument
from sagefence.reports.html import render_html


@dataclass
class Loaded:
    page: Any
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def visible_rows(self) -> int:
        return self.page.locator("#findings tbody tr:visible").count()


def open_report(browser: Any, doc: FindingsDocument, path: Path) -> Loaded:
    path.write_text(render_html(doc), encoding="utf-8")
    page = browser.new_page()
    loaded = Loaded(page)
    page.on("console", lambda m: loaded.problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: loaded.problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda r: loaded.problems.append(f"request failed: {r.url}"))
    page.on("request", lambda r: None if r.url == path.as_uri() else loaded.problems.append(f"request: {r.url}"))

    def on_dialog(dialog: Any) -> None:
        loaded.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return loaded


def expected(doc: FindingsDocument, **want: str) -> int:
    def value(f: Any, key: str) -> str:
        if key == "status":
            return "suppressed" if f.suppressed else f.status.value
        if key == "severity":
            return f.severity.value
        return f.resource.account or ""
    return sum(all(value(f, k) == v for k, v in want.items()) for f in doc.findings)


def test_filters_and_screenshot(browser: Any, sample_doc: FindingsDocument, tmp_path: Path) -> None:
    report = open_report(browser, sample_doc, tmp_path / "report.html")
    page = report.page
    total = len(sample_doc.findings)
    assert report.visible_rows() == total
    assert page.locator("#shown-count").inner_text() == str(total)

    page.select_option("#f-severity", "medium")
    assert report.visible_rows() == expected(sample_doc, severity="medium") == 4
    page.select_option("#f-status", "fail")
    assert report.visible_rows() == expected(sample_doc, severity="medium", status="fail") == 2
    assert page.locator("#shown-count").inner_text() == "2"
    page.click("#f-reset")
    assert report.visible_rows() == total

    page.select_option("#f-account", "444455556666")
    assert report.visible_rows() == expected(sample_doc, account="444455556666") == 4
    page.click("#f-reset")

    page.click("#by-rule button[data-value='VPCE-002']")
    assert page.locator("#f-rule").input_value() == "VPCE-002"
    assert report.visible_rows() == 2
    page.click("#f-reset")

    page.fill("#f-text", "[STS]")  # case-insensitive
    assert report.visible_rows() == 1
    assert "vpc-0abc [sts]" in page.locator("#findings tbody tr:visible").inner_text()
    page.fill("#f-text", "directinternetaccess")  # found inside the (closed) evidence
    assert report.visible_rows() == 1
    page.fill("#f-text", "no such thing")
    assert report.visible_rows() == 0
    page.fill("#f-text", "")
    assert report.visible_rows() == total

    page.locator("#findings tbody tr").first.locator("summary").click()
    assert page.locator("#findings tbody tr").first.locator("pre.evidence").is_visible()
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert report.problems == [] and report.dialogs == []
    page.close()


def test_hostile_data_renders_as_text(browser: Any, hostile_doc: FindingsDocument, factory: Any,
                                      tmp_path: Path) -> None:
    report = open_report(browser, hostile_doc, tmp_path / "hostile.html")
    page = report.page
    cell = page.locator("#findings td.res").first
    assert cell.inner_text() == factory.HOSTILE_ID
    assert cell.is_visible()
    summary = page.locator("#findings summary").first
    assert summary.inner_text() == f"tag value {factory.HOSTILE_TAG}"
    summary.click()
    evidence = page.locator("#findings pre.evidence").first
    assert evidence.is_visible()
    text = evidence.inner_text()
    assert factory.HOSTILE_TAG.replace('"', '\\"') in text
    assert "</script><script>alert(2)</script><!--" in text
    remediation = page.locator("#findings pre.remediation").nth(1)
    assert "<!-- in a policy" in remediation.text_content()
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1
    page.fill("#f-text", "<script>alert(1)")
    assert report.visible_rows() == 1
    page.wait_for_timeout(100)
    assert report.dialogs == []
    assert report.problems == []
    page.close()


def test_print_layout_expands_details_and_hides_filters(browser: Any, sample_doc: FindingsDocument,
                                                         tmp_path: Path) -> None:
    report = open_report(browser, sample_doc, tmp_path / "print.html")
    page = report.page
    page.emulate_media(media="print")
    assert not page.locator("#filters").is_visible()
    assert page.locator("#findings pre.remediation").first.is_visible()
    assert page.locator("#findings pre.evidence").first.is_visible()
    pdf_like = page.evaluate("() => window.matchMedia('print').matches")
    assert pdf_like is True
    assert report.problems == []
    page.close()
