"""The live source costs nothing until a live scan runs."""

from __future__ import annotations

import subprocess
import sys

from sagefence.sources.aws import LiveScanOptions, scanner_policy


def test_importing_the_package_does_not_import_boto3() -> None:
    code = "import sys, sagefence.sources.aws as a; a.scanner_policy(); assert 'boto3' not in sys.modules, 'boto3'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_scanner_policy_names_the_member_role() -> None:
    default = scanner_policy()
    assert default["Statement"][1]["Resource"] == "arn:aws:iam::*:role/sagefence-scanner"
    custom = scanner_policy("audit")
    assert custom["Statement"][1]["Resource"] == "arn:aws:iam::*:role/audit"
    assert scanner_policy()["Statement"][1]["Resource"].endswith("/sagefence-scanner")  # no shared state
    assert all(action.split(":")[1].startswith(("List", "Get", "Describe")) for action in default["Statement"][0]["Action"])


def test_all_regions_spellings() -> None:
    assert LiveScanOptions().all_regions and LiveScanOptions(regions=("ALL",)).all_regions
    assert not LiveScanOptions(regions=("us-east-1",)).all_regions
