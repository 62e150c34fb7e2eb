"""S3 rules that read bucket settings (the simulated policy rules live in s3_policy.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed
from sagefence.checks.common import truthy
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Bucket
from sagefence.values import require

PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def kms_default_encryption(bucket: Bucket, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    rules = require(bucket.encryption_rules, "BucketEncryption")
    if not rules:
        note = " (AWS applies SSE-S3/AES256)" if not bucket.live else ""
        yield failed(f"bucket {bucket.id} has no default encryption configured{note}; SSE-KMS with a customer "
                     "managed key is required")
        return
    for rule in rules:
        default = rule.get("ServerSideEncryptionByDefault") if isinstance(rule, Mapping) else None
        if not isinstance(default, Mapping):
            continue
        algorithm = str(require(default.get("SSEAlgorithm"), "SSEAlgorithm"))
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            yield failed(f"default encryption is {algorithm}, not SSE-KMS with a customer managed key",
                         algorithm=algorithm)
            return
        key = default.get("KMSMasterKeyID")
        if key is None or key == "":
            yield failed("default encryption is SSE-KMS with the AWS managed key aws/s3 (no KMSMasterKeyID)",
                         algorithm=algorithm)
            return
        key = str(require(key, "KMSMasterKeyID"))
        if key.endswith("alias/aws/s3"):
            yield failed("default encryption uses the AWS managed key alias/aws/s3", algorithm=algorithm, key=key)
            return
        yield passed(f"default encryption is {algorithm} with key {key}", algorithm=algorithm, key=key)
        return
    yield failed("default encryption rule has no ServerSideEncryptionByDefault")


def public_access_block(bucket: Bucket, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    config = require(bucket.public_access_block, "PublicAccessBlockConfiguration")
    if config is None and not bucket.live:
        yield passed("PublicAccessBlockConfiguration not declared: S3 turns all four settings on for every new "
                     "bucket (AWS default since April 2023)", declared=False)
        return
    if not isinstance(config, Mapping):
        config = {}
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if not truthy(config.get(flag, False), flag)]
    if off:
        yield failed(f"public access block is not all on: {', '.join(off)} false or absent", off=off)
    else:
        yield passed("all four public access block settings are on")
