"""NB-003 and the migration plan on live-shaped inventories."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sagefence.catalogue import load_catalogue
from sagefence.checks.migration import migration_readiness
from sagefence.config import Config
from sagefence.inventory.index import Inventory
from sagefence.inventory.raw import RawResource
from sagefence.migration import build_plan, render_plan_text
from sagefence.status import SourceKind, Status
from sagefence.values import Missing

ACCOUNT, REGION = "111111111111", "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/notebook"
PARAMS = load_catalogue()["NB-003"].params


def raw(rtype: str, rid: str, props: dict[str, Any], region: str | None = REGION) -> RawResource:
    return RawResource(rtype, rid, props, SourceKind.ACCOUNT, account=ACCOUNT, region=region,
                       arn=rid if rid.startswith("arn:") else None)


def notebook(name: str, platform: Any, tags: dict[str, str] | None = None, lifecycle: str | None = None,
             internet: str = "Disabled") -> RawResource:
    props = {"NotebookInstanceName": name, "PlatformIdentifier": platform, "RoleArn": ROLE,
             "SubnetId": "subnet-1", "SecurityGroupIds": ["sg-1"], "KmsKeyId": "key-1", "VolumeSizeInGB": 50,
             "DirectInternetAccess": internet, "InstanceType": "ml.t3.medium",
             "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}
    if lifecycle:
        props["LifecycleConfigName"] = lifecycle
    return raw("AWS::SageMaker::NotebookInstance", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/{name}", props)


def network(with_s3_endpoint: bool) -> list[RawResource]:
    out = [raw("AWS::EC2::VPC", "vpc-1", {}), raw("AWS::EC2::Subnet", "subnet-1", {"VpcId": "vpc-1"})]
    if with_s3_endpoint:
        out.append(raw("AWS::EC2::VPCEndpoint", "vpce-1", {"VpcId": "vpc-1", "ServiceName": f"com.amazonaws.{REGION}.s3",
                                                             "VpcEndpointType": "Gateway"}))
    return out


def backup_role(actions: list[str]) -> RawResource:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}
    policy = {"Statement": [{"Effect": "Allow", "Action": actions,
                             "Resource": ["arn:aws:s3:::backups", "arn:aws:s3:::backups/*"]}]}
    return raw("AWS::IAM::Role", ROLE, {"RoleName": "notebook", "AssumeRolePolicyDocument": trust,
                                       "Policies": [{"PolicyName": "backup", "PolicyDocument": policy}]}, region=None)


BUCKET = raw("AWS::S3::Bucket", "arn:aws:s3:::backups", {"BucketName": "backups"})


def check(*resources: RawResource, name: str):
    inv = Inventory(resources, config=Config(), source=SourceKind.ACCOUNT, scan_date=date(2026, 11, 25))
    (nb,) = [r for r in inv.of_type("AWS::SageMaker::NotebookInstance") if r.raw.properties["NotebookInstanceName"] == name]
    return list(migration_readiness(nb, inv, PARAMS)), inv


def test_ready_instance_passes() -> None:
    results, _ = check(notebook("ready", "notebook-al1-v1", {"ebs-backup-bucket": "backups"}, "backup-lc"),
                       *network(True), BUCKET, backup_role(["s3:PutObject", "s3:GetObject", "s3:ListBucket"]), name="ready")
    assert [r.status for r in results] == [Status.PASS]


def test_every_missing_item_is_listed() -> None:
    results, _ = check(notebook("bare", "notebook-al2-v2"), *network(False), name="bare")
    (result,) = results
    assert result.status is Status.FAIL
    assert "no ebs-backup-bucket tag" in result.message
    assert "no lifecycle configuration attached" in result.message
    assert "VPC vpc-1 has no S3 endpoint" in result.message


def test_missing_bucket_and_role_permission() -> None:
    results, _ = check(notebook("half", "notebook-al1-v1", {"ebs-backup-bucket": "gone"}, "lc"), *network(True),
                       backup_role(["s3:GetObject"]), name="half")
    assert "bucket gone does not exist in the scan" in results[0].message
    results, _ = check(notebook("half", "notebook-al1-v1", {"ebs-backup-bucket": "backups"}, "lc"), *network(True),
                       BUCKET, backup_role(["s3:GetObject"]), name="half")
    assert "not allowed s3:PutObject, s3:ListBucket on arn:aws:s3:::backups" in results[0].message


def test_supported_platform_is_not_evaluated() -> None:
    assert check(notebook("new", "notebook-al2023-v1"), name="new")[0] == []


def test_plan_settings_and_unknown_platform() -> None:
    _, inv = check(notebook("old", "notebook-al1-v1", {"ebs-backup-bucket": "backups"}, "lc"),
                   notebook("mystery", Missing("PlatformIdentifier")), *network(True), BUCKET,
                   backup_role(["s3:*"]), name="old")
    plan = build_plan(inv, [], load_catalogue(), now=datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc))
    (entry,) = plan["instances"]
    settings = entry["new_instance"]
    assert settings["PlatformIdentifier"] == "notebook-al2023-v1"
    assert settings["VolumeSizeInGB"] == 50 and settings["RoleArn"] == ROLE and settings["SubnetId"] == "subnet-1"
    assert settings["SecurityGroupIds"] == ["sg-1"] and settings["KmsKeyId"] == "key-1"
    assert {"Key": "backup-snapshot", "Value": "old_20261125T120000Z"} in settings["Tags"]
    assert entry["ready"] is True
    assert any("mystery" in e and "platform not known" in e for e in plan["errors"])
    assert "old (111111111111/eu-west-1) on notebook-al1-v1 (Amazon Linux 1): READY" in render_plan_text(plan)


def test_plan_does_not_carry_insecure_settings_over() -> None:
    _, inv = check(notebook("legacy", "notebook-al1-v1", internet="Enabled"), *network(True), name="legacy")
    (entry,) = build_plan(inv, [], load_catalogue())["instances"]
    assert entry["new_instance"]["DirectInternetAccess"] == "Disabled"
    assert entry["new_instance"]["RootAccess"] == "Disabled"
    assert any("SM-002" in note for note in entry["notes"]) and any("SM-003" in note for note in entry["notes"])


def test_unreported_platform_ready_instance_passes_whatever_the_platform() -> None:
    results, _ = check(notebook("ready", Missing("PlatformIdentifier"), {"ebs-backup-bucket": "backups"}, "lc"),
                       *network(True), BUCKET, backup_role(["s3:*"]), name="ready")
    assert [r.status for r in results] == [Status.PASS]
    assert "not reported by the API" in results[0].message


def test_unreported_platform_not_ready_is_unknown() -> None:
    results, _ = check(notebook("bare", Missing("PlatformIdentifier")), *network(False), name="bare")
    (result,) = results
    assert result.status is Status.UNKNOWN
    assert "no lifecycle configuration attached" in result.message


def test_failed_tag_read_is_an_error_not_a_missing_tag() -> None:
    from sagefence.engine import Evaluation, SelectedRule
    from sagefence.values import ReadError

    nb = notebook("old", "notebook-al1-v1", lifecycle="lc")
    nb.properties["Tags"] = ReadError("sagemaker.ListTags", "AccessDenied")
    inv = Inventory([nb, *network(True)], config=Config(), source=SourceKind.ACCOUNT, scan_date=date(2026, 11, 25))
    rule = load_catalogue()["NB-003"]
    evaluation = Evaluation([SelectedRule(rule, rule.severity, PARAMS, migration_readiness, None)], Config())
    evaluation.run(inv)
    (finding,) = evaluation.findings()
    assert finding.status is Status.ERROR and "sagemaker.ListTags" in finding.message


def test_permission_that_hangs_on_an_unreadable_scp_is_unknown_not_missing() -> None:
    from sagefence.values import ReadError

    full = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    org = [raw("AWS::Organizations::Account", ACCOUNT, {"Id": ACCOUNT, "ParentIds": ["r-root"]}, region=None),
           raw("AWS::Organizations::Policy", "p-full", {"Content": full, "TargetIds": ["r-root", ACCOUNT]}, region=None),
           raw("AWS::Organizations::Policy", "p-secret", {"Content": ReadError("organizations.DescribePolicy", "denied"),
                                                          "TargetIds": [ACCOUNT]}, region=None)]
    ready = notebook("ready", "notebook-al1-v1", {"ebs-backup-bucket": "backups"}, "backup-lc")
    role = backup_role(["s3:PutObject", "s3:GetObject", "s3:ListBucket"])
    results, _ = check(ready, *network(True), BUCKET, role, *org, name="ready")
    assert [r.status for r in results] == [Status.UNKNOWN], results
    assert "depends on a policy that could not be read" in results[0].message
    # another item certainly missing still fails
    results, _ = check(notebook("untagged", "notebook-al1-v1", {}, "backup-lc"), *network(True), BUCKET, role, *org,
                       name="untagged")
    assert [r.status for r in results] == [Status.FAIL]
