"""KMS customer managed keys and aliases of one region.

Two listings (ListKeys, ListAliases) and at most three reads per key (DescribeKey,
GetKeyPolicy, GetKeyRotationStatus), in one follow-up task per key; keys behind an
``alias/aws/*`` alias are AWS managed and cost nothing more (moto reports them as
CUSTOMER, AWS as AWS).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sagefence.sources.aws.calls import TaskClients
from sagefence.sources.aws.errors import READ_ERRORS, Batch, read_field, read_optional
from sagefence.sources.aws.options import LiveScanOptions
from sagefence.sources.aws.shape import items, parse_document, present, resource
from sagefence.values import ReadError

KEY = "AWS::KMS::Key"
ALIAS = "AWS::KMS::Alias"
TYPES = (KEY, ALIAS)
_AWS_ALIAS = "alias/aws/"
_GOING = frozenset({"PendingDeletion", "PendingReplicaDeletion"})


def collect(clients: TaskClients, region: str, options: LiveScanOptions) -> Batch:
    batch = Batch()
    kms = clients("kms")
    account = clients.account
    try:
        keys = items(kms, "list_keys", "Keys", PaginationConfig={"PageSize": 1000})
    except READ_ERRORS as err:
        batch.fail(account, region, KEY, "kms.ListKeys", err)
        keys = None
    try:
        aliases = items(kms, "list_aliases", "Aliases", PaginationConfig={"PageSize": 100})
    except READ_ERRORS as err:
        batch.fail(account, region, ALIAS, "kms.ListAliases", err)
        aliases = []
    existing = {key["KeyId"] for key in keys or ()}
    aws_managed: set[str] = set()
    for alias in aliases:
        target = alias.get("TargetKeyId")
        managed = alias["AliasName"].startswith(_AWS_ALIAS)
        if not target or (managed and keys is not None and target not in existing):
            continue  # a predefined AWS alias whose key does not exist yet
        if managed:
            aws_managed.add(target)
        properties = {"AliasName": alias["AliasName"], "TargetKeyId": target}
        extra = {"aws_managed": managed}
        batch.resources.append(resource(ALIAS, alias["AliasArn"], properties, account, region, extra=extra))
    for key in keys or ():
        if key["KeyId"] not in aws_managed:
            batch.later(partial(_read_key, clients.fresh(), key["KeyId"], key["KeyArn"], region), calls=3)
    return batch


def _read_key(clients: TaskClients, key_id: str, arn: str, region: str) -> Batch:
    found = _key(clients("kms"), key_id, arn, clients.account, region)
    return Batch(resources=[found] if found is not None else [])


def _key(kms: Any, key_id: str, arn: str, account: str, region: str) -> Any:
    metadata = read_field(lambda: kms.describe_key(KeyId=key_id)["KeyMetadata"], "kms.DescribeKey", policy_guarded=True)
    if isinstance(metadata, dict) and (metadata.get("KeyManager") != "CUSTOMER" or metadata.get("KeyState") in _GOING):
        return None
    policy = read_field(
        lambda: kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"],
        "kms.GetKeyPolicy",
        policy_guarded=True,
    )
    rotation = read_optional(
        lambda: kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"],
        "kms.GetKeyRotationStatus",
        frozenset({"UnsupportedOperationException"}),  # asymmetric, HMAC, imported: never rotates
        policy_guarded=True,
    )
    properties: dict[str, Any] = {
        "KeyPolicy": policy if isinstance(policy, ReadError) else parse_document(policy),
        "EnableKeyRotation": bool(rotation) if not isinstance(rotation, ReadError) else rotation,
    }
    if isinstance(metadata, ReadError):
        properties.update(KeyState=metadata, Description=metadata)
    else:
        properties.update(
            present(
                KeyState=metadata.get("KeyState"),
                Description=metadata.get("Description"),
                Enabled=metadata.get("Enabled"),
                KeyUsage=metadata.get("KeyUsage"),
                KeySpec=metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec"),
                MultiRegion=metadata.get("MultiRegion"),
            )
        )
    return resource(KEY, arn, properties, account, region, arn=arn)
