"""Inline suppressions: expiry is a date, an unreadable one is an error, an expired one is said so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.review._util import scan_files, write

TEMPLATE = """
Resources:
  Notebook:
    Type: AWS::SageMaker::NotebookInstance
    Metadata:
      sagefence:
        suppress:
          - {{rule: SM-003, reason: "data scientists install drivers, SEC-12"{expires}}}
    Properties:
      InstanceType: ml.t3.medium
      RoleArn: arn:aws:iam::123456789012:role/nb
      RootAccess: Enabled
"""


def scan(tmp_path: Path, expires: str):
    text = TEMPLATE.format(expires=f", expires: {expires}" if expires else "")
    return scan_files([write(tmp_path, text)], "SM-003")


@pytest.mark.parametrize("expires", ["31/12/2020", "never", "'2020-13-01'", "2020-1-1", "20991231", "[2099-01-01]"])
def test_an_expiry_that_is_not_an_iso_date_is_an_error_and_suppresses_nothing(tmp_path: Path, expires: str) -> None:
    doc = scan(tmp_path, expires)
    (finding,) = doc.findings
    assert finding.status.value == "fail" and finding.suppressed is None
    assert any("is not a date (YYYY-MM-DD, ISO 8601)" in e.message and "Notebook" in e.message for e in doc.errors)


@pytest.mark.parametrize("expires", ["2099-12-31", "'2099-12-31'", ""])
def test_a_current_suppression_applies(tmp_path: Path, expires: str) -> None:
    doc = scan(tmp_path, expires)
    (finding,) = doc.findings
    assert not doc.errors and finding.suppressed is not None
    assert finding.suppressed.expires == (expires.strip("'") or None)


def test_an_expired_suppression_is_reported_as_expired(tmp_path: Path) -> None:
    doc = scan(tmp_path, "2020-12-31")
    (finding,) = doc.findings
    assert not doc.errors and finding.suppressed is None and finding.counts_as_failure
    assert finding.evidence["expired_suppression"] == {"reason": "data scientists install drivers, SEC-12",
                                                       "expires": "2020-12-31", "source": "template"}
    assert "its suppression expired on 2020-12-31" in finding.message


def test_an_expired_config_suppression_is_reported_as_expired(tmp_path: Path) -> None:
    config = {"suppressions": [{"rule": "SM-003", "resource": "Note*", "reason": "pilot, SEC-9", "expires": "2021-01-31"}]}
    doc = scan_files([write(tmp_path, TEMPLATE.format(expires=", expires: 2020-12-31"))], "SM-003", config)
    (finding,) = doc.findings
    assert finding.suppressed is None
    assert finding.evidence["expired_suppression"] == {"reason": "pilot, SEC-9", "expires": "2021-01-31",
                                                       "source": "config"}


@pytest.mark.parametrize("expires", ["never", "31/12/2020"])
def test_a_config_expiry_that_is_not_a_date_is_a_configuration_error(expires: str) -> None:
    from sagefence.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match="expires"):
        parse_config({"suppressions": [{"rule": "SM-003", "reason": "r", "expires": expires}]}, "sagefence.yaml")
