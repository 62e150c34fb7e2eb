"""Fail-closed behaviour: denied and throttled calls, unreachable accounts and regions, setup errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import botocore.retries.bucket
import botocore.retries.standard
import pytest
from botocore.exceptions import EndpointConnectionError

from sagefence.sources.aws import LiveScanOptions, LiveScanResult, LiveScanSetupError, collect
from sagefence.values import ReadError
from tests.sources.aws import aws_world
from tests.sources.aws.aws_harness import denied, injected, throttled

MANAGEMENT = aws_world.MANAGEMENT
US = ("us-east-1",)


def types(result: LiveScanResult, account: str = MANAGEMENT) -> set[str]:
    return {r.type for r in result.resources if r.account == account}


def one(result: LiveScanResult, type_: str, name_key: str, name: str) -> Any:
    (found,) = [r for r in result.resources if r.type == type_ and r.properties.get(name_key) == name]
    return found


@pytest.fixture(scope="module")
def denials(world: aws_world.World) -> LiveScanResult:
    handlers = [
        ("before-call.sagemaker.ListNotebookInstances", denied("ListNotebookInstances"), False),
        ("before-call.s3.GetBucketPolicy", denied("GetBucketPolicy"), False),
        ("before-call.kms.GetKeyPolicy", denied("GetKeyPolicy"), False),
        ("before-call.sagemaker.DescribeModel", denied("DescribeModel"), False),
        ("before-call.iam.GetAccountAuthorizationDetails", denied("GetAccountAuthorizationDetails"), False),
    ]
    with injected(*handlers):
        return collect(LiveScanOptions(regions=US))


def test_denied_listing_names_the_operation(denials: LiveScanResult) -> None:
    failures = {(f.region, f.resource_type): f for f in denials.failures}
    notebooks = failures[("us-east-1", "AWS::SageMaker::NotebookInstance")]
    assert notebooks.account == MANAGEMENT and notebooks.operation == "sagemaker.ListNotebookInstances"
    assert notebooks.message.startswith("sagemaker.ListNotebookInstances: AccessDenied: ")
    assert notebooks.scope_id == f"{MANAGEMENT}/us-east-1/AWS::SageMaker::NotebookInstance"
    assert ("us-east-1", "AWS::SageMaker::NotebookInstanceLifecycleConfig") in failures
    assert failures[("global", "AWS::IAM::Role")].operation == "iam.GetAccountAuthorizationDetails"
    assert ("global", "AWS::IAM::ManagedPolicy") in failures
    assert len(denials.failures) == 4
    found = types(denials)
    assert "AWS::SageMaker::NotebookInstance" not in found and "AWS::IAM::Role" not in found
    for still in ("AWS::EC2::VPC", "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::SageMaker::Domain", "AWS::SageMaker::TrainingJob"):
        assert still in found, still


def test_denied_resource_policy_read_is_an_error_with_the_hint(denials: LiveScanResult) -> None:
    bucket = one(denials, "AWS::S3::Bucket", "BucketName", "sf-data-123")
    error = bucket.extra["policy_error"]
    assert isinstance(error, ReadError) and error.operation == "s3.GetBucketPolicy"
    assert "AccessDenied" in error.message and "inside the VPC" in error.message and "aws:PrincipalArn" in error.message
    assert bucket.properties["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True  # other reads went on
    assert not [r for r in denials.resources if r.type == "AWS::S3::BucketPolicy"]
    key = one(denials, "AWS::KMS::Key", "Description", "data key")
    assert isinstance(key.properties["KeyPolicy"], ReadError) and "inside the VPC" in key.properties["KeyPolicy"].message
    assert key.properties["EnableKeyRotation"] is True


def test_denied_describe_is_a_read_error_value(denials: LiveScanResult) -> None:
    model = one(denials, "AWS::SageMaker::Model", "ModelName", "public")
    assert isinstance(model.properties["VpcConfig"], ReadError)
    assert model.properties["VpcConfig"].operation == "sagemaker.DescribeModel"
    assert "inside the VPC" not in model.properties["VpcConfig"].message  # a model has no resource policy


def test_moto_style_403_code_counts_as_denied(world: aws_world.World) -> None:
    def moto_denied(**_: Any) -> Any:
        response, _parsed = denied("DescribeVpcEndpoints")()
        return response, {"Error": {"Code": "403", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 403}}

    def key_403(**_: Any) -> Any:
        response, _parsed = denied("DescribeKey")()
        return response, {"Error": {"Code": "403", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 403}}

    with injected(
        ("before-call.ec2.DescribeVpcEndpoints", moto_denied, False), ("before-call.kms.DescribeKey", key_403, False)
    ):
        result = collect(LiveScanOptions(regions=US))
    (failure,) = result.failures
    assert failure.resource_type == "AWS::EC2::VPCEndpoint" and failure.message.startswith("ec2.DescribeVpcEndpoints: 403")
    keys = [r for r in result.resources if r.type == "AWS::KMS::Key"]
    assert keys and all("inside the VPC" in r.properties["KeyState"].message for r in keys)


def test_throttling_until_retries_are_exhausted(world: aws_world.World, monkeypatch: pytest.MonkeyPatch) -> None:
    # no back-off sleeps, and the adaptive mode's client-side rate limiter never waits
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "acquire", lambda self, amount=1, block=True: True)
    attempts: list[int] = []
    with injected(("before-send.sagemaker.ListModels", throttled(attempts), True)):
        result = collect(LiveScanOptions(regions=US))
    (failure,) = result.failures
    assert failure.operation == "sagemaker.ListModels" and failure.resource_type == "AWS::SageMaker::Model"
    # botocore's retries max_attempts counts retries: 1 attempt + 8 retries
    assert "ThrottlingException" in failure.message and "gave up after 9 attempts" in failure.message
    assert len(attempts) == 9
    assert result.api_calls["by_operation"]["sagemaker.ListModels"] == 1
    assert result.api_calls["retries"] == result.api_calls["retries_by_operation"]["sagemaker.ListModels"] == 8
    assert "AWS::SageMaker::TrainingJob" in types(result)  # the same client goes on with the jobs


def test_region_not_opted_in_is_a_notice(world: aws_world.World) -> None:
    result = collect(LiveScanOptions(regions=("us-east-1", "me-south-1")))
    assert result.regions == ("us-east-1",)
    assert f"skipped opt-in region me-south-1 in account {MANAGEMENT} (not enabled)" in result.notices
    assert not [r for r in result.resources if r.region == "me-south-1"] and not result.failures


def test_members_are_asked_their_regions_only_for_opt_in_regions(world: aws_world.World) -> None:
    member = LiveScanOptions(accounts=(world.member,), role_name=aws_world.SCANNER_ROLE)
    # us-east-1 and eu-west-1 need no opt-in: enabled in every account, so no account is asked
    plain = collect(replace(member, regions=("us-east-1", "eu-west-1")))
    assert "ec2.DescribeRegions" not in plain.api_calls["by_operation"]
    assert plain.regions == ("eu-west-1", "us-east-1") and "AWS::S3::Bucket" in types(plain, world.member)
    # an opt-in region may be enabled in one account and not in another: each account is asked
    opt_in = collect(replace(member, regions=("us-east-1", "me-south-1")))
    assert opt_in.api_calls["by_operation"]["ec2.DescribeRegions"] == 2
    assert f"skipped opt-in region me-south-1 in account {world.member} (not enabled)" in opt_in.notices


def test_regions_no_account_can_disable_are_what_describe_regions_says(world: aws_world.World) -> None:
    from sagefence.sources.aws.accounts import ALWAYS_ENABLED

    answer = boto3.client("ec2", region_name="us-east-1").describe_regions(AllRegions=True)["Regions"]
    status = {r["RegionName"]: r.get("OptInStatus") for r in answer}
    assert {status.get(region) for region in ALWAYS_ENABLED} == {"opt-in-not-required"}
    assert ALWAYS_ENABLED.issubset(boto3.session.Session().get_available_regions("ec2"))


def test_regions_are_asked_outside_the_commercial_partition(world: aws_world.World) -> None:
    def in_china(parsed: dict[str, Any], **_: Any) -> None:
        parsed["Arn"] = parsed["Arn"].replace("arn:aws:", "arn:aws-cn:")

    # the table of regions no account can disable is the commercial partition's: elsewhere the
    # caller is asked, and us-east-1 is no region of the China partition
    china = ("after-call.sts.GetCallerIdentity", in_china, False)
    with injected(china), pytest.raises(LiveScanSetupError, match="unknown region.*us-east-1") as raised:
        collect(LiveScanOptions(regions=US))
    assert raised.value.usage is True


def test_all_regions_are_the_enabled_ones_of_the_partition(world: aws_world.World) -> None:
    def few_regions(parsed: dict[str, Any], **_: Any) -> None:
        keep = {"us-east-1", "eu-west-1", "me-south-1", "cn-north-1"}
        parsed["Regions"] = [r for r in parsed["Regions"] if r["RegionName"] in keep]

    with injected(("after-call.ec2.DescribeRegions", few_regions, False)):
        result = collect(LiveScanOptions(regions=("all",)))
    assert result.regions == ("eu-west-1", "us-east-1")
    assert any("me-south-1" in notice for notice in result.notices)


def test_unreachable_member_account(world: aws_world.World) -> None:
    def refuse(params: dict[str, Any], **_: Any) -> Any:
        if "210987654321" in str(params.get("body")):
            return denied("AssumeRole")()
        return None

    options = LiveScanOptions(regions=US, accounts=(world.member, "210987654321"), role_name=aws_world.SCANNER_ROLE)
    with injected(("before-call.sts.AssumeRole", refuse, False)):
        result = collect(options)
        assert result.accounts == (world.member, "210987654321")
        assert any(n.startswith("account 210987654321 not scanned: sts.AssumeRole: AccessDenied") for n in result.notices)
        lost = {(f.region, f.resource_type) for f in result.failures if f.account == "210987654321"}
        assert ("global", "AWS::IAM::Role") in lost and ("us-east-1", "AWS::S3::Bucket") in lost
        assert {f.operation for f in result.failures} == {"sts.AssumeRole"}
        assert "AWS::S3::Bucket" in types(result, world.member)
        with pytest.raises(LiveScanSetupError, match="cannot assume role 'sagefence-scanner' in any") as raised:
            collect(LiveScanOptions(regions=US, accounts=("210987654321",), role_name=aws_world.SCANNER_ROLE))
        assert raised.value.usage is False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (LiveScanOptions(accounts=("210987654321",)), "--role-name is required"),
        (LiveScanOptions(accounts=("ml-dev",), role_name="r"), "not a 12-digit account id"),
        (LiveScanOptions(accounts=("210987654321",), organization=True, role_name="r"), "cannot be combined"),
        (LiveScanOptions(regions=("us-east-7",)), "unknown region"),
        (LiveScanOptions(max_workers=0), "--max-workers"),
    ],
)
def test_setup_errors(world: aws_world.World, options: LiveScanOptions, message: str) -> None:
    with pytest.raises(LiveScanSetupError, match=message) as raised:
        collect(options)
    assert raised.value.usage is True  # a bad option: exit 2


def test_no_credentials_is_a_setup_error(world: aws_world.World, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(LiveScanSetupError, match="cannot use the AWS credentials") as raised:
        collect(LiveScanOptions(regions=US))
    assert raised.value.usage is False  # AWS could not be used: exit 3
    with pytest.raises(LiveScanSetupError, match="--profile: .*nope") as raised:
        collect(LiveScanOptions(profile="nope", regions=US))
    assert raised.value.usage is True


def test_setup_clients_come_before_the_models_and_their_failures_stay_the_setup_calls(
    world: aws_world.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import NoCredentialsError

    from sagefence.sources.aws import calls

    made: list[tuple[str, str | None]] = []
    at_preload: list[list[tuple[str, str | None]]] = []
    make, preload = calls.AccountClients.client, calls.preload

    def client(self: calls.AccountClients, service: str, region: str | None = None) -> object:
        if self.account == "caller" and (service, region) not in made:
            made.append((service, region))
        return make(self, service, region)

    monkeypatch.setattr(calls.AccountClients, "client", client)
    monkeypatch.setattr(
        calls, "preload", lambda session, services: (at_preload.append(list(made)), preload(session, services))
    )
    collect(LiveScanOptions(regions=US, organization=True, role_name=aws_world.SCANNER_ROLE))
    # each setup call may make its own client first; the models are read once the setup's exist
    # (no DescribeRegions, so no EC2 client, for regions no account can disable)
    assert [sorted(m) for m in at_preload] == [[("organizations", None), ("sts", None)]]
    collect(LiveScanOptions(regions=(*US, "me-south-1"), organization=True, role_name=aws_world.SCANNER_ROLE))
    assert [sorted(m) for m in at_preload[1:]] == [[("ec2", None), ("organizations", None), ("sts", None)]]

    def no_sts(self: calls.AccountClients, service: str, region: str | None = None) -> object:
        if service == "sts":
            raise NoCredentialsError()
        return make(self, service, region)

    monkeypatch.setattr(calls.AccountClients, "client", no_sts)
    with pytest.raises(LiveScanSetupError, match="cannot use the AWS credentials: sts.GetCallerIdentity"):
        collect(LiveScanOptions(regions=US))


def test_calls_grow_by_a_fixed_few_per_resource(world: aws_world.World) -> None:
    region = "us-west-2"
    before = collect(LiveScanOptions(regions=(region,))).api_calls["total"]
    s3 = boto3.client("s3", region_name=region)
    for name in ("sf-extra-1", "sf-extra-2"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    boto3.client("kms", region_name=region).create_key(Description="extra")
    boto3.client("sagemaker", region_name=region).create_notebook_instance(
        NotebookInstanceName="extra", InstanceType="ml.t3.medium", RoleArn=f"arn:aws:iam::{MANAGEMENT}:role/x"
    )
    after = collect(LiveScanOptions(regions=(region,))).api_calls["total"]
    assert after - before == 2 * 4 + 3 + 2  # per bucket, per key, per notebook without lifecycle config


def test_progress_bar_does_not_change_the_result(world: aws_world.World) -> None:
    quiet = collect(LiveScanOptions(regions=US))
    shown = collect(LiveScanOptions(regions=US, progress=True, max_workers=2))
    assert [r.id for r in shown.resources] == [r.id for r in quiet.resources]
    assert shown.api_calls["by_operation"] == quiet.api_calls["by_operation"]


def test_unreachable_endpoint_is_a_listing_failure(world: aws_world.World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)

    def unreachable(request: Any, **_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=request.url)

    with injected(("before-send.kms.ListKeys", unreachable, True)):
        result = collect(LiveScanOptions(regions=US))
    (failure,) = result.failures
    assert failure.resource_type == "AWS::KMS::Key" and failure.operation == "kms.ListKeys"
    assert failure.message.startswith("kms.ListKeys: EndpointConnectionError: Could not connect")
    assert "AWS::KMS::Alias" in types(result)


def test_undescribed_processing_job_is_an_error_where_rules_look(world: aws_world.World) -> None:
    with injected(("before-call.sagemaker.DescribeProcessingJob", denied("DescribeProcessingJob"), False)):
        result = collect(LiveScanOptions(regions=US))
    job = one(result, "AWS::SageMaker::ProcessingJob", "ProcessingJobName", "process-0")
    assert isinstance(job.properties["VpcConfig"], ReadError)
    assert isinstance(job.properties["NetworkConfig"]["VpcConfig"], ReadError)
    assert isinstance(job.properties["RoleArn"], ReadError)


def test_member_credentials_refresh_before_they_expire(world: aws_world.World) -> None:
    answers: list[int] = []

    def short_lived(parsed: dict[str, Any], **_: Any) -> None:
        answers.append(1)
        if len(answers) == 1:  # the first session ends within botocore's refresh window
            parsed["Credentials"]["Expiration"] = datetime.now(timezone.utc) + timedelta(minutes=5)

    options = LiveScanOptions(regions=US, accounts=(world.member,), role_name=aws_world.SCANNER_ROLE)
    with injected(("after-call.sts.AssumeRole", short_lived, False)):
        result = collect(options)
    assert result.api_calls["by_operation"]["sts.AssumeRole"] == 2 == len(answers)
    assert not result.failures and "AWS::S3::Bucket" in types(result, world.member)


def test_many_buckets_are_read_in_chunks(world: aws_world.World) -> None:
    region = "us-west-1"
    s3 = boto3.client("s3", region_name=region)
    names = [f"sf-many-{n:02d}" for n in range(60)]
    for name in names:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    result = collect(LiveScanOptions(regions=(region,), max_workers=4))
    found = sorted(r.properties["BucketName"] for r in result.resources if r.type == "AWS::S3::Bucket")
    assert found == names and not result.failures
    assert result.api_calls["by_operation"]["s3.GetBucketPolicy"] == 60
    assert result.api_calls["by_operation"]["s3.ListBuckets"] == 1
