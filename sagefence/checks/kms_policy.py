"""Simulated KMS rules: DenyNoVPC on the key (KMS-001), Decrypt open to other accounts (KMS-003)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.probes import (
    OUTSIDE_ACCOUNT,
    account_of_resource,
    denied_everywhere,
    designated_endpoint,
    probe,
    probe_arn,
)
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import KmsKey
from sagefence.policy import evaluate, named_principals
from sagefence.values import require

KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
               "kms:DescribeKey")


def _policy(key: KmsKey, inventory: Inventory) -> Any:
    document = require(key.policy, "KeyPolicy")
    if document is None:
        return None
    return inventory.policy(document, f"key policy of {key.id}", "resource")


def deny_no_vpc(key: KmsKey, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    policy = _policy(key, inventory)
    if policy is None:
        yield failed(f"key {key.id} has no key policy")
        return
    open_, deciding = denied_everywhere(policy, [(a, key.arn) for a in KMS_ACTIONS], account_of_resource(key))
    evidence = {"policy": policy.source, "denied_by": sorted(deciding)}
    if open_:
        yield failed("; ".join(open_), not_denied=open_, **evidence)
    else:
        yield passed(f"every probed KMS action is denied from outside the designated endpoints by "
                     f"{', '.join(sorted(deciding))}", **evidence)


def cross_account_decrypt(key: KmsKey, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    policy = _policy(key, inventory)
    if policy is None:
        return
    own = account_of_resource(key)
    trusted = {own, *inventory.config.trusted_accounts}
    context = designated_endpoint(policy)
    opened: list[str] = []
    maybe: list[str] = []
    for named in named_principals(policy):
        if named.kind not in ("*", "AWS"):
            continue
        if named.opaque:
            principal, account = named.value, None
        elif named.kind == "*" or named.value == "*":
            principal, account = probe_arn(OUTSIDE_ACCOUNT), OUTSIDE_ACCOUNT
        elif named.account is None or named.account in trusted:
            continue
        else:
            account = named.account
            principal = named.value if ":role/" in named.value or ":user/" in named.value else probe_arn(account)
        request = probe("kms:Decrypt", key.arn, account or OUTSIDE_ACCOUNT, context, principal=principal)
        result = evaluate(request, resource=policy)
        if not result.allowed:
            continue
        grant = f"kms:Decrypt is allowed to {named.value} ({named.statement.ref.label})"
        (maybe if named.opaque else opened).append(grant)
    evidence = {"policy": policy.source, "trusted_accounts": sorted(trusted)}
    if opened:
        yield failed("; ".join(opened) + " with no condition that restricts it", grants=opened, **evidence)
    elif maybe:
        yield unknown("; ".join(maybe) + ": the account is not known before deployment and may be any account",
                      grants=maybe, **evidence)
    else:
        yield passed("kms:Decrypt is not allowed to principals of untrusted accounts", **evidence)
