"""The pre-commit hook and the GitHub Action: they parse and carry what CI needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def load(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def test_pre_commit_hook() -> None:
    (hook,) = load(".pre-commit-hooks.yaml")
    assert hook["id"] == "sagefence"
    assert hook["entry"] == "sagefence scan templates --skip-non-templates"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])

    def selected(path: str) -> bool:
        return bool(files.search(path)) and not exclude.search(path)

    for path in ("stack.yaml", "infra/notebook.yml", "cfn/vpc.json", "cfn/data.template"):
        assert selected(path), path
    for path in ("app.py", "README.md", "stack.yaml.bak", ".pre-commit-config.yaml", "sagefence.yaml",
                 "sub/.sagefence.yml", ".github/workflows/ci.yml"):
        assert not selected(path), path


def test_action_inputs_and_steps() -> None:
    action = load("action.yml")
    assert action["name"] and action["description"]
    assert {"path", "fail-on", "version", "pip-args", "sarif-file"} <= set(action["inputs"])
    assert action["inputs"]["fail-on"]["default"] == "high"
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/setup-python@")
    assert any("pip install" in s.get("run", "") for s in steps)
    scan = next(s for s in steps if s.get("id") == "scan")
    assert "sagefence scan templates" in scan["run"]
    assert "--format sarif" in scan["run"] and '--output "$SARIF_FILE"' in scan["run"]
    assert all(s["shell"] == "bash" for s in steps if "run" in s)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["if"].startswith("always()")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert steps.index(upload) < len(steps) - 1
    last = steps[-1]
    assert last["if"].startswith("always()")
    assert 'exit "$SCAN_EXIT_CODE"' in last["run"]
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.scan.outputs.exit-code }}"


def test_inputs_reach_scripts_only_through_the_environment() -> None:
    """`${{ inputs.* }}` inside `run:` would let an input inject shell code."""
    for step in load("action.yml")["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]


def run_step(step: dict[str, Any], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-e", "-c", step["run"]], env={**os.environ, **env}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is needed to run the action's scripts")
@pytest.mark.parametrize("code", [0, 1, 3])
def test_scan_step_keeps_the_exit_code_for_the_last_step(tmp_path: Path, code: int) -> None:
    steps = {s["name"]: s for s in load("action.yml")["runs"]["steps"]}
    scan, fail = steps["Scan templates"], steps["Fail with the scan's exit code"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "sagefence"
    fake.write_text(f'#!/bin/sh\necho "$@" > args.txt\necho "{{}}" > "$SARIF_FILE"\nexit {code}\n')
    fake.chmod(0o755)
    output = tmp_path / "github_output"
    output.touch()
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "GITHUB_OUTPUT": str(output),
           "SCAN_PATH": "cfn extra", "FAIL_ON": "medium", "SARIF_FILE": "out.sarif",
           "SCAN_ARGS": "--skip-rules NB-001"}

    result = run_step(scan, env, tmp_path)
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "args.txt").read_text().split()
    assert args == ["scan", "templates", "cfn", "extra", "--fail-on", "medium", "--format", "sarif",
                    "--output", "out.sarif", "--skip-rules", "NB-001"]
    assert output.read_text().splitlines() == [f"exit-code={code}", "sarif-written=true"]

    result = run_step(fail, {"SCAN_EXIT_CODE": str(code)}, tmp_path)
    assert result.returncode == code
