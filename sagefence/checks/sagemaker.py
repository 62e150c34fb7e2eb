"""SM rules that read SageMaker resource settings (SM-001, the VPC guardrail, is in sagemaker_iam.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.common import equals, present, setting, why_unknown
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Domain, NotebookInstance, Workload
from sagefence.values import is_opaque


def notebook_network(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    """Fails on what is certainly wrong whatever the unknown inputs are: direct internet access on (or
    absent), or no SubnetId; a SubnetId from a parameter or ImportValue is present whatever its value."""
    access, subnet = nb.direct_internet_access, nb.subnet_id
    disabled = equals(access, "Disabled", "DirectInternetAccess")
    in_subnet = present(subnet, "SubnetId")
    problems = []
    if disabled is False:
        default = " (absent: the default is Enabled)" if "DirectInternetAccess" not in nb.props else ""
        problems.append(f"direct internet access is {access}{default}")
    if in_subnet is False:
        problems.append("no SubnetId (the instance is not in a VPC)")
    evidence = {"direct_internet_access": str(access), "subnet": None if subnet is None else str(subnet)}
    if problems:
        yield failed(f"notebook instance {nb.name}: " + "; ".join(problems), **evidence)
    elif disabled and in_subnet:
        yield passed(f"direct internet access disabled, in subnet {subnet}", **evidence)
    else:
        unknowns = [why_unknown(v, what) for v, what, known in ((access, "DirectInternetAccess", disabled),
                                                                (subnet, "SubnetId", in_subnet)) if known is None]
        yield unknown("; ".join(unknowns), **evidence)


def notebook_root_access(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    root = setting(nb.root_access, "RootAccess")
    if root == "Disabled":
        yield passed("root access disabled")
    else:
        default = " (absent: the default is Enabled)" if "RootAccess" not in nb.props else ""
        yield failed(f"notebook instance {nb.name} gives users root access{default}")


def notebook_kms(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    key = present(nb.kms_key_id, "KmsKeyId")
    if key is None:
        yield unknown(why_unknown(nb.kms_key_id, "KmsKeyId"))
    elif not key:
        yield failed(f"notebook instance {nb.name} has no KmsKeyId: its storage volume is encrypted with an AWS managed key")
    else:
        yield passed(f"storage volume encrypted with {nb.kms_key_id}", key=str(nb.kms_key_id))


def domain_vpc_only(domain: Domain, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    mode = setting(domain.app_network_access_type, "AppNetworkAccessType")
    if mode == "VpcOnly":
        yield passed("Studio domain traffic goes through the VPC (VpcOnly)")
    else:
        default = " (absent: the default is PublicInternetOnly)" if "AppNetworkAccessType" not in domain.props else ""
        yield failed(f"Studio domain {domain.id} has AppNetworkAccessType {mode}{default}; VpcOnly is required")


def workload_vpc_config(workload: Workload, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    """A VpcConfig whose Subnets come from a parameter (list or items) is present whatever they are."""
    config = workload.vpc_config
    kind = workload.raw.type.rsplit("::", 1)[-1]
    subnets = config.get("Subnets") if isinstance(config, Mapping) else config
    has_subnets = present(subnets, "VpcConfig")
    if has_subnets is None:
        yield unknown(why_unknown(subnets, "VpcConfig"))
    elif not has_subnets or not (isinstance(config, Mapping) or is_opaque(config)):
        yield failed(f"{kind} {workload.id} has no VpcConfig: its containers run outside your VPC")
    else:
        shown = subnets if isinstance(subnets, (list, tuple)) else [subnets]
        yield passed(f"{kind} runs in subnets {', '.join(str(s) for s in shown)}")
