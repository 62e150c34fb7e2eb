"""SM rules that read SageMaker resource settings (SM-001, the VPC guardrail, is in sagemaker_iam.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed
from sagefence.checks.common import setting
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Domain, NotebookInstance, Workload
from sagefence.values import require


def notebook_network(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    access = setting(nb.direct_internet_access, "DirectInternetAccess")
    subnet = require(nb.subnet_id, "SubnetId")
    problems = []
    if access != "Disabled":
        default = " (absent: the default is Enabled)" if "DirectInternetAccess" not in nb.props else ""
        problems.append(f"direct internet access is {access}{default}")
    if not subnet:
        problems.append("no SubnetId (the instance is not in a VPC)")
    if problems:
        yield failed(f"notebook instance {nb.name}: " + "; ".join(problems), direct_internet_access=access,
                     subnet=subnet)
    else:
        yield passed(f"direct internet access disabled, in subnet {subnet}")


def notebook_root_access(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    root = setting(nb.root_access, "RootAccess")
    if root == "Disabled":
        yield passed("root access disabled")
    else:
        default = " (absent: the default is Enabled)" if "RootAccess" not in nb.props else ""
        yield failed(f"notebook instance {nb.name} gives users root access{default}")


def notebook_kms(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    key = nb.kms_key_id
    if key is None or key == "":
        yield failed(f"notebook instance {nb.name} has no KmsKeyId: its storage volume is encrypted with an AWS managed key")
    else:
        yield passed(f"storage volume encrypted with {key}", key=str(key))


def domain_vpc_only(domain: Domain, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    mode = setting(domain.app_network_access_type, "AppNetworkAccessType")
    if mode == "VpcOnly":
        yield passed("Studio domain traffic goes through the VPC (VpcOnly)")
    else:
        default = " (absent: the default is PublicInternetOnly)" if "AppNetworkAccessType" not in domain.props else ""
        yield failed(f"Studio domain {domain.id} has AppNetworkAccessType {mode}{default}; VpcOnly is required")


def workload_vpc_config(workload: Workload, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    config = require(workload.vpc_config, "VpcConfig")
    kind = workload.raw.type.rsplit("::", 1)[-1]
    if not isinstance(config, Mapping) or not config.get("Subnets"):
        yield failed(f"{kind} {workload.id} has no VpcConfig: its containers run outside your VPC")
    else:
        yield passed(f"{kind} runs in subnets {', '.join(str(s) for s in config.get('Subnets', []))}")
