"""ruff and mypy are part of the test run, so CI (.ci/run runs the README's test command) enforces both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean() -> None:
    proc = _run("ruff", "check", "sagefence", "tests", "benchmarks")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_mypy_is_clean() -> None:
    proc = _run("mypy", "--ignore-missing-imports", "--cache-dir", "/dev/null", "sagefence")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
