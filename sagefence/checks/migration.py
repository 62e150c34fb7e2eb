"""NB-003 (live): is an instance on AL1 or an unsupported platform ready to be migrated?"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.common import present, service_short_name, unknowable, why_unknown
from sagefence.checks.notebooks import AL1, platform_table
from sagefence.checks.probes import designated_endpoint, probe
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Bucket, NotebookInstance, Subnet
from sagefence.policy import evaluate
from sagefence.values import require

BACKUP_TAG = "ebs-backup-bucket"
BACKUP_ACTIONS = ("s3:PutObject", "s3:GetObject", "s3:ListBucket")


def needs_migration(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> str | None:
    """Why the instance must move (AL1, or a platform past end of support), or None."""
    platform = require(nb.platform, "PlatformIdentifier")
    if platform is None:
        return None
    if platform == AL1:
        return f"{platform} (Amazon Linux 1)"
    end = platform_table(params, inventory).get(str(platform))
    if end is not None and end < inventory.scan_date:
        return f"{platform} (end of standard support {end.isoformat()})"
    return None


def readiness(nb: NotebookInstance, inventory: Inventory) -> list[tuple[str, bool | None, str]]:
    """Each readiness item of rules.md: (item, ready, detail)."""
    items: list[tuple[str, bool | None, str]] = []
    require(nb.props.get("Tags"), "Tags")
    bucket_name = nb.tags.get(BACKUP_TAG) if present(nb.tags.get(BACKUP_TAG), BACKUP_TAG) else None
    items.append(("backup tag", bool(bucket_name),
                  f"tagged {BACKUP_TAG}={bucket_name}" if bucket_name else f"no {BACKUP_TAG} tag"))
    bucket = inventory.lookup(str(bucket_name), "AWS::S3::Bucket") if bucket_name else None
    if bucket_name:
        items.append(("backup bucket exists", bucket is not None,
                      f"bucket {bucket_name} " + ("exists" if bucket is not None else "does not exist in the scan")))
    lifecycle = nb.lifecycle_config if present(nb.lifecycle_config, "NotebookInstanceLifecycleConfigName") else None
    items.append(("lifecycle configuration", bool(lifecycle),
                  f"lifecycle configuration {lifecycle}" if lifecycle else "no lifecycle configuration attached"))
    if isinstance(bucket, Bucket):
        items.append(_role_can_back_up(nb, bucket, inventory))
    items.append(_s3_reachable(nb, inventory))
    return items


def _role_can_back_up(nb: NotebookInstance, bucket: Bucket, inventory: Inventory) -> tuple[str, bool | None, str]:
    role = inventory.role_by_arn(nb.role_arn)
    if role is None:
        return ("role may write the backup", False, f"execution role {nb.role_arn} is not in the scan")
    policy = None
    document = require(bucket.policy, "bucket policy")
    if document is not None:
        policy = inventory.policy(document, f"bucket policy of {bucket.id}", "resource")
    context = designated_endpoint(policy) if policy is not None else {}
    account = role.account or ""
    missing: list[str] = []
    uncertain: list[str] = []
    for action in BACKUP_ACTIONS:
        target = bucket.arn if action == "s3:ListBucket" else f"{bucket.arn}/{nb.name}/backup"
        request = probe(action, target, account, context, principal=role.arn)
        identity = [inventory.policy(d) for d in role.policies]
        boundary = inventory.policy(role.boundary) if role.boundary else None
        result = evaluate(request, identity=identity, resource=policy, boundary=boundary,
                          scps=inventory.scps_for(account), resource_account=bucket.raw.account)
        if result.uncertain:
            uncertain.append(action)
        elif not result.allowed:
            missing.append(action)
    if missing:
        return ("role may write the backup", False, f"execution role is not allowed {', '.join(missing)} on {bucket.id}")
    if uncertain:  # a policy nobody could read (an SCP) decides: neither ready nor not ready
        return ("role may write the backup", None, f"whether the execution role may {', '.join(uncertain)} on "
                f"{bucket.id} depends on a policy that could not be read")
    return ("role may write the backup", True, "execution role may put, get and list the backup bucket")


def _s3_reachable(nb: NotebookInstance, inventory: Inventory) -> tuple[str, bool, str]:
    if str(nb.direct_internet_access) == "Enabled":
        return ("S3 reachable", True, "direct internet access reaches S3")
    subnet = inventory.lookup(nb.subnet_id, "AWS::EC2::Subnet")
    vpc = inventory.lookup(subnet.vpc_id, "AWS::EC2::VPC") if isinstance(subnet, Subnet) else None
    if vpc is None:
        return ("S3 reachable", False, f"the VPC of subnet {nb.subnet_id} is not in the scan")
    if any(service_short_name(e.service_name) == "s3" for e in inventory.endpoints_of(vpc)):
        return ("S3 reachable", True, f"VPC {vpc.id} has an S3 endpoint")
    return ("S3 reachable", False, f"no direct internet access and VPC {vpc.id} has no S3 endpoint")


def migration_readiness(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    """With a platform the API did not report, an instance that is ready passes (whatever the platform);
    one that is not is unknown (it fails only if the platform needs migrating)."""
    platform_unknown = unknowable(nb.platform, "PlatformIdentifier")
    reason = why_unknown(nb.platform, "platform") if platform_unknown else needs_migration(nb, inventory, params)
    if reason is None:
        return
    items = readiness(nb, inventory)
    missing = [detail for _, ready, detail in items if ready is False]
    undecided = [detail for _, ready, detail in items if ready is None]
    evidence = {"platform": reason, "items": {name: detail for name, _, detail in items}}
    if missing and platform_unknown:
        yield unknown(f"{reason}; if it needs migrating, notebook instance {nb.name} is not ready: "
                      + "; ".join(missing), missing=missing, **evidence)
    elif missing:
        yield failed(f"notebook instance {nb.name} on {reason} is not ready to migrate: " + "; ".join(missing),
                     missing=missing, **evidence)
    elif undecided:
        yield unknown(f"notebook instance {nb.name}: " + "; ".join(undecided), undecided=undecided, **evidence)
    else:
        where = f"({reason})" if platform_unknown else f"on {reason}"
        yield passed(f"notebook instance {nb.name} {where} is ready to migrate", **evidence)
