"""sagefence.yaml (config.md): defaults without pydantic, one-line errors naming the key path."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from sagefence.config import Config, ConfigError, RuleOverride, Scope, load_config, parse_config
from sagefence.status import Severity

EXAMPLE = """
account_id: "123456789012"
region: us-east-1
required_endpoints: [sagemaker.api, sagemaker.runtime, sts, logs]
trusted_accounts: ["111122223333"]
principals: [arn:aws:iam::123456789012:role/DataScientist]
scope: {buckets: ["*-data", "*-models"], vpcs: [vpc-0abc]}
expectations:
  passrole:
    - deployer: arn:aws:iam::123456789012:role/ml-stackset-execution
      role: arn:aws:iam::123456789012:role/ml-model-execution
      service: sagemaker.amazonaws.com
rules:
  VPCE-003: {enabled: false}
  KMS-002: {severity: high}
  SM-006: {params: {recent_jobs: 50}}
suppressions:
  - rule: S3-005
    resource: PartnerDropBucket
    reason: "Partner tooling; compensating DenyNoVPC in place (SEC-1877)."
    expires: 2027-12-31
platforms:
  notebook-al2-v3: {end_of_support: 2026-06-30}
  notebook-al2023-v1: {end_of_support: null}
migration: {target_platform: notebook-al2023-v1}
"""  # the example of config.md


def error(data: Any, known_rules: set[str] | None = None) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_config(data, "sagefence.yaml", known_rules)
    return str(exc.value)


def test_default_config_imports_no_pydantic(tmp_path: Path) -> None:
    code = ("import sys\n"
            "from sagefence.config import Config, load_config\n"
            "Config()\n"
            "assert 'pydantic' not in sys.modules, 'Config()'\n"
            "config, path = load_config(None)\n"
            "assert path is None and config == Config()\n"
            "assert 'pydantic' not in sys.modules, 'load_config(None)'\n")
    root = Path(__file__).resolve().parents[1]
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


def test_a_config_file_is_validated(tmp_path: Path) -> None:
    (tmp_path / "sagefence.yaml").write_text("account_id: 42\nrules: {KMS-002: {severity: high}}\n")
    config, path = load_config(None, {"KMS-002"}, cwd=tmp_path)
    assert path == str(tmp_path / "sagefence.yaml")
    assert config.account_id == "000000000042"
    assert config.rules == {"KMS-002": RuleOverride(severity=Severity.HIGH)}


def test_empty_and_default_configs_are_equal() -> None:
    assert parse_config(None, "x") == parse_config({}, "x") == Config()
    assert Config().scope == Scope(buckets=("*",), vpcs=())


def test_the_spec_example_parses() -> None:
    config = parse_config(yaml.safe_load(EXAMPLE), "sagefence.yaml", {"VPCE-003", "KMS-002", "SM-006", "S3-005"})
    assert config.trusted_accounts == ("111122223333",)
    assert config.rules["KMS-002"].severity is Severity.HIGH and not config.rules["VPCE-003"].enabled
    assert config.rules["SM-006"].params == {"recent_jobs": 50}
    (sup,) = config.suppressions
    assert sup.resource == "PartnerDropBucket" and sup.expires == date(2027, 12, 31)
    assert config.platforms["notebook-al2-v3"].end_of_support == date(2026, 6, 30)
    assert config.platforms["notebook-al2023-v1"].end_of_support is None
    assert config.expectations.passrole[0].service == "sagemaker.amazonaws.com"
    assert config.scope.buckets == ("*-data", "*-models")


def test_account_ids() -> None:
    assert parse_config({"account_id": 111122223333}, "x").account_id == "111122223333"
    config = parse_config({"trusted_accounts": [42, "111122223333"]}, "x")
    assert config.trusted_accounts == ("000000000042", "111122223333")
    assert error({"account_id": "ml-staging"}) == "sagefence.yaml: account_id: 'ml-staging' is not a 12-digit account id"
    assert error({"account_id": 1234567890123}) == "sagefence.yaml: account_id: '1234567890123' is not a 12-digit account id"
    assert error({"account_id": True}) == "sagefence.yaml: account_id: True is not a 12-digit account id"
    assert error({"account_id": [1]}) == "sagefence.yaml: account_id: [1] is not a 12-digit account id"
    assert (error({"trusted_accounts": ["111122223333", 5.0, "ml-staging"]})
            == "sagefence.yaml: trusted_accounts[1]: 5.0 is not a 12-digit account id")
    assert error({"trusted_accounts": "111122223333"}) == "sagefence.yaml: trusted_accounts: Input should be a valid tuple"
    assert error({"trusted_accounts": 5}) == "sagefence.yaml: trusted_accounts: Input should be a valid tuple"


def test_region() -> None:
    assert parse_config({"region": "us-gov-west-1"}, "x").region == "us-gov-west-1"
    assert error({"region": "US-East-1"}) == "sagefence.yaml: region: 'US-East-1' is not an AWS region name"
    assert error({"region": 1}) == "sagefence.yaml: region: Input should be a valid string"


def test_suppression_reason() -> None:
    (sup,) = parse_config({"suppressions": [{"rule": "S3-005", "reason": "  accepted  "}]}, "x").suppressions
    assert sup.reason == "accepted" and sup.resource == "*" and sup.expires is None
    assert (error({"suppressions": [{"rule": "S3-005", "reason": "ok"}, {"rule": "S3-005", "reason": " "}]})
            == "sagefence.yaml: suppressions[1].reason: a suppression needs a reason")
    assert error({"suppressions": [{"rule": "S3-005"}]}) == "sagefence.yaml: suppressions[0].reason: Field required"


@pytest.mark.parametrize(("data", "where"), [
    ({"bogus": 1}, "bogus"),
    ({"scope": {"buckets": ["*"], "zz": 1}}, "scope.zz"),
    ({"rules": {"KMS-002": {"enabled": False, "zz": 1}}}, "rules.KMS-002.zz"),
    ({"suppressions": [{"rule": "S3-005", "reason": "ok"}, {"rule": "S3-005", "reason": "ok", "zz": 1}]},
     "suppressions[1].zz"),
    ({"expectations": {"passrole": [{"deployer": "d", "role": "r", "service": "s", "zz": 1}]}},
     "expectations.passrole[0].zz"),
    ({"platforms": {"notebook-al2-v3": {"zz": 1}}}, "platforms.notebook-al2-v3.zz"),
    ({"migration": {"zz": 1}}, "migration.zz"),
])
def test_unknown_keys_name_their_path(data: dict[str, Any], where: str) -> None:
    assert error(data) == f"sagefence.yaml: {where}: unknown key"


def test_other_errors() -> None:
    assert error([1]) == "sagefence.yaml: the top level must be a mapping"
    assert error({"scope": "x"}) == "sagefence.yaml: scope: Input should be a valid dictionary or instance of Scope"
    assert (error({"rules": {"KMS-002": "off"}})
            == "sagefence.yaml: rules.KMS-002: Input should be a valid dictionary or instance of RuleOverride")
    assert error({"rules": {"KMS-002": {"severity": "urgent"}}}).startswith("sagefence.yaml: rules.KMS-002.severity: ")
    assert error({"bogus": 1, "account_id": "x"}) == "sagefence.yaml: account_id: 'x' is not a 12-digit account id"
    assert error({"rules": {"XX-999": {}}}, {"S3-005"}) == "sagefence.yaml: rules.XX-999: unknown rule id"
    assert (error({"suppressions": [{"rule": "XX-999", "reason": "r"}]}, {"S3-005"})
            == "sagefence.yaml: suppressions[0].rule: unknown rule id 'XX-999'")
