"""Renderers: each takes the findings document (and optionally the catalogue) and returns text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagefence.catalogue import Rule
    from sagefence.findings import FindingsDocument

FORMATS = ("text", "json", "html", "sarif", "junit")
SUFFIX = {"text": "txt", "json": "json", "html": "html", "sarif": "sarif", "junit": "xml"}


def render(doc: FindingsDocument, fmt: str, rules: Mapping[str, Rule] | None = None, *, color: bool = False) -> str:
    """Import only the renderer asked for: jinja2 is not loaded for a JSON scan."""
    if fmt == "json":
        return doc.to_json()
    if fmt == "text":
        from sagefence.reports.text import render_text

        return render_text(doc, color=color)
    if fmt == "html":
        from sagefence.reports.html import render_html

        return render_html(doc, rules)
    if fmt == "sarif":
        from sagefence.reports.sarif import render_sarif

        return render_sarif(doc, rules)
    if fmt == "junit":
        from sagefence.reports.junit import render_junit

        return render_junit(doc, rules)
    raise ValueError(f"unknown format {fmt!r}")
