"""Live AWS source: read-only collection of CloudFormation-shaped resources.

Importing this package does not import botocore; ``collect`` does, when called.
"""

from __future__ import annotations

from sagefence.sources.aws.options import LiveScanOptions, LiveScanResult, LiveScanSetupError
from sagefence.sources.aws.scanner_policy import scanner_policy

__all__ = ["LiveScanOptions", "LiveScanResult", "LiveScanSetupError", "collect", "scanner_policy"]


def collect(options: LiveScanOptions) -> LiveScanResult:
    """Scan the accounts and regions ``options`` name; never raises for a failed listing."""
    from sagefence.sources.aws.runner import run

    return run(options)
