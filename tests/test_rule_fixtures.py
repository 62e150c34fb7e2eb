"""Every rule's fixtures: each file's findings for that rule, exactly as expected.yaml says."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sagefence.config import Config, parse_config
from tests.conftest import FIXTURES, scan

RULE_DIRS = sorted(p for p in (FIXTURES / "rules").iterdir() if p.is_dir())


def _cases():
    for folder in RULE_DIRS:
        expected = yaml.safe_load((folder / "expected.yaml").read_text())
        config = parse_config(expected.pop("config", {}), f"{folder.name}/expected.yaml")
        for name, results in expected.items():
            yield pytest.param(folder.name, folder / name, results, config, id=f"{folder.name}/{name}")


@pytest.mark.parametrize(("rule_id", "path", "expected", "config"), list(_cases()))
def test_fixture(rule_id: str, path: Path, expected: dict[str, str], config: Config) -> None:
    doc = scan([path], rules=[rule_id], config=config)
    assert not doc.errors, doc.errors
    got = {}
    for f in doc.findings:
        assert f.rule_id == rule_id
        key = f.resource.id + (f"#{f.evidence['service']}" if f.status.value != "pass" and "service" in f.evidence else "")
        got[key] = f.status.value
        assert f.resource.file == path.as_posix() and f.resource.line, "template findings carry file and line"
    assert got == expected


def test_every_fixture_file_is_listed() -> None:
    for folder in RULE_DIRS:
        expected = yaml.safe_load((folder / "expected.yaml").read_text())
        expected.pop("config", None)
        files = {p.name for p in folder.iterdir() if p.name != "expected.yaml"}
        assert files == set(expected), folder.name
