"""KMS rules that read key settings (the simulated policy rules live in kms_policy.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.common import boolean, equals, why_unknown
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import KmsKey


def rotation(key: KmsKey, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    """Rotation applies only to symmetric keys: with a KeySpec not known before deployment, rotation on
    passes (only a symmetric key can have it) and rotation off is unknown."""
    spec = key.props.get("KeySpec", "SYMMETRIC_DEFAULT")
    symmetric = equals(spec, "SYMMETRIC_DEFAULT", "KeySpec")
    if symmetric is False:
        return  # rotation cannot be enabled for asymmetric and HMAC keys: not evaluated
    on = boolean(key.rotation, "EnableKeyRotation")
    if on:
        yield passed("automatic key rotation is on")
    elif on is None:
        yield unknown(why_unknown(key.rotation, "EnableKeyRotation"))
    elif symmetric is None:
        yield unknown(f"automatic key rotation is off; {why_unknown(spec, 'KeySpec')}, and only a symmetric key "
                      "can rotate")
    else:
        yield failed(f"key {key.id} has automatic rotation off (EnableKeyRotation false or absent; the default is false)")
