"""`sagefence migration-plan`: instances to migrate, their readiness and the new instance's settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from sagefence.catalogue import Rule
from sagefence.checks.migration import needs_migration, readiness
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import NotebookInstance
from sagefence.values import InputError, UnknownInput


def _notes(nb: NotebookInstance) -> list[str]:
    """Where the new instance should not inherit the old one's insecure settings."""
    notes = []
    if not nb.subnet_id:
        notes.append("the source has no SubnetId: put the new instance in a private subnet (SM-002)")
    elif str(nb.props.get("DirectInternetAccess", "Enabled")) != "Disabled":
        notes.append("direct internet access disabled on the new instance (SM-002); its VPC needs an S3 endpoint")
    if str(nb.props.get("RootAccess", "Enabled")) != "Disabled":
        notes.append("root access disabled on the new instance (SM-003); lifecycle scripts still run as root")
    if not nb.kms_key_id:
        notes.append("the source has no KmsKeyId: give the new instance a customer managed key (SM-004)")
    return notes


def _settings(nb: NotebookInstance, inventory: Inventory, stamp: str) -> dict[str, Any]:
    volume = nb.props.get("VolumeSizeInGB")
    return {
        "NotebookInstanceName": f"{nb.name}-al2023"[:63],
        "PlatformIdentifier": inventory.config.migration.target_platform,
        "InstanceType": nb.props.get("InstanceType"),
        "VolumeSizeInGB": max(int(volume), 5) if isinstance(volume, int) else volume,
        "RoleArn": nb.role_arn,
        "SubnetId": nb.subnet_id,
        "SecurityGroupIds": list(nb.security_group_ids),
        "KmsKeyId": nb.kms_key_id,
        "DirectInternetAccess": "Disabled" if nb.subnet_id else "Enabled",
        "RootAccess": "Disabled",
        "LifecycleConfigName": nb.lifecycle_config,
        "Tags": [{"Key": "backup-snapshot", "Value": f"{nb.name}_{stamp}"},
                 *({"Key": k, "Value": v} for k, v in nb.tags.items())],
    }


def build_plan(inventory: Inventory, failures: Sequence[str], catalogue: Mapping[str, Rule],
               now: datetime | None = None) -> dict[str, Any]:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    params = catalogue["NB-003"].params
    instances: list[dict[str, Any]] = []
    errors: list[str] = list(failures)
    for nb in inventory.of_type("AWS::SageMaker::NotebookInstance"):
        assert isinstance(nb, NotebookInstance)
        try:
            reason = needs_migration(nb, inventory, params)
        except (UnknownInput, InputError) as exc:
            errors.append(f"{nb.id}: platform not known ({exc}); it may need migration")
            continue
        if reason is None:
            continue
        items = readiness(nb, inventory)
        instances.append({
            "instance": nb.id, "name": nb.name, "account": nb.raw.account, "region": nb.raw.region,
            "platform": reason, "ready": all(ready is True for _, ready, _ in items),
            "readiness": [{"item": name, "ready": ready, "detail": detail} for name, ready, detail in items],
            "new_instance": _settings(nb, inventory, stamp), "notes": _notes(nb),
        })
    return {"target_platform": inventory.config.migration.target_platform, "instances": instances,
            "errors": errors}


def render_plan_text(plan: Mapping[str, Any]) -> str:
    lines = [f"Migration plan (target platform {plan['target_platform']}): {len(plan['instances'])} instance(s)"]
    for entry in plan["instances"]:
        lines.append("")
        state = "READY" if entry["ready"] else "NOT READY"
        lines.append(f"{entry['name']} ({entry['account']}/{entry['region']}) on {entry['platform']}: {state}")
        for item in entry["readiness"]:
            lines.append(f"  [{'x' if item['ready'] else ' '}] {item['detail']}")
        lines.append("  new instance:")
        for key, value in entry["new_instance"].items():
            if value is not None:
                lines.append(f"    {key}: {value}")
        for note in entry["notes"]:
            lines.append(f"  note: {note}")
    for error in plan["errors"]:
        lines.append(f"error: {error}")
    return "\n".join(lines) + "\n"
