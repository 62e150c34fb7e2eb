"""Simulated KMS rules: DenyNoVPC on the key (KMS-001), Decrypt open to other accounts (KMS-003)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.probes import (
    INTERNET,
    OUTSIDE_ACCOUNT,
    account_of_resource,
    designated_endpoints,
    foreign_candidates,
    outside_denial,
    probe,
    restricting,
)
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import KmsKey
from sagefence.policy import action_matches, evaluate
from sagefence.values import require_document

KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
               "kms:DescribeKey")


def _policy(key: KmsKey, inventory: Inventory) -> Any:
    document = require_document(key.policy, "KeyPolicy")
    if document is None:
        return None
    return inventory.policy(document, f"key policy of {key.id}", "key")


def deny_no_vpc(key: KmsKey, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    policy = _policy(key, inventory)
    if policy is None:
        yield failed(f"key {key.id} has no key policy")
        return
    yield outside_denial(policy, [(a, key.arn) for a in KMS_ACTIONS], account_of_resource(key), "KMS")


RESTRICTING_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths", "aws:principalarn",
                              "aws:principalaccount", "kms:calleraccount", "kms:viaservice", "aws:sourceaccount",
                              "aws:sourcearn", "kms:grantisforawsresource"})


def cross_account_decrypt(key: KmsKey, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    policy = _policy(key, inventory)
    if policy is None:
        yield passed("no KeyPolicy: the default key policy gives only the key's own account access")
        return
    own = account_of_resource(key)
    trusted = {own, *inventory.config.trusted_accounts}
    region = key.raw.region or inventory.config.region
    contexts = [*designated_endpoints(policy), dict(INTERNET)]
    opened: list[str] = []
    maybe: list[str] = []
    for candidate in foreign_candidates(policy, trusted):
        account = candidate.account or OUTSIDE_ACCOUNT
        results = []
        for context in contexts:
            extra = {**context, "kms:CallerAccount": account, "aws:RequestedRegion": region}
            request = probe("kms:Decrypt", key.arn, account, extra, principal=candidate.principal)
            results.append(evaluate(request, resource=policy))
        statement = candidate.named.statement
        if any(r.explicitly_denied for r in results) and not any(r.allowed for r in results):
            continue
        grants_decrypt = any(action_matches(a, "kms:Decrypt") for a in statement.actions or ("*",))
        if any(r.allowed for r in results) or grants_decrypt and not restricting(statement, RESTRICTING_KEYS):
            grant = f"kms:Decrypt is allowed to {candidate.principal} ({statement.ref.label})"
            (maybe if candidate.opaque else opened).append(grant)
    evidence = {"policy": policy.source, "trusted_accounts": sorted(trusted)}
    if opened:
        yield failed("; ".join(dict.fromkeys(opened)) + " with no condition that restricts it", grants=opened,
                     **evidence)
    elif maybe:
        yield unknown("; ".join(dict.fromkeys(maybe)) + ": the account is not known before deployment and may be "
                      "any account", grants=maybe, **evidence)
    else:
        yield passed("kms:Decrypt is not allowed to principals of untrusted accounts", **evidence)
