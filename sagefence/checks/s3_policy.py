"""Simulated S3 rules: DenyNoVPC (S3-001), stale endpoint ids (S3-002), TLS only (S3-004)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.probes import (
    account_of_resource,
    designated_endpoints,
    outside_denial,
    probe,
)
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Bucket
from sagefence.policy import condition_values, evaluate
from sagefence.status import Status
from sagefence.values import is_opaque, require_document

BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketAcl", "s3:PutBucketAcl")
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:GetObjectAcl", "s3:PutObjectAcl")
PROBE_OBJECT = "sagefence-probe-object"


def _policy(bucket: Bucket, inventory: Inventory) -> Any:
    document = require_document(bucket.policy, "bucket policy")
    if document is None:
        return None
    return inventory.policy(document, f"bucket policy of {bucket.id}", "resource")


_ORDER = {Status.PASS: 0, Status.UNKNOWN: 1, Status.ERROR: 2, Status.FAIL: 3}


def each_policy(check: Callable[[Bucket, Inventory, Mapping[str, Any]], Iterator[Result]]) -> Callable[
        [Bucket, Inventory, Mapping[str, Any]], Iterator[Result]]:
    """With several bucket policy resources on one bucket, check each as the one that applies; the worst wins."""
    @functools.wraps(check)
    def wrapper(bucket: Bucket, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
        if not bucket.alternatives:
            yield from check(bucket, inventory, params)
            return
        worst: Result | None = None
        for policy_id, document in bucket.alternatives:
            for result in check(replace(bucket, policy=document, alternatives=()), inventory, params):
                labelled = replace(result, message=f"if {policy_id} is the policy that applies: {result.message}")
                if worst is None or _ORDER[labelled.status] > _ORDER[worst.status]:
                    worst = labelled
        if worst is not None:
            yield worst

    return wrapper


@each_policy
def deny_no_vpc(bucket: Bucket, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    policy = _policy(bucket, inventory)
    if policy is None:
        yield failed(f"bucket {bucket.id} has no bucket policy, so nothing denies access from outside the "
                     "designated VPC endpoints")
        return
    arn = bucket.arn
    requests = [(a, arn) for a in BUCKET_ACTIONS] + [(a, f"{arn}/{PROBE_OBJECT}") for a in OBJECT_ACTIONS]
    yield outside_denial(policy, requests, account_of_resource(bucket), "S3")


@each_policy
def stale_endpoint_ids(bucket: Bucket, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    policy = _policy(bucket, inventory)
    if policy is None:
        return
    problems: list[str] = []
    unknowns: list[str] = []
    checked: list[str] = []
    for key, rtype in (("aws:SourceVpce", "AWS::EC2::VPCEndpoint"), ("aws:SourceVpc", "AWS::EC2::VPC")):
        for value in condition_values(policy, key):
            if "*" in value or "?" in value:
                continue
            checked.append(f"{key}={value}")
            target = inventory.lookup(value)
            if target is not None and target.raw.type == rtype:
                continue
            if target is not None:
                problems.append(f"{key} {value} names a {target.raw.type} ({target.id}), not a {rtype}")
            elif bucket.live:
                if not inventory.exists(value):
                    problems.append(f"{key} {value} does not exist in the scanned accounts")
            elif is_opaque(value):
                unknowns.append(f"{key} {value} is not known before deployment")
            else:
                unknowns.append(f"{key} {value} is a literal id; it cannot be checked against the templates")
    if not checked:
        return
    if problems:
        yield failed("; ".join(problems), values=checked, policy=policy.source)
    elif unknowns:
        yield unknown("; ".join(unknowns), values=checked, policy=policy.source)
    else:
        yield passed(f"{', '.join(checked)} name resources of the scan", values=checked, policy=policy.source)


@each_policy
def tls_only(bucket: Bucket, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    policy = _policy(bucket, inventory)
    if policy is None:
        yield failed(f"bucket {bucket.id} has no bucket policy, so requests without TLS are not denied")
        return
    target = f"{bucket.arn}/{PROBE_OBJECT}"
    refs: list[str] = []
    for endpoint in designated_endpoints(policy):
        context = {**endpoint, "aws:SecureTransport": "false"}
        result = evaluate(probe("s3:GetObject", target, account_of_resource(bucket), context), resource=policy)
        if not result.explicitly_denied:
            yield failed(f"s3:GetObject on {target} with aws:SecureTransport=false is not denied",
                         policy=policy.source, context=dict(context))
            return
        refs.extend(r.label for r in result.deciding if r.label not in refs)
    yield passed(f"s3:GetObject without TLS is denied by {', '.join(refs)}", denied_by=refs, policy=policy.source)
