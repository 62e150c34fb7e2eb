"""SageMaker notebook instances, their lifecycle configurations, and Studio domains.

Per region: ListNotebookInstances and ListDomains (paginated); per notebook
DescribeNotebookInstance and ListTags; per distinct lifecycle configuration an instance
names, DescribeNotebookInstanceLifecycleConfig; per domain DescribeDomain. Every notebook
and domain is read by a follow-up task of its own; the first task to name a lifecycle
configuration describes it.

Lifecycle configurations are read by name from the instances that use them rather than
listed: an unattached configuration matters to no rule, and moto lacks the List call.
A configuration that cannot be described is a listing failure of that type in the region.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from sagefence.sources.aws.calls import TaskClients
from sagefence.sources.aws.errors import READ_ERRORS, Batch, read_field
from sagefence.sources.aws.options import LiveScanOptions
from sagefence.sources.aws.shape import PAGE, items, present, resource
from sagefence.values import Missing, ReadError

NOTEBOOK = "AWS::SageMaker::NotebookInstance"
LIFECYCLE = "AWS::SageMaker::NotebookInstanceLifecycleConfig"
DOMAIN = "AWS::SageMaker::Domain"
TYPES = (NOTEBOOK, LIFECYCLE, DOMAIN)

# DescribeNotebookInstance field -> CloudFormation property (ReadError for all when it fails).
_DESCRIBED = {
    "DirectInternetAccess": "DirectInternetAccess",
    "RootAccess": "RootAccess",
    "SubnetId": "SubnetId",
    "SecurityGroups": "SecurityGroupIds",
    "KmsKeyId": "KmsKeyId",
    "PlatformIdentifier": "PlatformIdentifier",
    "RoleArn": "RoleArn",
    "VolumeSizeInGB": "VolumeSizeInGB",
}
# Documented defaults for fields the API (or moto) may leave out.
_DEFAULTS = {"DirectInternetAccess": "Enabled", "RootAccess": "Enabled"}


def collect(clients: TaskClients, region: str, options: LiveScanOptions) -> Batch:
    """Lists the notebooks; each notebook, and the domain listing, is a follow-up task."""
    batch = Batch()
    batch.later(partial(_domains, clients.fresh(), region), calls=4)  # a listing: more work behind it
    try:
        notebooks = items(clients("sagemaker"), "list_notebook_instances", "NotebookInstances", PaginationConfig=PAGE)
    except READ_ERRORS as err:
        batch.fail(clients.account, region, NOTEBOOK, "sagemaker.ListNotebookInstances", err)
        batch.fail(clients.account, region, LIFECYCLE, "sagemaker.ListNotebookInstances", err)
        return batch
    configs = _Claims()
    for summary in notebooks:
        batch.later(partial(_read_notebook, clients.fresh(), summary, region, configs), calls=2)
    return batch


class _Claims:
    """The lifecycle configurations some task of the region has described or is describing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: set[str] = set()

    def first(self, name: str) -> bool:
        with self._lock:
            new = name not in self._names
            self._names.add(name)
            return new


def _read_notebook(clients: TaskClients, summary: dict[str, Any], region: str, configs: _Claims) -> Batch:
    """One notebook; also its lifecycle configuration when no other notebook claimed it first."""
    sagemaker = clients("sagemaker")
    found = _notebook(sagemaker, summary, clients.account, region)
    batch = Batch(resources=[found])
    name = found.properties.get("LifecycleConfigName")
    if isinstance(name, str) and configs.first(name):
        _lifecycle(sagemaker, name, clients.account, region, batch)
    return batch


def _notebook(sagemaker: Any, summary: dict[str, Any], account: str, region: str) -> Any:
    name = summary["NotebookInstanceName"]
    arn = summary["NotebookInstanceArn"]
    described = read_field(
        lambda: sagemaker.describe_notebook_instance(NotebookInstanceName=name),
        "sagemaker.DescribeNotebookInstance",
    )
    tags = read_field(lambda: items(sagemaker, "list_tags", "Tags", ResourceArn=arn, PaginationConfig=PAGE), "sagemaker.ListTags")
    properties: dict[str, Any] = {"NotebookInstanceName": name}
    if isinstance(described, ReadError):
        properties.update({prop: described for prop in _DESCRIBED.values()})
        described = summary
    else:
        for field, prop in _DESCRIBED.items():
            value = described.get(field, _DEFAULTS.get(field))
            if value is not None and value != []:
                properties[prop] = value
        properties.setdefault("PlatformIdentifier", Missing("PlatformIdentifier"))
    properties.update(
        present(
            InstanceType=described.get("InstanceType"),
            LifecycleConfigName=described.get("NotebookInstanceLifecycleConfigName"),
            Tags=tags if tags else None,
        )
    )
    extra = {"status": described.get("NotebookInstanceStatus")}
    return resource(NOTEBOOK, arn, properties, account, region, arn=arn, extra=extra)


def _lifecycle(sagemaker: Any, name: str, account: str, region: str, batch: Batch) -> None:
    operation = "sagemaker.DescribeNotebookInstanceLifecycleConfig"
    try:
        config = sagemaker.describe_notebook_instance_lifecycle_config(NotebookInstanceLifecycleConfigName=name)
    except READ_ERRORS as err:
        batch.fail(account, region, LIFECYCLE, operation, err)
        return
    arn = config["NotebookInstanceLifecycleConfigArn"]
    properties = present(
        NotebookInstanceLifecycleConfigName=config.get("NotebookInstanceLifecycleConfigName", name),
        OnCreate=config.get("OnCreate") or None,
        OnStart=config.get("OnStart") or None,
    )
    batch.resources.append(resource(LIFECYCLE, arn, properties, account, region, arn=arn))


def _domains(clients: TaskClients, region: str) -> Batch:
    batch = Batch()
    try:
        domains = items(clients("sagemaker"), "list_domains", "Domains", PaginationConfig=PAGE)
    except READ_ERRORS as err:
        batch.fail(clients.account, region, DOMAIN, "sagemaker.ListDomains", err)
        return batch
    for summary in domains:
        batch.later(partial(_read_domain, clients.fresh(), summary, region))
    return batch


def _read_domain(clients: TaskClients, summary: dict[str, Any], region: str) -> Batch:
    sagemaker, account = clients("sagemaker"), clients.account
    arn = summary["DomainArn"]
    domain_id = summary.get("DomainId") or arn.rsplit("/", 1)[-1]  # moto leaves DomainId out
    described = read_field(partial(sagemaker.describe_domain, DomainId=domain_id), "sagemaker.DescribeDomain")
    properties: dict[str, Any] = {"DomainName": summary.get("DomainName"), "DomainId": domain_id}
    if isinstance(described, ReadError):
        properties.update({p: described for p in ("AppNetworkAccessType", "VpcId", "SubnetIds", "KmsKeyId")})
    else:
        user = described.get("DefaultUserSettings") or {}
        properties.update(
            present(
                AppNetworkAccessType=described.get("AppNetworkAccessType") or "PublicInternetOnly",
                AuthMode=described.get("AuthMode"),
                VpcId=described.get("VpcId"),
                SubnetIds=described.get("SubnetIds"),
                KmsKeyId=described.get("KmsKeyId"),
                DefaultUserSettings=present(
                    ExecutionRole=user.get("ExecutionRole"), SecurityGroups=user.get("SecurityGroups")
                ),
            )
        )
    extra = {"status": summary.get("Status")}
    return Batch(resources=[resource(DOMAIN, arn, properties, account, region, arn=arn, extra=extra)])
