from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sagefence.catalogue import load_catalogue
from sagefence.config import Config
from sagefence.engine import select_rules
from sagefence.findings import FindingsDocument
from sagefence.scan import ScanContext, scan_templates
from sagefence.status import SourceKind

FIXTURES = Path(__file__).parent / "fixtures"
SCAN_DATE = date(2026, 11, 25)


def scan(paths: list[str | Path], rules: list[str] | None = None, config: Config | None = None) -> FindingsDocument:
    config = config or Config()
    selected = select_rules(load_catalogue(), config, only=rules or [], source=SourceKind.TEMPLATES)
    return scan_templates([str(p) for p in paths], ScanContext(config, selected, today=SCAN_DATE))


@pytest.fixture
def scan_files():
    return scan
