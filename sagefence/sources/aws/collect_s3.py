"""S3 buckets of one region: four reads per bucket (policy, encryption, public access block, tags),
one follow-up task per bucket so that a region's buckets are read in parallel.

``ListBuckets`` takes a ``BucketRegion`` filter, so each region lists only its own buckets
(one paginated call per region) and no ``GetBucketLocation`` is needed.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sagefence.sources.aws.calls import TaskClients
from sagefence.sources.aws.errors import READ_ERRORS, Batch, read_optional
from sagefence.sources.aws.options import LiveScanOptions
from sagefence.sources.aws.shape import items, parse_document, resource
from sagefence.values import ReadError

BUCKET = "AWS::S3::Bucket"
BUCKET_POLICY = "AWS::S3::BucketPolicy"
TYPES = (BUCKET,)
_BLOCK_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def collect(clients: TaskClients, region: str, options: LiveScanOptions) -> Batch:
    batch = Batch()
    s3 = clients("s3")
    try:
        buckets = items(s3, "list_buckets", "Buckets", BucketRegion=region)
    except READ_ERRORS as err:
        batch.fail(clients.account, region, BUCKET, "s3.ListBuckets", err)
        return batch
    for bucket in buckets:
        batch.later(partial(_read_bucket, clients.fresh(), bucket["Name"], region), calls=4)
    return batch


def _read_bucket(clients: TaskClients, name: str, region: str) -> Batch:
    return Batch(resources=_bucket(clients("s3"), name, clients.account, region))


def _bucket(s3: Any, name: str, account: str, region: str) -> list[Any]:
    arn = f"arn:aws:s3:::{name}"
    policy = read_optional(
        lambda: s3.get_bucket_policy(Bucket=name)["Policy"],
        "s3.GetBucketPolicy",
        frozenset({"NoSuchBucketPolicy"}),
        policy_guarded=True,
    )
    encryption = read_optional(
        lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"],
        "s3.GetBucketEncryption",
        frozenset({"ServerSideEncryptionConfigurationNotFoundError"}),
        policy_guarded=True,
    )
    block = read_optional(
        lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
        "s3.GetPublicAccessBlock",
        frozenset({"NoSuchPublicAccessBlockConfiguration"}),
        policy_guarded=True,
    )
    tags = read_optional(
        lambda: s3.get_bucket_tagging(Bucket=name)["TagSet"],
        "s3.GetBucketTagging",
        frozenset({"NoSuchTagSet"}),
        policy_guarded=True,
    )
    properties: dict[str, Any] = {
        "BucketName": name,
        "BucketEncryption": _encryption(encryption),
        "PublicAccessBlockConfiguration": _block(block),
    }
    if tags is not None:
        properties["Tags"] = tags
    extra = {"policy_error": policy} if isinstance(policy, ReadError) else {}
    found = [resource(BUCKET, arn, properties, account, region, arn=arn, extra=extra)]
    if policy is not None and not isinstance(policy, ReadError):
        document = {"Bucket": name, "PolicyDocument": parse_document(policy)}
        found.append(resource(BUCKET_POLICY, arn, document, account, region, arn=arn))
    return found


def _encryption(answer: Any) -> Any:
    """CloudFormation's BucketEncryption; no configuration means SSE-S3 (AWS default since 2023-01-05)."""
    if answer is None:
        return {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    if isinstance(answer, ReadError):
        return answer
    rules = []
    for rule in answer.get("Rules", []):
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        by_default = {"SSEAlgorithm": default.get("SSEAlgorithm")}
        if default.get("KMSMasterKeyID"):
            by_default["KMSMasterKeyID"] = default["KMSMasterKeyID"]
        entry: dict[str, Any] = {"ServerSideEncryptionByDefault": by_default}
        if "BucketKeyEnabled" in rule:
            entry["BucketKeyEnabled"] = rule["BucketKeyEnabled"]
        rules.append(entry)
    return {"ServerSideEncryptionConfiguration": rules}


def _block(answer: Any) -> Any:
    """No configuration means nothing is blocked."""
    if isinstance(answer, ReadError):
        return answer
    return {key: bool((answer or {}).get(key, False)) for key in _BLOCK_KEYS}
