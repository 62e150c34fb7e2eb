"""Benchmark of the IAM policy evaluator (a script, not a test).

Builds two 50-statement policies (a bucket/key-style resource policy and an identity
policy: allows and denies, wildcards, NotAction, conditions of several operator
families) and evaluates the request sets the simulated rules use: 7 S3 actions x 2
outside-endpoint contexts x bucket and object ARNs, the 6 KMS actions of KMS-001 x 2
contexts, and 5 SageMaker Create* actions with and without VPC keys.

Cold: caches cleared, policies parsed, every request evaluated once.
Warm: the same request set evaluated repeatedly for about a second.

    python benchmarks/bench_policy.py [--json] [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from sagefence.policy import Policy, Request, evaluate, parse_policy, patterns

ACCOUNT = "111122223333"
PROBE = f"arn:aws:iam::{ACCOUNT}:role/sagefence-probe"
BUCKET = "arn:aws:s3:::data-bucket"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
S3_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetBucketAcl", "s3:GetObjectAcl", "s3:PutBucketAcl", "s3:PutObjectAcl"]  # fmt: skip
KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:DescribeKey"]  # fmt: skip
SM_ACTIONS = ["sagemaker:CreateNotebookInstance", "sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob", "sagemaker:CreateHyperParameterTuningJob", "sagemaker:CreateModel"]  # fmt: skip
PROBE_KEYS = {
    "aws:PrincipalArn": PROBE,
    "aws:PrincipalAccount": ACCOUNT,
    "aws:PrincipalType": "AssumedRole",
    "aws:SecureTransport": "true",
    "aws:PrincipalIsAWSService": "false",
    "aws:ViaAWSService": "false",
}
CONTEXTS = {
    "internet": {**PROBE_KEYS, "aws:SourceIp": "203.0.113.10"},
    "another_endpoint": {
        **PROBE_KEYS,
        "aws:SourceVpce": "vpce-0a0a0a0a0a0a0a0a0",
        "aws:SourceVpc": "vpc-0a0a0a0a0a0a0a0a0",
        "aws:VpcSourceIp": "10.255.0.10",
    },
}
CONDITIONS: list[dict[str, Any]] = [
    {"StringNotEquals": {"aws:SourceVpce": ["vpce-0123456789abcdef0", "vpce-0fedcba9876543210"]}},
    {
        "StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-0123456789abcdef0"},
        "Bool": {"aws:ViaAWSService": "false"},
    },
    {"ForAnyValue:StringLike": {"aws:TagKeys": ["team*", "cost*"]}},
    {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}},
    {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin-*"}},
    {"Null": {"sagemaker:VpcSubnets": "true"}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
    {"DateGreaterThan": {"aws:CurrentTime": "2025-01-01T00:00:00Z"}},
    {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "${aws:username}"}},
    {"ForAllValues:StringEquals": {"sagemaker:VpcSecurityGroupIds": ["sg-1", "sg-2"]}},
]
ACTION_SHAPES: list[dict[str, Any]] = [
    {"Action": "s3:*"},
    {"Action": ["s3:Get*", "s3:List*"]},
    {"NotAction": ["iam:*", "sts:*"]},
    {"Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]},
    {"Action": "sagemaker:Create*"},
    {"Action": ["s3:PutObject*", "s3:PutBucketAcl"]},
    {"NotAction": "s3:Delete*"},
]
RESOURCE_SHAPES = [
    [BUCKET, f"{BUCKET}/*"],
    ["*"],
    [f"{BUCKET}/${{aws:username}}/*"],
    [KEY],
    ["arn:aws:sagemaker:*:*:*"],
]


def build_document(principals: bool) -> dict[str, Any]:
    """50 deterministic statements: every 5th denies, every 3rd has no condition."""
    statements = []
    for i in range(50):
        statement: dict[str, Any] = {
            "Sid": f"S{i}",
            "Effect": "Deny" if i % 5 == 0 else "Allow",
            **ACTION_SHAPES[i % len(ACTION_SHAPES)],
            "Resource": RESOURCE_SHAPES[i % len(RESOURCE_SHAPES)],
        }
        if i % 3:
            statement["Condition"] = CONDITIONS[i % len(CONDITIONS)]
        if principals:
            statement["Principal"] = (
                "*" if i % 4 else {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/app-{i}", "444455556666"]}
            )
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def build_requests() -> list[tuple[Request, str]]:
    """(request, which policy slot it is evaluated against)."""
    requests = []
    for context in CONTEXTS.values():
        for action in S3_ACTIONS:
            for resource in (BUCKET, f"{BUCKET}/train/part-0001.csv"):
                requests.append((Request(PROBE, action, resource, context), "resource"))
        for action in KMS_ACTIONS:
            requests.append((Request(PROBE, action, KEY, context), "resource"))
    vpc = {"sagemaker:VpcSubnets": ["subnet-0aaa", "subnet-0bbb"], "sagemaker:VpcSecurityGroupIds": ["sg-1"]}
    for action in SM_ACTIONS:
        for extra in ({}, vpc):
            requests.append((Request(PROBE, action, "*", {**PROBE_KEYS, **extra}), "identity"))
    return requests


def _clear_caches() -> None:
    for cached in (patterns.tokenize, patterns._regex, patterns.action_regex, patterns._arn_segments):
        cached.cache_clear()


def _run(requests: list[tuple[Request, str]], resource: Policy, identity: Policy) -> None:
    for request, slot in requests:
        if slot == "resource":
            evaluate(request, resource=resource)
        else:
            evaluate(request, identity=[identity])


def measure(seconds: float) -> dict[str, Any]:
    requests = build_requests()
    resource_doc, identity_doc = build_document(True), build_document(False)
    _clear_caches()
    start = time.perf_counter()
    resource = parse_policy(json.dumps(resource_doc), "benchmark bucket policy", "resource")
    identity = parse_policy(identity_doc, "benchmark identity policy")
    _run(requests, resource, identity)
    cold = time.perf_counter() - start
    rounds, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        _run(requests, resource, identity)
        rounds += 1
    return {
        "statements_per_policy": len(resource.statements),
        "requests_per_round": len(requests),
        "cold_seconds": round(cold, 6),
        "cold_evaluations_per_second": round(len(requests) / cold),
        "warm_rounds": rounds,
        "warm_evaluations_per_second": round(rounds * len(requests) / elapsed),
        "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="write the figures as JSON to stdout")
    parser.add_argument("--seconds", type=float, default=1.0, help="duration of the warm run")
    args = parser.parse_args(argv)
    result = measure(args.seconds)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(
            f"policy evaluation: {result['statements_per_policy']}-statement policies, "
            f"{result['requests_per_round']} requests/round: cold {result['cold_evaluations_per_second']:,} evals/s "
            f"(incl. parsing), warm {result['warm_evaluations_per_second']:,} evals/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
