from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest

from sagefence.catalogue import Rule
from sagefence.findings import Finding, FindingsDocument
from sagefence.reports.html import render_html
from sagefence.status import Severity


class Elements(HTMLParser):
    """Collects (tag, attrs) of every start tag and the raw text of <style> and <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.raw: dict[str, list[str]] = {"style": [], "script": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in self.raw:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.raw[self._in].append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.elements if t == tag]


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def many_findings(factory: Any, n: int) -> list[Finding]:
    base = factory.sample_findings()
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123"}}}]})
    out = []
    for i in range(n):
        f = base[i % len(base)]
        out.append(replace(f, resource=replace(f.resource, id=f"{f.resource.id}-{i}"),
                           evidence={**f.evidence, "policy": policy}))
    return out


def test_self_contained_no_external_references(sample_doc: FindingsDocument) -> None:
    html = render_html(sample_doc)
    assert "http://" not in html and "https://" not in html and "//" not in html.replace("://", "")
    page = parse(html)
    assert not page.all("link") and not page.all("img") and not page.all("iframe")
    assert all("src" not in attrs and "href" not in attrs for _, attrs in page.elements)
    assert "url(" not in html and "@import" not in html


def test_content_security_policy_pins_the_inline_assets(sample_doc: FindingsDocument) -> None:
    page = parse(render_html(sample_doc))
    (meta,) = [m for m in page.all("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    csp = meta["content"] or ""
    assert "default-src 'none'" in csp
    for kind, directive in (("style", "style-src"), ("script", "script-src")):
        (text,) = page.raw[kind]
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp
        assert "</" not in text and "<!--" not in text
    assert len(page.all("script")) == 1 and len(page.all("style")) == 1


def test_hostile_data_is_escaped(hostile_doc: FindingsDocument, factory: Any) -> None:
    html = render_html(hostile_doc)
    assert html.count("<script") == 1 and html.count("</script>") == 1
    assert "<!--" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    page = parse(html)
    assert not [a for _, a in page.elements if any(k.startswith("on") for k in a)]
    rows = [a for a in page.all("tr") if "data-rule" in a]
    assert {a["data-rule"] for a in rows} == {"S3-001", "S3-002"}


def test_hostile_rule_id_and_account_stay_in_their_attributes(factory: Any) -> None:
    evil = '" onmouseover="alert(1)'
    doc = factory.document([factory.finding(rule_id="S3-001", resource_id="x", account=evil, region=evil)])
    page = parse(render_html(doc))
    (row,) = [a for a in page.all("tr") if "data-rule" in a]
    assert row["data-account"] == evil
    assert "onmouseover" not in {k for _, a in page.elements for k in a}


def test_summary_cards_follow_the_document_summary(sample_doc: FindingsDocument) -> None:
    html = render_html(sample_doc)
    cards = dict(re.findall(r'data-card="([\w-]+)"><small>[^<]*</small><b>(\d+)</b>', html))
    summary = sample_doc.summary
    assert cards == {
        "fail-critical": "1", "fail-high": "1", "fail-medium": "2", "fail-low": "0", "fail-info": "1",
        "pass": str(summary.pass_), "error": "1", "unknown": "1", "suppressed": "1",
    }
    assert summary.fail["high"] == 1


def test_chart_has_a_bar_per_family_with_severity_segments(sample_doc: FindingsDocument) -> None:
    html = render_html(sample_doc)
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'xmlns' not in svg  # inline SVG in HTML needs no namespace URL
    families = re.findall(r'<g data-family="(\w+)">', svg)
    assert families == ["NB", "S3", "VPCE"]
    titles = re.findall(r"<title>([^<]+)</title>", svg)
    assert titles == ["NB: 1 critical", "S3: 1 high", "S3: 1 info", "VPCE: 2 medium"]


def test_no_failures_means_no_chart(factory: Any) -> None:
    html = render_html(factory.document([factory.finding(status="pass")]))
    assert "<svg" not in html and "No unsuppressed failures." in html


def test_tables_and_rows(sample_doc: FindingsDocument) -> None:
    html = render_html(sample_doc)
    page = parse(html)
    rows = [a for a in page.all("tr") if "data-rule" in a]
    assert len(rows) == len(sample_doc.findings)
    assert rows[0]["data-status"] == "fail" and rows[0]["data-severity"] == "critical"
    assert rows[-1]["data-status"] == "pass"
    statuses = [a["data-status"] for a in rows]
    assert statuses.index("suppressed") > statuses.index("unknown")
    assert 'id="by-account"' in html and 'id="by-file"' in html and 'id="by-rule"' in html
    assert "templates/broken.yaml</code>: line 7: bad" in html
    options = {a["value"] for a in page.all("option")}
    assert {"111122223333", "444455556666", "suppressed", "VPCE-002", "critical"} <= options


def test_details_show_pretty_evidence_and_remediation(hostile_doc: FindingsDocument) -> None:
    html = render_html(hostile_doc)
    assert html.count("<details>") == 2
    assert '<pre class="evidence">' in html
    # the policy string is shown as pretty JSON, not as one escaped string
    assert '&#34;policy&#34;: {\n    &#34;Statement&#34;: &#34;&lt;/script&gt;' in html
    assert "Add a Deny statement for requests without aws:SourceVpce." in html


def test_catalogue_metadata_is_used_when_given(factory: Any) -> None:
    rule = Rule(id="S3-001", title="Bucket policy denies access from outside the VPC endpoints",
                severity=Severity.HIGH, family="s3", resource_types=("AWS::S3::Bucket",),
                description="Requests that do not come through the endpoints are denied.",
                remediation="Use the catalogue snippet.", check="s3.deny_outside_vpce")
    doc = factory.document([factory.finding(remediation="")])
    html = render_html(doc, {"S3-001": rule})
    assert "Requests that do not come through the endpoints are denied." in html
    assert "Use the catalogue snippet." in html


def test_empty_document(factory: Any) -> None:
    html = render_html(factory.document([]))
    assert "The document has no findings." in html
    assert 'id="shown-count">0<' in html


def test_a_thousand_findings_render_completely(factory: Any) -> None:
    """Size and completeness only; render time is measured in benchmarks/, never asserted here."""
    html = render_html(factory.document(many_findings(factory, 1000)))
    assert len(html.encode()) < 3_000_000
    assert html.count("<details>") == 1000


@pytest.mark.parametrize("source", ["templates", "account"])
def test_title_names_the_scan(factory: Any, source: str) -> None:
    html = render_html(factory.document([], source=source))
    assert f"<title>sagefence report: {source} scan," in html
