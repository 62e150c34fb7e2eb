"""KMS rules that read key settings (the simulated policy rules live in kms_policy.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed
from sagefence.checks.common import truthy
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import KmsKey


def rotation(key: KmsKey, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    spec = key.props.get("KeySpec", "SYMMETRIC_DEFAULT")
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        return  # rotation cannot be enabled for asymmetric and HMAC keys: not evaluated
    if truthy(key.rotation, "EnableKeyRotation"):
        yield passed("automatic key rotation is on")
    else:
        yield failed(f"key {key.id} has automatic rotation off (EnableKeyRotation false or absent; the default is false)")
