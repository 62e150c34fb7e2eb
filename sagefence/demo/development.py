"""The development account: where data scientists work, in a private VPC.

What is right: a Studio domain in VpcOnly mode; S3 gateway and interface endpoints with private
DNS behind a security group open to the VPC only; buckets and a KMS key with DenyNoVPC; an
execution role with the SageMaker VPC guardrail; a notebook on notebook-al2023-v1; an AL1
notebook that is ready to migrate; the stack set administration role of the deployment pipeline.

What is wrong, on purpose (the rule that catches it):
- no interface endpoint for ecr.dkr (VPCE-002);
- the models bucket's "DenyNoVPC" uses ForAnyValue:StringNotEquals, which does not deny requests
  from the internet (S3-001);
- a KMS key shared with a labelling vendor: no DenyNoVPC, and kms:Decrypt granted to the vendor's
  account without a condition (KMS-001, KMS-003);
- a legacy notebook role without the VPC guardrail and with iam:PassRole on * (SM-001, IAM-002);
- a legacy AL1 notebook with internet access, root, no KMS key, no backup tag or lifecycle
  configuration (SM-002, SM-003, SM-004, NB-001, NB-002, NB-003);
- the pipeline's administration role may assume production's stack set execution role, whose
  trust still names the deleted previous incarnation of the administration role (IAM-003).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sagefence.demo import documents as d
from sagefence.demo.harness import DEMO_REGION
from sagefence.demo.world import VENDOR_ACCOUNT, World, put_role

CIDR = "10.20.0.0/16"
INTERFACE_SERVICES = ("sagemaker.api", "sagemaker.runtime", "sts", "logs", "monitoring", "kms", "ecr.api")
BACKUP_SCRIPT = """#!/bin/bash
# Back up the notebook's EBS volume to the bucket named by the ebs-backup-bucket tag.
set -euo pipefail
BUCKET=$(aws sagemaker list-tags --resource-arn "$(jq -r .ResourceArn /opt/ml/metadata/resource-metadata.json)" \\
  --query "Tags[?Key=='ebs-backup-bucket'].Value" --output text)
aws s3 sync /home/ec2-user/SageMaker "s3://${BUCKET}/$(hostname)/backup/" --exclude "*/.ipynb_checkpoints/*"
"""


def seed(session: Any, world: World) -> None:
    account = world.development
    net = _network(session)
    key = _key(session, account, net["endpoints"]["kms"])
    buckets = _buckets(session, account, key, net)
    roles = _roles(session, account, key, buckets, world)
    _notebooks(session, world, net, key, roles, buckets["backup"])
    _studio_and_jobs(session, net, key, roles, buckets["data"])
    _vendor_key(session, account)


def _network(session: Any) -> dict[str, Any]:
    ec2 = session.client("ec2", region_name=DEMO_REGION)
    vpc = ec2.create_vpc(CidrBlock=CIDR)["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "ml-dev-private"}])
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{n}.0/24", AvailabilityZone=f"{DEMO_REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for n, zone in ((1, "a"), (2, "b"))
    ]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    endpoint_group = ec2.create_security_group(
        GroupName="ml-dev-vpc-endpoints", Description="HTTPS from the VPC to the interface endpoints", VpcId=vpc
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=endpoint_group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": CIDR}]}],
    )
    workload_group = ec2.create_security_group(
        GroupName="ml-dev-workloads", Description="Notebooks, Studio apps and jobs", VpcId=vpc
    )["GroupId"]
    endpoints = {
        service: ec2.create_vpc_endpoint(
            VpcId=vpc,
            VpcEndpointType="Interface",
            ServiceName=f"com.amazonaws.{DEMO_REGION}.{service}",
            SubnetIds=subnets,
            SecurityGroupIds=[endpoint_group],
            PrivateDnsEnabled=True,
        )["VpcEndpoint"]["VpcEndpointId"]
        for service in INTERFACE_SERVICES  # ecr.dkr is missing: image pulls fail in VpcOnly mode
    }
    return {"vpc": vpc, "subnets": subnets, "route_table": table, "endpoints": endpoints,
            "workload_group": workload_group}


def _key(session: Any, account: str, kms_endpoint: str) -> str:
    kms = session.client("kms", region_name=DEMO_REGION)
    key = kms.create_key(
        Description="ml-dev data and model encryption", Policy=json.dumps(d.key_policy(account, kms_endpoint))
    )["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName="alias/ml-dev-data", TargetKeyId=key["KeyId"])
    return str(key["Arn"])


def _vendor_key(session: Any, account: str) -> None:
    """Mistake (KMS-001, KMS-003): a key made for a labelling vendor, who decrypts from their own
    account, so it has no DenyNoVPC, and its grant to the vendor has no condition."""
    kms = session.client("kms", region_name=DEMO_REGION)
    key = kms.create_key(
        Description="ml-dev labelling exchange with the vendor",
        Policy=json.dumps(d.vendor_key_policy(account, VENDOR_ACCOUNT)),
    )["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName="alias/ml-dev-labelling-vendor", TargetKeyId=key["KeyId"])


def _buckets(session: Any, account: str, key: str, net: dict[str, Any]) -> dict[str, str]:
    """Data, models and notebook-backup buckets, and the S3 gateway endpoint scoped to them."""
    names = {kind: f"ml-dev-{kind}-{account}" for kind in ("data", "models", "backup")}
    s3_endpoint = session.client("ec2", region_name=DEMO_REGION).create_vpc_endpoint(
        VpcId=net["vpc"],
        VpcEndpointType="Gateway",
        ServiceName=f"com.amazonaws.{DEMO_REGION}.s3",
        RouteTableIds=[net["route_table"]],
        PolicyDocument=json.dumps(d.s3_endpoint_policy(list(names.values()))),
    )["VpcEndpoint"]["VpcEndpointId"]
    s3 = session.client("s3", region_name=DEMO_REGION)
    for kind, name in names.items():
        s3.create_bucket(Bucket=name)
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        deny = d.look_alike_deny_bucket if kind == "models" else d.deny_no_vpc_bucket
        policy = d.doc(deny(name, s3_endpoint), d.deny_insecure_transport(name))
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return names


def _roles(session: Any, account: str, key: str, buckets: dict[str, str], world: World) -> dict[str, str]:
    iam = session.client("iam")
    execution = f"arn:aws:iam::{account}:role/ml-dev-sagemaker-execution"
    roles = {
        "execution": put_role(
            iam,
            "ml-dev-sagemaker-execution",
            d.doc(d.trust_service(d.SAGEMAKER)),
            {
                "vpc-guardrail": d.doc(d.vpc_guardrail()),
                "workloads": d.doc(
                    {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                        "Resource": d.bucket_arns(*buckets.values()),
                    },
                    {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key},
                    {
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": execution,
                        "Condition": {"StringEquals": {"iam:PassedToService": d.SAGEMAKER}},
                    },
                ),
            },
        ),
        # Mistake: the role of the old notebook predates the guardrail and passes any role.
        "legacy": put_role(
            iam,
            "ml-dev-notebook-legacy",
            d.doc(d.trust_service(d.SAGEMAKER)),
            {
                "legacy-notebook": d.doc(
                    {"Effect": "Allow", "Action": ["sagemaker:*", "iam:PassRole"], "Resource": "*"},
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": d.bucket_arns(buckets["data"])},
                )
            },
        ),
        # The pipeline's CloudFormation StackSets administration role: it deploys to staging and
        # production through their ml-stackset-execution roles.
        "stackset_admin": put_role(
            iam,
            "ml-stackset-administration",
            d.doc(d.trust_service("cloudformation.amazonaws.com")),
            {
                "assume-execution-roles": d.doc(
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Resource": [
                            f"arn:aws:iam::{world.staging}:role/ml-stackset-execution",
                            f"arn:aws:iam::{world.production}:role/ml-stackset-execution",
                        ],
                    }
                )
            },
        ),
    }
    return roles


def _notebooks(session: Any, world: World, net: dict[str, Any], key: str, roles: dict[str, str], backup: str) -> None:
    sagemaker = session.client("sagemaker", region_name=DEMO_REGION)
    sagemaker.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName="ebs-backup-to-s3",
        OnStart=[{"Content": base64.b64encode(BACKUP_SCRIPT.encode()).decode()}],
    )
    private = {
        "SubnetId": net["subnets"][0],
        "SecurityGroupIds": [net["workload_group"]],
        "DirectInternetAccess": "Disabled",
        "RootAccess": "Disabled",
        "KmsKeyId": key,
    }
    notebooks: list[tuple[str, str, dict[str, Any]]] = [
        ("ml-research", "notebook-al2023-v1", {**private, "RoleArn": roles["execution"]}),
        (
            "ml-forecasting-al1",  # ready to migrate: backup tag, lifecycle configuration, role, S3 endpoint
            "notebook-al1-v1",
            {
                **private,
                "RoleArn": roles["execution"],
                "LifecycleConfigName": "ebs-backup-to-s3",
                "Tags": [{"Key": "ebs-backup-bucket", "Value": backup}],
            },
        ),
        (
            "ml-legacy-al1",  # not ready, and insecure: internet access, root, no VPC, no KMS key
            "notebook-al1-v1",
            {"RoleArn": roles["legacy"], "DirectInternetAccess": "Enabled", "RootAccess": "Enabled"},
        ),
    ]
    for name, platform, settings in notebooks:
        arn = sagemaker.create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t3.medium", **settings)[
            "NotebookInstanceArn"
        ]
        world.notebook_fields.add(arn, PlatformIdentifier=platform, RootAccess=settings["RootAccess"])


def _studio_and_jobs(session: Any, net: dict[str, Any], key: str, roles: dict[str, str], data: str) -> None:
    sagemaker = session.client("sagemaker", region_name=DEMO_REGION)
    sagemaker.create_domain(
        DomainName="ml-dev-studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": roles["execution"], "SecurityGroups": [net["workload_group"]]},
        SubnetIds=net["subnets"],
        VpcId=net["vpc"],
        AppNetworkAccessType="VpcOnly",
        KmsKeyId=key,
    )
    sagemaker.create_training_job(
        TrainingJobName="churn-training-2026-11-20",
        AlgorithmSpecification={"TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7-1",
                                "TrainingInputMode": "File"},
        RoleArn=roles["execution"],
        OutputDataConfig={"S3OutputPath": f"s3://{data}/churn/output", "KmsKeyId": key},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30, "VolumeKmsKeyId": key},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        VpcConfig={"SecurityGroupIds": [net["workload_group"]], "Subnets": net["subnets"]},
    )
