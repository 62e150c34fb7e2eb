"""SCPs per organization level: an SCP nobody could read is an unknown policy, never dropped."""

from __future__ import annotations

import json
from typing import Any

from sagefence.config import Config
from sagefence.inventory.index import Inventory
from sagefence.inventory.raw import RawResource
from sagefence.policy import Request, evaluate, parse_policy
from sagefence.status import SourceKind
from sagefence.values import ReadError

DEV = "111111111111"
FULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
GUARDRAIL = {"Version": "2012-10-17", "Statement": [{"Sid": "DenyNoVpc", "Effect": "Deny", "Action": "sagemaker:Create*",
                                                     "Resource": "*", "Condition": {"Null": {"sagemaker:VpcSubnets": "true"}}}]}
DENIED = ReadError("organizations.DescribePolicy", "AccessDenied")


def scp(name: str, content: Any, targets: Any) -> RawResource:
    return RawResource("AWS::Organizations::Policy", f"p-{name}", {"Name": name, "Content": content, "TargetIds": targets},
                       SourceKind.ACCOUNT)


def inventory(*scps: RawResource, parents: Any = ("r-root", "ou-ml")) -> Inventory:
    parent_ids = list(parents) if isinstance(parents, tuple) else parents
    account = RawResource("AWS::Organizations::Account", DEV, {"Id": DEV, "ParentIds": parent_ids}, SourceKind.ACCOUNT)
    return Inventory([*scps, account], config=Config(), source=SourceKind.ACCOUNT)


def levels(inv: Inventory) -> list[tuple[str, bool, int]]:
    return [(p.source, p.unknown and p.may_deny, len(p.statements)) for p in inv.scps_for(DEV)]


def test_readable_scps_merge_per_level() -> None:
    inv = inventory(scp("full", json.dumps(FULL), ["r-root", "ou-ml", DEV]), scp("vpc", GUARDRAIL, ["ou-ml"]))
    assert levels(inv) == [("SCPs attached to r-root", False, 1), ("SCPs attached to ou-ml", False, 2),
                           (f"SCPs attached to {DEV}", False, 1)]


def test_unreadable_content_makes_its_level_unknown_keeping_the_readable_statements() -> None:
    for content in (DENIED, "{not json", ["not", "a", "policy"], {"Version": "2012-10-17"}):
        inv = inventory(scp("full", FULL, ["r-root", "ou-ml", DEV]), scp("secret", content, ["ou-ml"]))
        assert levels(inv) == [("SCPs attached to r-root", False, 1), ("SCPs attached to ou-ml", True, 1),
                               (f"SCPs attached to {DEV}", False, 1)], content


def test_unreadable_targets_make_every_level_unknown() -> None:
    inv = inventory(scp("full", FULL, ["r-root", "ou-ml", DEV]),
                    scp("lost", GUARDRAIL, ReadError("organizations.ListTargetsForPolicy", "AccessDenied")))
    assert levels(inv) == [("SCPs attached to r-root", True, 1), ("SCPs attached to ou-ml", True, 1),
                           (f"SCPs attached to {DEV}", True, 1)]


def test_unreadable_parent_chain_adds_an_unknown_level() -> None:
    inv = inventory(scp("full", FULL, ["r-root", DEV]), parents=ReadError("organizations.ListParents", "AccessDenied"))
    assert levels(inv) == [(f"SCPs attached to the parents of {DEV} (not readable)", True, 0),
                           (f"SCPs attached to {DEV}", False, 1)]


def test_other_policy_types_are_not_scps() -> None:
    tag_policy = RawResource("AWS::Organizations::Policy", "p-tags", {"Name": "tags", "Type": "TAG_POLICY",
                                                                      "Content": {"tags": {}}, "TargetIds": ["ou-ml"]},
                             SourceKind.ACCOUNT)
    inv = inventory(scp("full", FULL, ["r-root", "ou-ml", DEV]), tag_policy)
    assert [unknown for _, unknown, _ in levels(inv)] == [False, False, False]


def test_an_unknown_level_decides_nothing_for_certain() -> None:
    identity = parse_policy({"Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}, "identity")
    request = Request(f"arn:aws:iam::{DEV}:role/exec", "sagemaker:CreateNotebookInstance",
                      f"arn:aws:sagemaker:eu-west-1:{DEV}:notebook-instance/x")
    in_vpc = Request(request.principal_arn, request.action, request.resource, {"sagemaker:VpcSubnets": ["subnet-1"]})
    lacking = inventory(scp("full", FULL, ["r-root", DEV]), scp("vpc", GUARDRAIL, ["ou-ml"]), scp("secret", DENIED, ["ou-ml"]))
    result = evaluate(in_vpc, identity=[identity], scps=lacking.scps_for(DEV))
    assert result.denied and result.uncertain  # the readable SCPs of ou-ml lack an allow; the unreadable one may allow
    allowing = inventory(scp("full", FULL, ["r-root", "ou-ml", DEV]), scp("secret", DENIED, ["ou-ml"]))
    result = evaluate(request, identity=[identity], scps=allowing.scps_for(DEV))
    assert result.allowed and result.uncertain  # allowed by what could be read; the unreadable SCP may deny
    result = evaluate(request.retarget("sagemaker:CreateTrainingJob", request.resource), identity=[identity],
                      scps=inventory(scp("full", FULL, ["r-root", "ou-ml", DEV]), scp("vpc", GUARDRAIL, ["ou-ml"]),
                                     scp("secret", DENIED, ["ou-ml"])).scps_for(DEV))
    assert result.explicitly_denied and not result.uncertain  # a readable Deny denies whatever the rest says
