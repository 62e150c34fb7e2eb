"""S3 rules that read bucket settings (the simulated policy rules live in s3_policy.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.common import boolean, could_end_with, unknowable, why_unknown
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Bucket
from sagefence.values import require

PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def kms_default_encryption(bucket: Bucket, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    config = bucket.props.get("BucketEncryption")
    if unknowable(config, "BucketEncryption"):
        yield unknown(why_unknown(config, "BucketEncryption"))
        return
    rules = bucket.encryption_rules
    if not rules:
        note = " (AWS applies SSE-S3/AES256)" if not bucket.live else ""
        yield failed(f"bucket {bucket.id} has no default encryption configured{note}; SSE-KMS with a customer "
                     "managed key is required")
        return
    for rule in rules:
        default = rule.get("ServerSideEncryptionByDefault") if isinstance(rule, Mapping) else rule
        if isinstance(default, Mapping):
            yield _encryption_verdict(default)
            return
        if unknowable(default, "ServerSideEncryptionByDefault"):
            yield unknown(why_unknown(default, "ServerSideEncryptionByDefault"))
            return
    yield failed("default encryption rule has no ServerSideEncryptionByDefault")


def _encryption_verdict(default: Mapping[str, Any]) -> Result:
    """Fails whatever an unknown algorithm is when the key is absent or aws/s3; an unknown key fails
    with a non-KMS algorithm and is unknown when it may be the aws/s3 alias."""
    algorithm, key = default.get("SSEAlgorithm"), default.get("KMSMasterKeyID")
    kms = None if unknowable(algorithm, "SSEAlgorithm") else str(algorithm) in ("aws:kms", "aws:kms:dsse")
    managed = None if unknowable(key, "KMSMasterKeyID") and could_be_aws_s3(key) else _aws_s3_key(key)
    evidence = {"algorithm": str(algorithm), "key": None if key is None else str(key)}
    if kms is False:
        return failed(f"default encryption is {algorithm}, not SSE-KMS with a customer managed key", **evidence)
    if managed is True:
        what = "has no KMSMasterKeyID (SSE-KMS uses the AWS managed key aws/s3)" if key in (None, "") else \
            f"uses the AWS managed key {key}"
        return failed(f"default encryption {what}; SSE-KMS with a customer managed key is required", **evidence)
    if kms and managed is False:
        return passed(f"default encryption is {algorithm} with key {key}", **evidence)
    unknowns = [why_unknown(v, w) for v, w, known in ((algorithm, "SSEAlgorithm", kms), (key, "KMSMasterKeyID",
                                                                                          managed)) if known is None]
    return unknown("; ".join(unknowns), **evidence)


def _aws_s3_key(key: Any) -> bool:
    return key is None or key == "" or str(key).endswith("alias/aws/s3")


def could_be_aws_s3(key: Any) -> bool:
    """Whether a key id not known before deployment may be the aws/s3 alias (a key ARN is not)."""
    return not isinstance(key, str) or ":key/" not in key and could_end_with(key, "alias/aws/s3")


def public_access_block(bucket: Bucket, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    config = require(bucket.public_access_block, "PublicAccessBlockConfiguration")
    if config is None and not bucket.live:
        yield passed("PublicAccessBlockConfiguration not declared: S3 turns all four settings on for every new "
                     "bucket (AWS default since April 2023)", declared=False)
        return
    if unknowable(config, "PublicAccessBlockConfiguration"):
        yield unknown(why_unknown(config, "PublicAccessBlockConfiguration"))
        return
    if not isinstance(config, Mapping):
        config = {}
    flags = {flag: boolean(config.get(flag, False), flag) for flag in PUBLIC_ACCESS_FLAGS}
    off = [flag for flag, on in flags.items() if on is False]
    unknowns = [why_unknown(config.get(flag), flag) for flag, on in flags.items() if on is None]
    if off:
        yield failed(f"public access block is not all on: {', '.join(off)} false or absent", off=off)
    elif unknowns:
        yield unknown("; ".join(unknowns))
    else:
        yield passed("all four public access block settings are on")
