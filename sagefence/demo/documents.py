"""Policy documents of the simulated organization: the correct ones, and the mistakes it ships with.

Every document is a plain dict built from account ids and resource ids known only once the
simulated world exists. Mistakes are named in the function that builds them.
"""

from __future__ import annotations

from typing import Any

SAGEMAKER = "sagemaker.amazonaws.com"
VERSION = "2012-10-17"
GUARDED_CREATES = [
    "sagemaker:CreateNotebookInstance",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
]


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


def trust_service(service: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}


def trust_role(role_arn: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": "sts:AssumeRole"}


def trust_anyone() -> dict[str, Any]:
    """Mistake (IAM-001): "temporarily" opened to every AWS principal while debugging an endpoint."""
    return {"Sid": "DebugAccess", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}


def vpc_guardrail() -> dict[str, Any]:
    """SM-001: no notebook, job or model may be created without a VpcConfig."""
    return {
        "Sid": "DenyCreateWithoutVpc",
        "Effect": "Deny",
        "Action": GUARDED_CREATES,
        "Resource": "*",
        "Condition": {"Null": {"sagemaker:VpcSubnets": "true"}},
    }


def bucket_arns(*names: str) -> list[str]:
    return [arn for name in names for arn in (f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*")]


def deny_no_vpc_bucket(bucket: str, endpoint: str) -> dict[str, Any]:
    return {
        "Sid": "DenyNoVPC",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": bucket_arns(bucket),
        "Condition": {"StringNotEquals": {"aws:SourceVpce": endpoint}},
    }


def look_alike_deny_bucket(bucket: str, endpoint: str) -> dict[str, Any]:
    """Mistake (S3-001): reads like a DenyNoVPC, but ``ForAnyValue:`` is false when the key is absent,
    so a request from the internet (no aws:SourceVpce at all) is not denied; only requests through
    another endpoint are."""
    return {
        "Sid": "DenyNoVPC",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": bucket_arns(bucket),
        "Condition": {"ForAnyValue:StringNotEquals": {"aws:SourceVpce": endpoint}},
    }


def deny_insecure_transport(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": bucket_arns(bucket),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def key_policy(account: str, kms_endpoint: str) -> dict[str, Any]:
    """The account administers the key; use of the key is denied outside the KMS endpoint, except
    calls AWS services make on a user's behalf (SSE-KMS from S3 does not carry the endpoint)."""
    return doc(
        {
            "Sid": "EnableAccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "DenyNoVPC",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:SourceVpce": kms_endpoint},
                "Bool": {"aws:ViaAWSService": "false"},
            },
        },
    )


def vendor_key_policy(account: str, vendor: str) -> dict[str, Any]:
    """Mistake (KMS-003): the vendor's whole account may decrypt, with no condition (aws:PrincipalArn,
    kms:ViaService, ...), and nothing denies use from outside the VPC (KMS-001)."""
    return doc(
        {
            "Sid": "EnableAccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "LabellingVendor",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{vendor}:root"},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
        },
    )


def s3_endpoint_policy(buckets: list[str]) -> dict[str, Any]:
    """VPCE-004: the S3 endpoint reaches the team's buckets and the ECR layer bucket, nothing else."""
    return doc(
        {
            "Sid": "TeamBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
            "Resource": bucket_arns(*buckets),
        },
        {
            "Sid": "EcrImageLayers",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*",
        },
    )
