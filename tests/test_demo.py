"""`sagefence demo`: one run per session, its findings asserted exactly (tests/demo_expected.yaml)."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from sagefence.cli import main

EXPECTED = Path(__file__).parent / "demo_expected.yaml"
# The demo must not be fooled by, nor leave behind, the caller's AWS environment.
CALLER_ENV = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
              "AWS_PROFILE": "someone-elses-profile", "AWS_DEFAULT_PROFILE": "someone-elses-profile",
              "MOTO_ACCOUNT_ID": "000000000000"}


@dataclass(frozen=True)
class DemoRun:
    status: int
    stdout: str
    stderr: str
    output: Path
    env_after: dict[str, str | None]
    demo_handlers_left: list[str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    from botocore import handlers

    output = tmp_path_factory.mktemp("demo") / "out"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in CALLER_ENV.items():
            patch.setenv(name, value)
        stdout, stderr = io.StringIO(), io.StringIO()
        status = main(["demo", "--output", str(output)], stdout, stderr)
        env_after = {name: os.environ.get(name) for name in (*CALLER_ENV, "AWS_ACCESS_KEY_ID")}
        left = [event for event, *_ in handlers.BUILTIN_HANDLERS if "DescribeNotebookInstance" in event]
        yield DemoRun(status, stdout.getvalue(), stderr.getvalue(), output, env_after, left)


def _rows(document: dict[str, Any]) -> list[str]:
    rows = []
    for f in document["findings"]:
        service = f["evidence"].get("service") if f["rule_id"] == "VPCE-002" and f["status"] != "pass" else None
        rows.append(" ".join(p for p in (f["rule_id"], f["status"], f["resource"]["id"], service) if p))
    return rows


def test_demo_exits_zero_and_says_where_the_files_are(demo: DemoRun) -> None:
    assert demo.status == 0, demo.stderr
    assert str(demo.output / "findings.json") in demo.stdout
    assert str(demo.output / "report.html") in demo.stdout
    assert "18 failed (1 critical, 9 high, 7 medium, 1 low), 66 passed, 0 errors, 0 unknown" in demo.stdout
    assert ("Accounts:      123456789012 management, 944815112289 development, 731307907019 staging, "
            "723171306468 production") in demo.stdout
    assert "exit 0" in demo.stderr


def test_demo_findings_are_exactly_the_expected_ones(demo: DemoRun) -> None:
    document = json.loads((demo.output / "findings.json").read_text(encoding="utf-8"))
    expected = yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))["findings"]
    actual = _rows(document)
    assert len(actual) == len(set(actual)), "a (rule, resource, status) reported twice"
    missing, unexpected = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    from moto import __version__ as moto_version

    assert not missing and not unexpected, (
        f"moto {moto_version}; missing: {missing}\nunexpected: {unexpected}\nall: {sorted(actual)}")
    assert document["errors"] == [] and document["scan"]["notices"] == []


def test_demo_scans_the_organization_like_scan_account(demo: DemoRun) -> None:
    document = json.loads((demo.output / "findings.json").read_text(encoding="utf-8"))
    scan = document["scan"]
    assert scan["source"] == "account" and scan["regions"] == ["us-east-1"]
    assert sorted(scan["accounts"]) == ["123456789012", "723171306468", "731307907019", "944815112289"]
    assert scan["config"]["path"] == str(demo.output / "sagefence.yaml")
    calls = scan["api_calls"]["by_operation"]
    assert calls["organizations.ListAccounts"] == 1 and calls["sts.AssumeRole"] == 3
    config = yaml.safe_load((demo.output / "sagefence.yaml").read_text(encoding="utf-8"))
    assert len(config["trusted_accounts"]) == 4 and len(config["expectations"]["passrole"]) == 2


class _Resources(HTMLParser):
    """Every tag that could make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.fetching: list[str] = []
        self.csp: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy":
            self.csp.append(dict(attrs).get("content") or "")
        if tag in ("link", "img", "iframe", "object", "embed") or names & {"src", "srcset", "data"}:
            self.fetching.append(tag)


def test_demo_report_is_self_contained(demo: DemoRun) -> None:
    html = (demo.output / "report.html").read_text(encoding="utf-8")
    assert "ml-dev-models-944815112289" in html and "VPCE-002" in html
    parser = _Resources()
    parser.feed(html)
    assert parser.fetching == []
    assert "url(" not in html and "@import" not in html
    assert len(parser.csp) == 1 and "default-src 'none'" in parser.csp[0]


def test_demo_restores_the_environment(demo: DemoRun) -> None:
    assert demo.env_after == {**CALLER_ENV, "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID")}
    assert demo.demo_handlers_left == []


def test_demo_without_moto_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)
    stderr = io.StringIO()
    assert main(["demo", "--output", str(tmp_path)], io.StringIO(), stderr) == 2
    assert "pip install 'sagefence[demo]'" in stderr.getvalue()


def test_demo_report_opens_in_the_browser(demo: DemoRun, browser: Any) -> None:
    """The demo's own report.html, in headless chromium: loads offline, no errors, filters work."""
    report = demo.output / "report.html"
    findings = json.loads((demo.output / "findings.json").read_text())["findings"]
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("request", lambda r: None if r.url == report.as_uri() else problems.append(f"request: {r.url}"))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    rows = page.locator("#findings tbody tr:visible")
    assert rows.count() == len(findings)
    page.select_option("#f-status", "fail")
    assert rows.count() == sum(f["status"] == "fail" and not f["suppressed"] for f in findings)
    page.screenshot(path=str(demo.output / "report.png"), full_page=True)
    assert problems == []
    page.close()
