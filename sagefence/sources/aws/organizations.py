"""AWS Organizations: the member accounts to scan, the SCPs and each account's parent chain.

Read once, from the management (caller) account: ListAccounts, ListPolicies for service
control policies and, per policy, DescribePolicy and ListTargetsForPolicy; ListParents once
per account and organizational unit on the way to the root (cached). Every account's chain
and every policy is a follow-up task.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any

from sagefence.sources.aws.calls import AccountClients
from sagefence.sources.aws.errors import READ_ERRORS, Batch, describe, read_field
from sagefence.sources.aws.options import LiveScanSetupError
from sagefence.sources.aws.shape import ORG_PAGE, items, parse_document, present, resource
from sagefence.values import ReadError

POLICY = "AWS::Organizations::Policy"
ACCOUNT = "AWS::Organizations::Account"
GLOBAL = "global"
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    arn: str
    status: str


def members(clients: AccountClients) -> tuple[Member, ...]:
    """Every account of the organization; a failed listing is a setup error (nothing to scan)."""
    try:
        found = items(clients.client("organizations"), "list_accounts", "Accounts", PaginationConfig=ORG_PAGE)
    except READ_ERRORS as err:
        message = describe("organizations.ListAccounts", err)
        raise LiveScanSetupError(f"cannot list the organization's accounts: {message}") from err
    return tuple(
        Member(a["Id"], a.get("Name", ""), a.get("Arn", a["Id"]), a.get("Status", "ACTIVE")) for a in found
    )


def collect(clients: AccountClients, active: tuple[Member, ...]) -> Batch:
    """Lists the SCPs; each account's parent chain and each policy are follow-up tasks."""
    batch = Batch()
    organizations = clients.client("organizations")
    parents = _Parents(organizations)
    for member in active:
        batch.later(partial(_account, parents, member))
    try:
        policies = items(organizations, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY", PaginationConfig=ORG_PAGE)
    except READ_ERRORS as err:
        batch.fail(clients.account, GLOBAL, POLICY, "organizations.ListPolicies", err)
        return batch
    for summary in policies:
        batch.later(partial(_policy, organizations, summary, clients.account), calls=2)
    return batch


def _account(parents: _Parents, member: Member) -> Batch:
    chain = parents.chain(member.id)
    properties = {"Id": member.id, "Name": member.name, "Status": member.status, "ParentIds": chain}
    return Batch(resources=[resource(ACCOUNT, member.arn, properties, member.id, None, arn=member.arn)])


Link = tuple[str, bool] | None | ReadError  # (parent id, parent is the root), no parent, or the failure


class _Parents:
    """Each node's parent, asked once (ListParents) however many accounts' tasks share the node:
    the first task to need it asks, the others wait for its answer."""

    def __init__(self, organizations: Any) -> None:
        self._organizations = organizations
        self._lock = threading.Lock()
        self._links: dict[str, Future[Link]] = {}

    def chain(self, child: str) -> list[str] | ReadError:
        """Parent ids from the nearest up to the root (OUs nest at most five deep)."""
        chain: list[str] = []
        node = child
        for _ in range(_MAX_DEPTH):
            link = self._link(node)
            if link is None or isinstance(link, ReadError):
                return link if link is not None else chain
            parent, is_root = link
            chain.append(parent)
            if is_root:
                break
            node = parent
        return chain

    def _link(self, node: str) -> Link:
        with self._lock:
            answer = self._links.get(node)
            mine = answer is None
            if answer is None:
                answer = self._links[node] = Future()
        if mine:
            try:
                answer.set_result(self._ask(node))
            except BaseException as exc:  # a bug: the waiting tasks re-raise it too
                answer.set_exception(exc)
                raise
        return answer.result()

    def _ask(self, node: str) -> Link:
        try:
            found = self._organizations.list_parents(ChildId=node).get("Parents", [])
        except READ_ERRORS as err:
            return ReadError("organizations.ListParents", describe("organizations.ListParents", err))
        return (found[0]["Id"], found[0].get("Type") == "ROOT") if found else None


def _policy(organizations: Any, summary: dict[str, Any], account: str) -> Batch:
    policy_id, arn = summary["Id"], summary["Arn"]
    content = read_field(
        lambda: organizations.describe_policy(PolicyId=policy_id)["Policy"]["Content"],
        "organizations.DescribePolicy",
    )
    targets = read_field(
        lambda: [t["TargetId"] for t in items(organizations, "list_targets_for_policy", "Targets", PolicyId=policy_id)],
        "organizations.ListTargetsForPolicy",
    )
    properties = present(
        Name=summary.get("Name"),
        Description=summary.get("Description") or None,
        Type=summary.get("Type", "SERVICE_CONTROL_POLICY"),
        Content=content if isinstance(content, ReadError) else parse_document(content),
        TargetIds=targets,
    )
    extra = {"aws_managed": bool(summary.get("AwsManaged"))}
    return Batch(resources=[resource(POLICY, arn, properties, account, None, arn=arn, extra=extra)])
