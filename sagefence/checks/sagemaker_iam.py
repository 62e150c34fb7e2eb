"""Simulated SM-001, the SageMaker VPC guardrail, and IAM-005 (no AdministratorAccess)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.common import could_be
from sagefence.checks.probes import (
    arn_segments,
    probe,
    role_evaluation,
    unreadable_policies,
    witness_resources,
)
from sagefence.checks.trust import sagemaker_can_assume
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Role
from sagefence.values import is_opaque

GUARDED = {
    "sagemaker:CreateNotebookInstance": "notebook-instance",
    "sagemaker:CreateTrainingJob": "training-job",
    "sagemaker:CreateProcessingJob": "processing-job",
    "sagemaker:CreateHyperParameterTuningJob": "hyper-parameter-tuning-job",
    "sagemaker:CreateModel": "model",
}
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def vpc_guardrail(role: Role, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    if not sagemaker_can_assume(role, inventory):
        return
    partition, account = _home(role)
    region = role.raw.region or inventory.config.region
    opened: list[str] = []
    uncertain: list[str] = []
    allowed_by: set[str] = set()
    identity = [inventory.policy(doc) for doc in role.policies]
    for action, kind in GUARDED.items():
        default = f"arn:{partition}:sagemaker:{region}:{account}:{kind}/sagefence-probe"
        result = None
        for target in witness_resources(identity, action, default):
            request = probe(action, target, account, principal=role.arn)
            result = role_evaluation(inventory, role, request)
            if not result.allowed and result.uncertain:
                result = role_evaluation(inventory, role, request, open_gates=True)
            if result.uncertain:
                uncertain.append(action)
                break
            if result.allowed:
                opened.append(f"{action} on {target}" if target != default else action)
                allowed_by.update(r.label for r in result.deciding)
                break
    unreadable = unreadable_policies(inventory)
    evidence = {"policies": [p.source for p in role.policies], "allowed_by": sorted(allowed_by)}
    if opened:
        yield failed(f"role {role.id} may call {', '.join(opened)} without sagemaker:VpcSubnets or "
                     "sagemaker:VpcSecurityGroupIds (outside the VPC)", open_actions=opened, **evidence)
    elif uncertain:
        yield unknown(f"{', '.join(uncertain)} without a VpcConfig is not decided by the known policies: a "
                      "managed policy whose content is not known may allow it, or an SCP that could not be read "
                      "may allow or deny it", actions=uncertain, **evidence)
    elif unreadable:
        yield unknown(f"policy resource(s) {', '.join(unreadable)} could not be read and may attach to this role",
                      **evidence)
    else:
        yield passed("no guarded SageMaker action is allowed without sagemaker:VpcSubnets / VpcSecurityGroupIds",
                     **evidence)


def _home(role: Role) -> tuple[str, str]:
    """The role's partition and account, read from its ARN (the same text, token or literal): a role
    creates SageMaker resources only in its own account, so that is where the probe resource sits."""
    parts = arn_segments(role.arn)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam" and parts[4] != "":
        return parts[1], parts[4]
    account = role.account
    return "aws", account if isinstance(account, str) and account != "" else "123456789012"


def no_administrator_access(role: Role, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    if not sagemaker_can_assume(role, inventory):
        return
    opaque = [str(a) for a in role.managed_policy_arns if is_opaque(a) and could_be(a, ADMIN)]
    attached = [str(a) for a in role.managed_policy_arns if str(a) == ADMIN]
    attached += [p.source for p in role.policies if p.arn == ADMIN and p.source not in attached]
    if attached:
        yield failed(f"role {role.id}, which SageMaker can assume, has AdministratorAccess attached", policy=ADMIN)
    elif opaque:
        yield unknown(f"managed policy ARN(s) {', '.join(opaque)} are not known before deployment and may be "
                      "AdministratorAccess")
    else:
        yield passed("AdministratorAccess is not attached")
