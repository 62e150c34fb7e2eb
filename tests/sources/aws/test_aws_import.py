"""The live source costs nothing until a live scan runs."""

from __future__ import annotations

import subprocess
import sys

from sagefence.sources.aws import LiveScanOptions, scanner_policy


def test_importing_the_package_does_not_import_botocore() -> None:
    code = (
        "import sys, sagefence.sources.aws as a; a.scanner_policy()\n"
        "assert not {'boto3', 'botocore'} & set(sys.modules), 'botocore'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_live_scan_imports_botocore_but_not_boto3() -> None:
    """boto3 is 25-30 ms of imports (s3transfer, multiprocessing) a scan has no use for."""
    code = "import sys, sagefence.sources.aws.runner; assert 'botocore' in sys.modules and 'boto3' not in sys.modules"
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
