"""The least-privilege IAM policy a live scan needs, and how API operations map to IAM actions."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

DEFAULT_ROLE_NAME = "sagefence-scanner"
ASSUME_SID = "SageFenceAssumeMemberScannerRole"

# API operations whose IAM action is not "<service>:<OperationName>".
_ACTION_EXCEPTIONS = {
    "s3.ListBuckets": "s3:ListAllMyBuckets",
    "s3.GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3.GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
}


def iam_action(operation: str) -> str:
    """``"s3.GetBucketEncryption"`` -> ``"s3:GetEncryptionConfiguration"``."""
    if operation in _ACTION_EXCEPTIONS:
        return _ACTION_EXCEPTIONS[operation]
    service, _, name = operation.partition(".")
    return f"{service}:{name}"


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    text = resources.files("sagefence").joinpath("data/scanner-policy.json").read_text(encoding="utf-8")
    return json.loads(text)


def scanner_policy(role_name: str | None = None) -> dict[str, Any]:
    """The shipped scanner policy; ``role_name`` replaces the member role that
    organization and ``--accounts`` scans assume (default ``sagefence-scanner``)."""
    policy = copy.deepcopy(_shipped())
    if role_name:
        for statement in policy["Statement"]:
            if statement.get("Sid") == ASSUME_SID:
                statement["Resource"] = f"arn:aws:iam::*:role/{role_name}"
    return policy
