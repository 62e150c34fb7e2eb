"""End to end: the real CLI scans a simulated AWS (a moto server on loopback) over HTTP.

Two accounts (the caller and a member reached through AssumeRole), two regions, a VPC with
endpoints, buckets with and without a DenyNoVPC, a KMS key, roles and notebook instances.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

MANAGEMENT = "123456789012"
ROLE = "sagefence-scanner"
REGIONS = ("us-east-1", "eu-west-1")
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
TRUST_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class World:
    endpoint: str
    member: str
    vpc: str
    interface_endpoint: str
    key: str


def deny_no_vpc(bucket: str, endpoint: str) -> str:
    arns = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyNoVPC",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": arns,
                    "Condition": {"StringNotEquals": {"aws:SourceVpce": endpoint}},
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": arns,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )


def seed(endpoint: str) -> World:
    session = boto3.Session(region_name="us-east-1", **CREDENTIALS)
    sts = session.client("sts", endpoint_url=endpoint)
    member = "210987654321"
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    member_session = boto3.Session(
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )

    ec2 = session.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="vpce", Description="endpoints", VpcId=vpc)["GroupId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    gateway = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=[table])
    s3_endpoint = gateway["VpcEndpoint"]["VpcEndpointId"]
    interface = ec2.create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Interface",
        ServiceName="com.amazonaws.us-east-1.sagemaker.api",
        SubnetIds=[subnet],
        SecurityGroupIds=[group],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]["VpcEndpointId"]

    kms = session.client("kms", endpoint_url=endpoint)
    key = kms.create_key(Description="data key")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key)

    s3 = session.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket="e2e-secure")
    s3.put_bucket_encryption(
        Bucket="e2e-secure",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]
        },
    )
    s3.put_public_access_block(
        Bucket="e2e-secure",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(Bucket="e2e-secure", Policy=deny_no_vpc("e2e-secure", s3_endpoint))
    s3.create_bucket(Bucket="e2e-open")
    europe = session.client("s3", region_name="eu-west-1", endpoint_url=endpoint)
    europe.create_bucket(Bucket="e2e-europe", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    member_session.client("s3", endpoint_url=endpoint).create_bucket(Bucket="e2e-member")

    iam = session.client("iam", endpoint_url=endpoint)
    iam.create_role(RoleName="NotebookRole", AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER))
    iam.put_role_policy(
        RoleName="NotebookRole",
        PolicyName="work",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )
    member_session.client("iam", endpoint_url=endpoint).create_role(
        RoleName="MemberNotebookRole", AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER)
    )

    sagemaker = session.client("sagemaker", endpoint_url=endpoint)
    role = f"arn:aws:iam::{MANAGEMENT}:role/NotebookRole"
    sagemaker.create_notebook_instance(  # an old-style instance: internet, root, no key, no platform reported
        NotebookInstanceName="legacy-al1", InstanceType="ml.t2.medium", RoleArn=role
    )
    sagemaker.create_notebook_instance(
        NotebookInstanceName="private",
        InstanceType="ml.t3.medium",
        RoleArn=role,
        SubnetId=subnet,
        SecurityGroupIds=[group],
        DirectInternetAccess="Disabled",
        RootAccess="Disabled",
        KmsKeyId=key,
    )
    return World(endpoint, member, vpc, interface, key)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        patch.delenv("MOTO_ACCOUNT_ID", raising=False)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield seed(f"http://{host}:{port}")
        finally:
            server.stop()


def cli_env(endpoint: str, credentials: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        NO_COLOR="1",
    )
    if credentials:
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    return env


def run_cli(world: World, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any], float]:
    output = tmp_path / "findings.json"
    env = cli_env(world.endpoint)
    command = [
        sys.executable, "-m", "sagefence", "scan", "account",
        "--regions", ",".join(REGIONS),
        "--accounts", f"{MANAGEMENT},{world.member}",
        "--role-name", ROLE,
        "--format", "json", "--output", str(output), "--quiet",
        *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    elapsed = time.perf_counter() - started
    assert output.exists(), done.stderr
    return done.returncode, json.loads(output.read_text(encoding="utf-8")), elapsed


@pytest.fixture(scope="module")
def scan(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], float]:
    return run_cli(world, tmp_path_factory.mktemp("scan"))


def status(document: dict[str, Any], rule: str, resource_id: str) -> set[str]:
    return {f["status"] for f in document["findings"] if f["rule_id"] == rule and f["resource"]["id"] == resource_id}


def test_document_describes_the_live_scan(scan: tuple[int, dict[str, Any], float], world: World) -> None:
    code, document, elapsed = scan
    assert document["schema_version"] == 1
    info = document["scan"]
    assert info["source"] == "account"
    assert set(info["accounts"]) == {MANAGEMENT, world.member}
    assert set(info["regions"]) == set(REGIONS)
    calls = info["api_calls"]
    assert calls["total"] > 0 and calls["by_operation"]["sts.AssumeRole"] == 1
    assert document["errors"] == [] and document["summary"]["error"] == 0
    print(f"\ne2e live scan: {calls['total']} API calls, {elapsed:.2f} s wall time for the CLI run")


def test_exit_code_follows_the_contract(scan: tuple[int, dict[str, Any], float]) -> None:
    code, document, _ = scan
    assert document["summary"]["fail"]["high"] > 0
    assert code == 1  # complete scan, high failures


def test_findings_for_the_seeded_resources(scan: tuple[int, dict[str, Any], float], world: World) -> None:
    _, document, _ = scan
    assert status(document, "S3-001", "arn:aws:s3:::e2e-secure") == {"pass"}
    assert status(document, "S3-001", "arn:aws:s3:::e2e-open") == {"fail"}
    assert status(document, "S3-001", "arn:aws:s3:::e2e-member") == {"fail"}
    assert status(document, "S3-005", "arn:aws:s3:::e2e-secure") == {"pass"}
    assert status(document, "S3-005", "arn:aws:s3:::e2e-open") == {"fail"}
    assert status(document, "S3-003", "arn:aws:s3:::e2e-secure") == {"pass"}
    assert status(document, "S3-003", "arn:aws:s3:::e2e-europe") == {"fail"}  # SSE-S3 default
    assert status(document, "KMS-002", world.key) == {"pass"}
    assert status(document, "VPCE-001", world.vpc) == {"pass"}
    assert status(document, "VPCE-003", world.interface_endpoint) == {"fail"}
    legacy = f"arn:aws:sagemaker:us-east-1:{MANAGEMENT}:notebook-instance/legacy-al1"
    private = f"arn:aws:sagemaker:us-east-1:{MANAGEMENT}:notebook-instance/private"
    assert status(document, "SM-002", legacy) == {"fail"} and status(document, "SM-002", private) == {"pass"}
    assert status(document, "SM-003", legacy) == {"fail"} and status(document, "SM-003", private) == {"pass"}
    assert status(document, "SM-004", private) == {"pass"}
    assert status(document, "NB-001", legacy) == {"unknown"}  # moto reports no PlatformIdentifier
    regions = {f["resource"]["region"] for f in document["findings"] if f["resource"]["id"] == "arn:aws:s3:::e2e-europe"}
    assert regions == {"eu-west-1"}


def test_fail_on_never_exits_zero(world: World, tmp_path: Path) -> None:
    code, document, _ = run_cli(world, tmp_path, "--fail-on", "never")
    assert code == 0 and document["summary"]["error"] == 0


@pytest.mark.parametrize(
    ("arguments", "credentials", "code"),
    [
        (["--accounts", "ml-dev", "--role-name", ROLE], True, 2),  # a bad option
        (["--regions", "us-east-1"], False, 3),  # no credentials: nothing could be looked at
    ],
)
def test_setup_failures_exit_with_one_line(
    world: World, tmp_path: Path, arguments: list[str], credentials: bool, code: int
) -> None:
    command = [sys.executable, "-m", "sagefence", "scan", "account", "--format", "json", *arguments]
    env = cli_env(world.endpoint, credentials)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
