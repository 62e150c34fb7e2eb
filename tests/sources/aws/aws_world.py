"""A small simulated AWS world for the live-source tests: an organization with a management
account, an active member, a suspended member, two regions, and something of every type."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

MANAGEMENT = "123456789012"
REGIONS = ("us-east-1", "eu-west-1")
SCANNER_ROLE = "sagefence-scanner"
TRUST_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
DENY_NO_VPC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyNoVPC",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::sf-data-123", "arn:aws:s3:::sf-data-123/*"],
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}},
        }
    ],
}
STACK_TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}})


@dataclass(frozen=True)
class World:
    member: str
    suspended: str
    ids: dict[str, Any]


def member_session(account: str) -> boto3.Session:
    sts = boto3.client("sts", region_name="us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{SCANNER_ROLE}", RoleSessionName="seed")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def seed() -> World:
    ids: dict[str, Any] = {}
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="ml")["OrganizationalUnit"]["Id"]
    member = org.create_account(AccountName="ml-dev", Email="dev@example.com")["CreateAccountStatus"]["AccountId"]
    suspended = org.create_account(AccountName="old", Email="old@example.com")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    org.close_account(AccountId=suspended)
    scp = org.create_policy(
        Name="DenyNoVpcSageMaker",
        Description="guardrail",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sagemaker:*", "Resource": "*"}]}),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=ou)
    ids.update(root=root, ou=ou, scp=scp)

    management = boto3.Session()
    ids["us-east-1"] = _seed_region(management, "us-east-1", full=True)
    ids["eu-west-1"] = _seed_region(management, "eu-west-1", full=False)
    _seed_iam(management)
    member_world = member_session(member)
    ids["member"] = _seed_region(member_world, "us-east-1", full=False)
    member_world.client("iam").create_role(RoleName="MemberRole", AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER))
    return World(member=member, suspended=suspended, ids=ids)


def _seed_region(session: boto3.Session, region: str, full: bool) -> dict[str, Any]:
    ec2 = session.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
    bucket = f"sf-plain-{region}-{session.client('sts').get_caller_identity()['Account']}"
    s3 = session.client("s3", region_name=region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    ids: dict[str, Any] = {"vpc": vpc, "subnet": subnet, "bucket": bucket}
    if full:
        ids.update(_seed_full(session, region, vpc, subnet))
    return ids


def _seed_full(session: boto3.Session, region: str, vpc: str, subnet: str) -> dict[str, Any]:
    ec2 = session.client("ec2", region_name=region)
    group = ec2.create_security_group(GroupName="endpoints", Description="vpce", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.0.0.0/16"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
                "UserIdGroupPairs": [{"GroupId": group}],
            }
        ],
    )
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    s3_endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName=f"com.amazonaws.{region}.s3",
        RouteTableIds=[table],
        PolicyDocument=json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}),
    )["VpcEndpoint"]["VpcEndpointId"]
    api_endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Interface",
        ServiceName=f"com.amazonaws.{region}.sagemaker.api",
        SubnetIds=[subnet],
        SecurityGroupIds=[group],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]["VpcEndpointId"]

    kms = session.client("kms", region_name=region)
    key = kms.create_key(Description="data key")["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName="alias/sf-data", TargetKeyId=key["KeyId"])
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"]  # moto makes it, as CUSTOMER
    doomed = kms.create_key(Description="going")["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)

    s3 = session.client("s3", region_name=region)
    s3.create_bucket(Bucket="sf-data-123")
    s3.put_bucket_encryption(
        Bucket="sf-data-123",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]
        },
    )
    s3.put_public_access_block(
        Bucket="sf-data-123",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_tagging(Bucket="sf-data-123", Tagging={"TagSet": [{"Key": "team", "Value": "ml"}]})
    s3.put_bucket_policy(Bucket="sf-data-123", Policy=json.dumps(DENY_NO_VPC))

    sagemaker = session.client("sagemaker", region_name=region)
    role = f"arn:aws:iam::{MANAGEMENT}:role/SageMakerExecution"
    sagemaker.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName="backup", OnStart=[{"Content": "ZWNobyBoaQ=="}]
    )
    sagemaker.create_notebook_instance(
        NotebookInstanceName="legacy",
        InstanceType="ml.t3.medium",
        RoleArn=role,
        SubnetId=subnet,
        SecurityGroupIds=[group],
        DirectInternetAccess="Disabled",
        LifecycleConfigName="backup",
        Tags=[{"Key": "ebs-backup-bucket", "Value": "sf-data-123"}],
    )
    sagemaker.create_notebook_instance(NotebookInstanceName="open", InstanceType="ml.t3.medium", RoleArn=role)
    domain_arn = sagemaker.create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": role},
        SubnetIds=[subnet],
        VpcId=vpc,
    )["DomainArn"]
    sagemaker.create_model(
        ModelName="private",
        ExecutionRoleArn=role,
        PrimaryContainer={"Image": "img"},
        VpcConfig={"SecurityGroupIds": [group], "Subnets": [subnet]},
    )
    sagemaker.create_model(ModelName="public", ExecutionRoleArn=role, PrimaryContainer={"Image": "img"})
    for n in range(3):
        sagemaker.create_training_job(
            TrainingJobName=f"train-{n}",
            AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
            RoleArn=role,
            OutputDataConfig={"S3OutputPath": "s3://sf-data-123/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
            **({"VpcConfig": {"SecurityGroupIds": [group], "Subnets": [subnet]}} if n == 0 else {}),
        )
    sagemaker.create_processing_job(
        ProcessingJobName="process-0",
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10}},
        AppSpecification={"ImageUri": "img"},
        RoleArn=role,
        NetworkConfig={"VpcConfig": {"SecurityGroupIds": [group], "Subnets": [subnet]}},
    )
    cloudformation = session.client("cloudformation", region_name=region)
    deployer = f"arn:aws:iam::{MANAGEMENT}:role/Deployer"
    cloudformation.create_stack(StackName="with-role", TemplateBody=STACK_TEMPLATE, RoleARN=deployer)
    cloudformation.create_stack(StackName="no-role", TemplateBody=STACK_TEMPLATE)
    return {
        "group": group,
        "s3_endpoint": s3_endpoint,
        "api_endpoint": api_endpoint,
        "key": key["Arn"],
        "managed_key": managed,
        "doomed_key": doomed,
        "domain_arn": domain_arn,
    }


def _seed_iam(session: boto3.Session) -> None:
    iam = session.client("iam")
    iam.create_policy(
        PolicyName="Boundary",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )
    iam.create_role(
        RoleName="SageMakerExecution",
        Path="/ml/",
        AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER),
        PermissionsBoundary=f"arn:aws:iam::{MANAGEMENT}:policy/Boundary",
    )
    iam.put_role_policy(
        RoleName="SageMakerExecution",
        PolicyName="inline",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
    )
    arn = iam.create_policy(
        PolicyName="PassAnything",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="SageMakerExecution", PolicyArn=arn)
    iam.create_policy(
        PolicyName="Detached",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}),
    )
