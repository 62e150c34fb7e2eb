"""CloudFormation stacks of one region, and what the stacks with a service role deploy.

DescribeStacks (paginated) per region; ListStackResources (paginated) per stack that has a
``RoleARN``, in a follow-up task per stack, for IAM-004 (a): the roles its resources are
given must be passable by it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sagefence.sources.aws.calls import TaskClients
from sagefence.sources.aws.errors import READ_ERRORS, Batch, read_field
from sagefence.sources.aws.options import LiveScanOptions
from sagefence.sources.aws.shape import items, present, resource

STACK = "AWS::CloudFormation::Stack"
TYPES = (STACK,)


def collect(clients: TaskClients, region: str, options: LiveScanOptions) -> Batch:
    batch = Batch()
    cloudformation = clients("cloudformation")
    try:
        stacks = items(cloudformation, "describe_stacks", "Stacks")
    except READ_ERRORS as err:
        batch.fail(clients.account, region, STACK, "cloudformation.DescribeStacks", err)
        return batch
    for stack in stacks:
        if stack.get("StackStatus") == "DELETE_COMPLETE":
            continue
        if stack.get("RoleARN"):
            batch.later(partial(_read_stack, clients.fresh(), stack, region))
        else:
            batch.resources.append(_stack(cloudformation, stack, clients.account, region))
    return batch


def _read_stack(clients: TaskClients, stack: dict[str, Any], region: str) -> Batch:
    return Batch(resources=[_stack(clients("cloudformation"), stack, clients.account, region)])


def _stack(cloudformation: Any, stack: dict[str, Any], account: str, region: str) -> Any:
    arn = stack["StackId"]
    properties = present(StackName=stack["StackName"], RoleARN=stack.get("RoleARN"))
    extra: dict[str, Any] = {"status": stack.get("StackStatus")}
    if stack.get("RoleARN"):
        listed = read_field(
            lambda: items(cloudformation, "list_stack_resources", "StackResourceSummaries", StackName=arn),
            "cloudformation.ListStackResources",
        )
        extra["resources"] = (
            [
                {
                    "type": r.get("ResourceType"),
                    "logical_id": r.get("LogicalResourceId"),
                    "physical_id": r.get("PhysicalResourceId"),
                }
                for r in listed
            ]
            if isinstance(listed, list)
            else listed
        )
    return resource(STACK, arn, properties, account, region, arn=arn, extra=extra)
