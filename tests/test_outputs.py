"""Output files and exit codes under failure (issue 20): a bug exits 3 in one line, a report is replaced
whole or not at all, never through a symlink, never onto an input, never twice; a bad path is exit 2
before the scan."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, TextIO

import pytest

from sagefence.findings import FindingsDocument
from tests.test_cli import FAIL_BUCKET, PASS_BUCKET, run

SCAN = ("scan", "templates", str(FAIL_BUCKET), "--rules", "S3-005", "--quiet")


def _loader_must_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the loader ran")

    monkeypatch.setattr("sagefence.sources.cloudformation.load", boom)


def _broken_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    def write_half(self: FindingsDocument, out: TextIO) -> None:
        out.write('{"schema_version": 1, "findings": [')
        raise KeyError("finding")

    monkeypatch.setattr(FindingsDocument, "write_json", write_half)


def test_a_bug_exits_3_with_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("walker broke\non two lines")

    monkeypatch.setattr("sagefence.sources.cloudformation.load", boom)
    code, out, err = run(*SCAN, cwd=tmp_path)
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error" in err and "RuntimeError: walker broke on two lines" in err and "--debug" in err
    code, _, err = run(*SCAN, "--debug", cwd=tmp_path)
    assert code == 3
    assert "Traceback (most recent call last)" in err and "in boom" in err
    assert err.splitlines()[-1].startswith("sagefence: internal error")


def test_a_crashing_writer_keeps_the_previous_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    report = tmp_path / "findings.json"
    report.write_text("previous report\n")
    _broken_writer(monkeypatch)
    code, _, err = run(*SCAN, "--format", "json", "--output", str(report), cwd=tmp_path)
    assert code == 3 and "KeyError" in err and "Traceback" not in err
    assert report.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.json"]  # no temporary file left behind


def test_outputs_are_replaced_all_or_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "f.json").write_text("old json")
    (tmp_path / "f.sarif").write_text("old sarif")
    real = __import__("sagefence.reports", fromlist=["render"]).render

    def render(doc: Any, fmt: str, *a: Any, **kw: Any) -> str:
        if fmt == "sarif":
            raise ValueError("sarif renderer broke")
        return real(doc, fmt, *a, **kw)

    monkeypatch.setattr("sagefence.reports.render", render)
    code, _, err = run(*SCAN, "--format", "json", "--output", str(tmp_path / "f.json"),
                       "--format", "sarif", "--output", str(tmp_path / "f.sarif"), cwd=tmp_path)
    assert code == 3 and "ValueError: sarif renderer broke" in err
    assert (tmp_path / "f.json").read_text() == "old json"  # written first, but not renamed into place
    assert (tmp_path / "f.sarif").read_text() == "old sarif"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json", "f.sarif"]


def test_an_output_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("do not touch")
    link = tmp_path / "sagefence.sarif"
    link.symlink_to(target)
    code, _, _ = run(*SCAN, "--format", "sarif", "--output", str(link), cwd=tmp_path)
    assert code == 1
    assert not link.is_symlink() and json.loads(link.read_text())["version"] == "2.1.0"
    assert target.read_text() == "do not touch"


def test_a_replaced_report_keeps_its_permissions(tmp_path: Path) -> None:
    report = tmp_path / "f.json"
    report.write_text("old")
    report.chmod(0o640)
    assert run(*SCAN, "--format", "json", "--output", str(report), cwd=tmp_path)[0] == 1
    assert stat.S_IMODE(report.stat().st_mode) == 0o640 and json.loads(report.read_text())["findings"]


def test_an_output_onto_a_scanned_template_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    template = tmp_path / "infra" / "bucket.yaml"
    template.parent.mkdir()
    template.write_text(FAIL_BUCKET.read_text())
    (tmp_path / "alias.yaml").symlink_to(template)
    _loader_must_not_run(monkeypatch)
    for target, output in ((template, template), (template, tmp_path / "infra" / ".." / "infra" / "bucket.yaml"),
                           (tmp_path / "alias.yaml", template), (template, tmp_path / "alias.yaml"),
                           (template.parent, template)):
        code, _, err = run("scan", "templates", str(target), "--format", "json", "--output", str(output),
                           cwd=tmp_path)
        assert code == 2, (target, output, err)
        assert f"--output {output}" in err and "write the report elsewhere" in err
    assert template.read_text() == FAIL_BUCKET.read_text()


def test_a_report_in_the_scanned_folder_may_be_rewritten(tmp_path: Path) -> None:
    (tmp_path / "bucket.yaml").write_text(FAIL_BUCKET.read_text())
    for _ in range(2):  # the second run finds the first run's findings.json: skipped, and replaced
        code, _, err = run("scan", "templates", ".", "--rules", "S3-005", "--format", "json", "--output",
                           "findings.json", cwd=tmp_path)
        assert code == 1, err
    doc = json.loads((tmp_path / "findings.json").read_text())
    assert [s["target"] for s in doc["scan"]["skipped"]] == ["findings.json"]


def test_a_config_file_is_not_an_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "sagefence.yaml").write_text("account_id: '123456789012'\n")
    _loader_must_not_run(monkeypatch)
    code, _, err = run(*SCAN, "--format", "json", "--output", "sagefence.yaml", cwd=tmp_path)
    assert code == 2 and "is an input file" in err
    assert (tmp_path / "sagefence.yaml").read_text() == "account_id: '123456789012'\n"


def test_one_output_path_for_two_formats_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _loader_must_not_run(monkeypatch)
    report = tmp_path / "out.txt"
    code, _, err = run(*SCAN, "--format", "json", "--output", str(report), "--format", "text", "--output",
                       str(tmp_path / "." / "out.txt"), cwd=tmp_path)
    assert code == 2 and str(report) in err and "two formats" in err
    code, _, err = run(*SCAN, "--format", "json", "--output", "-", "--format", "text", "--output", "-", cwd=tmp_path)
    assert code == 2 and "stdout" in err
    assert not report.exists()


@pytest.mark.parametrize("case", ["missing folder", "folder", "file as folder"])
def test_an_unwritable_output_is_exit_2_before_the_scan(case: str, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    output = {"missing folder": tmp_path / "no" / "such" / "f.json", "folder": tmp_path,
              "file as folder": tmp_path / "a-file" / "f.json"}[case]
    _loader_must_not_run(monkeypatch)
    code, out, err = run(*SCAN, "--format", "json", "--output", str(output), cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith(f"sagefence: error: --output {output}") and err.count("\n") == 1


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_exit_2_before_the_scan(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    _loader_must_not_run(monkeypatch)
    try:
        code, _, err = run(*SCAN, "--format", "json", "--output", str(folder / "f.json"), cwd=tmp_path)
    finally:
        folder.chmod(0o700)
    assert code == 2 and "cannot write to folder" in err


def test_output_dir_is_still_made_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, _, _ = run(*SCAN, "--format", "json", "--format", "sarif", "--output-dir", str(tmp_path / "a" / "b"),
                     cwd=tmp_path)
    assert code == 1 and sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["findings.json",
                                                                                      "findings.sarif"]
    (tmp_path / "plain").write_text("")
    _loader_must_not_run(monkeypatch)
    code, _, err = run(*SCAN, "--format", "json", "--output-dir", str(tmp_path / "plain"), cwd=tmp_path)
    assert code == 2 and "is a file, not a folder" in err


def _saved(tmp_path: Path, source: Path, name: str) -> Path:
    path = tmp_path / name
    assert run("scan", "templates", str(source), "--rules", "S3-005", "--quiet", "--format", "json", "--output",
               str(path), cwd=tmp_path)[0] in (0, 1)
    return path


def test_report_and_diff_never_write_onto_their_input(tmp_path: Path) -> None:
    old, new = _saved(tmp_path, PASS_BUCKET, "old.json"), _saved(tmp_path, FAIL_BUCKET, "new.json")
    before = new.read_text()
    code, _, err = run("report", str(new), "--format", "json", "--output", str(new))
    assert code == 2 and "is an input file" in err
    code, _, err = run("diff", str(old), str(new), "--output", str(new))
    assert code == 2 and "is an input file" in err
    assert new.read_text() == before
    code, _, err = run("diff", str(old), str(new), "--output", str(tmp_path / "missing" / "d.txt"))
    assert code == 2 and "does not exist" in err


def test_report_and_diff_bugs_exit_3_and_keep_the_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    old, new = _saved(tmp_path, PASS_BUCKET, "old.json"), _saved(tmp_path, FAIL_BUCKET, "new.json")
    html = tmp_path / "report.html"
    html.write_text("previous")

    def boom(*_: Any, **__: Any) -> str:
        raise TypeError("renderer broke")

    monkeypatch.setattr("sagefence.reports.render", boom)
    monkeypatch.setattr("sagefence.diff.render_diff_text", boom)
    code, _, err = run("report", str(new), "--format", "html", "--output", str(html))
    assert code == 3 and "TypeError: renderer broke" in err and "Traceback" not in err
    assert html.read_text() == "previous"
    code, _, err = run("diff", str(old), str(new), "--debug")
    assert code == 3 and "Traceback" in err
