"""Shapes of what the live source emits, over an organization scan of the moto world."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from sagefence.policy import Decision, Request, evaluate, parse_policy
from sagefence.sources.aws import LiveScanOptions, LiveScanResult, budget, collect, scanner_policy
from sagefence.sources.aws.scanner_policy import iam_action
from sagefence.status import SourceKind
from sagefence.values import Missing
from tests.sources.aws import aws_world
from tests.sources.aws.aws_harness import injected

MANAGEMENT = aws_world.MANAGEMENT


@pytest.fixture(scope="module")
def recorded(world: aws_world.World) -> tuple[LiveScanResult, list[str]]:
    """The organization scan, with every API operation it called recorded by a botocore hook."""
    options = LiveScanOptions(regions=aws_world.REGIONS, organization=True, role_name=aws_world.SCANNER_ROLE)
    with injected() as seen:
        return collect(options), seen


@pytest.fixture(scope="module")
def scan(recorded: tuple[LiveScanResult, list[str]]) -> LiveScanResult:
    return recorded[0]


def of(result: LiveScanResult, type_: str, account: str = MANAGEMENT, region: str | None = "us-east-1") -> list[Any]:
    return [r for r in result.resources if r.type == type_ and r.account == account and r.region == region]


def one(result: LiveScanResult, type_: str, id_: str) -> Any:
    (found,) = [r for r in result.resources if r.type == type_ and r.id == id_]
    return found


def test_scan_is_complete_and_scoped(scan: LiveScanResult, world: aws_world.World) -> None:
    assert scan.failures == ()
    assert scan.accounts == (MANAGEMENT, world.member)
    assert scan.regions == ("eu-west-1", "us-east-1")
    assert all(r.source is SourceKind.ACCOUNT for r in scan.resources)
    assert len({(r.type, r.account, r.id) for r in scan.resources}) == len(scan.resources)


def test_ec2_shapes(scan: LiveScanResult, world: aws_world.World) -> None:
    ids = world.ids["us-east-1"]
    vpc = one(scan, "AWS::EC2::VPC", ids["vpc"])
    assert vpc.properties["CidrBlock"] == "10.0.0.0/16" and vpc.region == "us-east-1"
    assert vpc.arn == f"arn:aws:ec2:us-east-1:{MANAGEMENT}:vpc/{ids['vpc']}"
    subnet = one(scan, "AWS::EC2::Subnet", ids["subnet"])
    assert subnet.properties == {"VpcId": ids["vpc"], "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a"}
    group = one(scan, "AWS::EC2::SecurityGroup", ids["group"])
    assert group.properties["VpcId"] == ids["vpc"] and group.properties["GroupName"] == "endpoints"
    base = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    assert sorted(group.properties["SecurityGroupIngress"], key=str) == sorted(
        [
            {**base, "CidrIp": "0.0.0.0/0"},
            {**base, "CidrIp": "10.0.0.0/16"},
            {**base, "CidrIpv6": "::/0"},
            {**base, "SourceSecurityGroupId": ids["group"]},
        ],
        key=str,
    )


def test_vpc_endpoints_take_aws_defaults(scan: LiveScanResult, world: aws_world.World) -> None:
    ids = world.ids["us-east-1"]
    gateway = one(scan, "AWS::EC2::VPCEndpoint", ids["s3_endpoint"]).properties
    assert gateway["VpcEndpointType"] == "Gateway"  # moto answers None
    assert "PrivateDnsEnabled" not in gateway and "SecurityGroupIds" not in gateway
    assert gateway["ServiceName"] == "com.amazonaws.us-east-1.s3"
    assert gateway["PolicyDocument"]["Statement"][0]["Action"] == "s3:*"  # parsed from the JSON string
    assert gateway["RouteTableIds"]
    interface = one(scan, "AWS::EC2::VPCEndpoint", ids["api_endpoint"]).properties
    assert interface["VpcEndpointType"] == "Interface"
    assert interface["PrivateDnsEnabled"] is False
    assert interface["SecurityGroupIds"] == [ids["group"]] and interface["SubnetIds"] == [ids["subnet"]]


def test_s3_shapes(scan: LiveScanResult, world: aws_world.World) -> None:
    ids = world.ids["us-east-1"]
    data = one(scan, "AWS::S3::Bucket", "arn:aws:s3:::sf-data-123")
    assert data.region == "us-east-1" and data.arn == "arn:aws:s3:::sf-data-123"
    assert data.properties["BucketName"] == "sf-data-123"
    (rule,) = data.properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": ids["key"]}
    assert set(data.properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert data.properties["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert "policy_error" not in data.extra
    policy = one(scan, "AWS::S3::BucketPolicy", "arn:aws:s3:::sf-data-123")
    assert policy.properties["Bucket"] == "sf-data-123"
    assert policy.properties["PolicyDocument"] == aws_world.DENY_NO_VPC

    plain = one(scan, "AWS::S3::Bucket", f"arn:aws:s3:::{ids['bucket']}")
    assert plain.properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }  # SSE-S3 is the AWS default since 2023
    assert set(plain.properties["PublicAccessBlockConfiguration"].values()) == {False}
    assert "Tags" not in plain.properties
    assert not [r for r in scan.resources if r.type == "AWS::S3::BucketPolicy" and r.id == plain.id]
    europe = one(scan, "AWS::S3::Bucket", f"arn:aws:s3:::{world.ids['eu-west-1']['bucket']}")
    assert europe.region == "eu-west-1"


def test_kms_customer_keys_only(scan: LiveScanResult, world: aws_world.World) -> None:
    ids = world.ids["us-east-1"]
    keys = of(scan, "AWS::KMS::Key")
    assert [k.id for k in keys] == [ids["key"]]  # not the alias/aws/s3 key, not the one pending deletion
    key = keys[0].properties
    assert key["EnableKeyRotation"] is True and key["KeyState"] == "Enabled"
    assert key["Description"] == "data key"
    assert key["KeyPolicy"]["Statement"][0]["Action"] == "kms:*"
    aliases = {a.properties["AliasName"]: a for a in of(scan, "AWS::KMS::Alias")}
    assert aliases["alias/sf-data"].properties["TargetKeyId"] == ids["key"].rsplit("/", 1)[-1]
    assert aliases["alias/aws/s3"].extra == {"aws_managed": True}
    assert "alias/aws/ebs" not in aliases  # moto's predefined aliases without a key


def test_iam_shapes(scan: LiveScanResult) -> None:
    role = one(scan, "AWS::IAM::Role", f"arn:aws:iam::{MANAGEMENT}:role/ml/SageMakerExecution")
    assert role.region is None and role.account == MANAGEMENT
    props = role.properties
    assert props["RoleName"] == "SageMakerExecution" and props["Path"] == "/ml/"
    assert props["AssumeRolePolicyDocument"] == aws_world.TRUST_SAGEMAKER
    assert props["Policies"][0]["PolicyName"] == "inline"
    assert props["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"] == "s3:GetObject"
    assert props["ManagedPolicyArns"] == [f"arn:aws:iam::{MANAGEMENT}:policy/PassAnything"]
    assert props["PermissionsBoundary"] == f"arn:aws:iam::{MANAGEMENT}:policy/Boundary"
    managed = one(scan, "AWS::IAM::ManagedPolicy", f"arn:aws:iam::{MANAGEMENT}:policy/PassAnything")
    assert managed.properties["ManagedPolicyName"] == "PassAnything"
    assert managed.properties["Roles"] == ["SageMakerExecution"]
    assert managed.properties["PolicyDocument"]["Statement"][0]["Action"] == "iam:PassRole"
    assert managed.extra == {"aws_managed": False}
    detached = one(scan, "AWS::IAM::ManagedPolicy", f"arn:aws:iam::{MANAGEMENT}:policy/Detached")
    assert detached.properties["Roles"] == []


def test_notebook_shapes(scan: LiveScanResult, world: aws_world.World) -> None:
    ids = world.ids["us-east-1"]
    arn = f"arn:aws:sagemaker:us-east-1:{MANAGEMENT}:notebook-instance/legacy"
    legacy = one(scan, "AWS::SageMaker::NotebookInstance", arn)
    props = legacy.properties
    assert props["NotebookInstanceName"] == "legacy"
    assert props["DirectInternetAccess"] == "Disabled"
    assert props["RootAccess"] == "Enabled"  # absent in moto's answer: the AWS default
    assert props["SubnetId"] == ids["subnet"] and props["SecurityGroupIds"] == [ids["group"]]
    assert props["LifecycleConfigName"] == "backup" and props["InstanceType"] == "ml.t3.medium"
    assert props["RoleArn"].endswith(":role/SageMakerExecution")
    assert isinstance(props["PlatformIdentifier"], Missing)  # moto drops it
    assert "KmsKeyId" not in props
    assert props["Tags"] == [{"Key": "ebs-backup-bucket", "Value": "sf-data-123"}]
    assert legacy.extra["status"] == "InService"
    opened = one(scan, "AWS::SageMaker::NotebookInstance", arn.replace("legacy", "open")).properties
    assert opened["DirectInternetAccess"] == "Enabled" and "SubnetId" not in opened
    (config,) = of(scan, "AWS::SageMaker::NotebookInstanceLifecycleConfig")
    assert config.properties["NotebookInstanceLifecycleConfigName"] == "backup"
    assert config.properties["OnStart"] == [{"Content": "ZWNobyBoaQ=="}]


def test_domain_model_and_job_shapes(scan: LiveScanResult, world: aws_world.World) -> None:
    ids = world.ids["us-east-1"]
    domain = one(scan, "AWS::SageMaker::Domain", ids["domain_arn"]).properties
    assert domain["DomainId"] == ids["domain_arn"].rsplit("/", 1)[-1]
    assert domain["AppNetworkAccessType"] == "PublicInternetOnly"  # absent: the AWS default
    assert domain["VpcId"] == ids["vpc"] and domain["SubnetIds"] == [ids["subnet"]]
    assert domain["DefaultUserSettings"]["ExecutionRole"].endswith(":role/SageMakerExecution")
    models = {m.properties["ModelName"]: m.properties for m in of(scan, "AWS::SageMaker::Model")}
    assert models["private"]["VpcConfig"] == {"SecurityGroupIds": [ids["group"]], "Subnets": [ids["subnet"]]}
    assert "VpcConfig" not in models["public"]
    jobs = {j.properties["TrainingJobName"]: j.properties for j in of(scan, "AWS::SageMaker::TrainingJob")}
    assert set(jobs) == {"train-0", "train-1", "train-2"}
    assert jobs["train-0"]["VpcConfig"]["Subnets"] == [ids["subnet"]] and "VpcConfig" not in jobs["train-1"]
    (processing,) = of(scan, "AWS::SageMaker::ProcessingJob")
    assert processing.properties["VpcConfig"]["Subnets"] == [ids["subnet"]]
    assert processing.properties["NetworkConfig"]["VpcConfig"]["Subnets"] == [ids["subnet"]]


def test_recent_jobs_limit(world: aws_world.World) -> None:
    result = collect(LiveScanOptions(regions=("us-east-1",), recent_jobs=2))
    assert len(of(result, "AWS::SageMaker::TrainingJob")) == 2
    assert result.api_calls["by_operation"]["sagemaker.DescribeTrainingJob"] == 2


def test_stack_shapes(scan: LiveScanResult) -> None:
    stacks = {s.properties["StackName"]: s for s in of(scan, "AWS::CloudFormation::Stack")}
    deployed = stacks["with-role"]
    assert deployed.id.startswith(f"arn:aws:cloudformation:us-east-1:{MANAGEMENT}:stack/with-role/")
    assert deployed.properties["RoleARN"] == f"arn:aws:iam::{MANAGEMENT}:role/Deployer"
    (topic,) = deployed.extra["resources"]
    assert topic["type"] == "AWS::SNS::Topic" and topic["physical_id"].startswith("arn:aws:sns:")
    assert "resources" not in stacks["no-role"].extra and "RoleARN" not in stacks["no-role"].properties


def test_member_account_is_isolated(scan: LiveScanResult, world: aws_world.World) -> None:
    member_buckets = [b.properties["BucketName"] for b in of(scan, "AWS::S3::Bucket", world.member)]
    assert member_buckets == [world.ids["member"]["bucket"]]
    roles = {r.properties["RoleName"] for r in of(scan, "AWS::IAM::Role", world.member, None)}
    assert "MemberRole" in roles and "SageMakerExecution" not in roles
    assert of(scan, "AWS::EC2::VPC", world.member, "eu-west-1")  # the member's default VPC
    assert not of(scan, "AWS::SageMaker::NotebookInstance", world.member)


def test_organization(scan: LiveScanResult, world: aws_world.World) -> None:
    assert f"suspended account {world.suspended} (old) skipped" in scan.notices
    assert world.suspended not in scan.accounts
    assert not [r for r in scan.resources if r.account == world.suspended]
    accounts = {r.properties["Id"]: r.properties for r in scan.resources if r.type == "AWS::Organizations::Account"}
    assert set(accounts) == {MANAGEMENT, world.member}
    assert accounts[world.member]["ParentIds"] == [world.ids["ou"], world.ids["root"]]
    assert accounts[MANAGEMENT]["ParentIds"] == [world.ids["root"]]
    policies = {r.properties["Name"]: r for r in scan.resources if r.type == "AWS::Organizations::Policy"}
    guardrail = policies["DenyNoVpcSageMaker"]
    assert guardrail.properties["TargetIds"] == [world.ids["ou"]]
    assert guardrail.properties["Content"]["Statement"][0]["Effect"] == "Deny"
    assert guardrail.region is None and guardrail.account == MANAGEMENT
    assert policies["FullAWSAccess"].extra == {"aws_managed": True}


def test_api_calls_are_counted(scan: LiveScanResult, world: aws_world.World) -> None:
    calls = scan.api_calls
    assert calls["total"] == sum(calls["by_operation"].values()) == sum(calls["by_account_region"].values())
    assert calls["retries"] == 0
    assert calls["by_operation"]["sts.AssumeRole"] == 1  # the member; the management uses its own credentials
    assert calls["by_operation"]["iam.GetAccountAuthorizationDetails"] == 2
    # GetAccountAuthorizationDetails is an account-wide call; no account is asked its regions, as
    # none of those scanned can be disabled
    assert "ec2.DescribeRegions" not in calls["by_operation"]
    assert calls["by_account_region"][f"{world.member}/global"] == 1
    assert calls["by_account_region"][f"{MANAGEMENT}/global"] >= 2
    assert f"{MANAGEMENT}/global" in calls["by_account_region"] and "caller/global" not in calls["by_account_region"]


def test_counter_is_exact(recorded: tuple[LiveScanResult, list[str]]) -> None:
    result, seen = recorded
    assert result.api_calls["by_operation"] == dict(sorted(Counter(seen).items()))


def test_call_count_within_budget(scan: LiveScanResult, world: aws_world.World) -> None:
    calls = scan.api_calls["by_operation"]
    scopes = len(scan.accounts) * len(scan.regions)
    limit = budget.bound(scan.resources, len(scan.accounts), scopes, organization=True, unlisted_keys=1)
    assert scan.api_calls["total"] <= limit
    for operation in budget.REGION_CALLS:
        assert calls[operation] == scopes, operation
    buckets = len([r for r in scan.resources if r.type == "AWS::S3::Bucket"])
    for operation in budget.PER_RESOURCE["AWS::S3::Bucket"]:
        assert calls[operation] == buckets, operation
    assert calls["kms.GetKeyPolicy"] == len([r for r in scan.resources if r.type == "AWS::KMS::Key"])
    assert calls["kms.DescribeKey"] == 2  # the customer key and the one pending deletion; not alias/aws/s3's


def test_shipped_policy_allows_exactly_what_is_called(recorded: tuple[LiveScanResult, list[str]]) -> None:
    _, seen = recorded
    document = scanner_policy(aws_world.SCANNER_ROLE)
    policy = parse_policy(document, "scanner-policy.json", "identity")
    scanner = f"arn:aws:iam::{MANAGEMENT}:role/{aws_world.SCANNER_ROLE}"
    member_role = f"arn:aws:iam::210987654321:role/{aws_world.SCANNER_ROLE}"
    for operation in sorted(set(seen)):
        name = operation.split(".", 1)[1]
        assert name.startswith(("List", "Get", "Describe")) or operation == "sts.AssumeRole", operation
        resource = member_role if operation == "sts.AssumeRole" else "*"
        request = Request(scanner, iam_action(operation), resource)
        assert evaluate(request, identity=[policy]).decision is Decision.ALLOW, operation
    granted = {a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    # nothing more than what a scan calls (DescribeRegions: for all regions or an opt-in one)
    assert granted == {iam_action(op) for op in seen} | {"ec2:DescribeRegions"}
    for write in ("s3:PutBucketPolicy", "iam:PassRole", "sagemaker:CreateNotebookInstance", "kms:Decrypt"):
        assert evaluate(Request(scanner, write, "*"), identity=[policy]).decision is not Decision.ALLOW
    other_role = "arn:aws:iam::210987654321:role/Admin"
    assert evaluate(Request(scanner, "sts:AssumeRole", other_role), identity=[policy]).decision is not Decision.ALLOW
