"""SM-001's probe resources stay in the role's own account and the action's resource type (rules.md v2 §3)."""

from __future__ import annotations

import pytest

from sagefence.checks.probes import arn_segments, witness_resources
from sagefence.policy import parse_policy
from sagefence.values import Opaque

OWN = "111122223333"
DEFAULT = f"arn:aws:sagemaker:us-east-1:{OWN}:notebook-instance/sagefence-probe"


def _witnesses(pattern: str, default: str = DEFAULT) -> list[str]:
    policy = parse_policy({"Statement": [{"Effect": "Allow", "Action": "sagemaker:Create*", "Resource": pattern}]},
                          "test policy")
    return witness_resources([policy], "sagemaker:CreateNotebookInstance", default)[1:]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("arn:aws:sagemaker:*:*:*", []),
    ("arn:aws:sagemaker:*:*:flow-definition/*", []),
    ("arn:aws:sagemaker:*:444455556666:*", []),
    ("arn:aws-cn:sagemaker:*:*:*", []),
    ("arn:aws:s3:::*", []),
    ("arn:aws:sagemaker:us-west-2:*:notebook-instance/team-*",
     [f"arn:aws:sagemaker:us-west-2:{OWN}:notebook-instance/team-sagefence"]),
    ("arn:aws:sagemaker:*:*:*/team-*", [f"arn:aws:sagemaker:us-east-1:{OWN}:notebook-instance/team-sagefence"]),
    ("arn:aws:sagemaker:eu-*", [f"arn:aws:sagemaker:eu-sagefence:{OWN}:notebook-instance/sagefence-probe"]),
])
def test_witnesses_keep_the_default_account_and_resource_type(pattern: str, expected: list[str]) -> None:
    assert _witnesses(pattern) == expected


def test_witnesses_keep_an_opaque_account_as_its_own_text() -> None:
    account = Opaque.token("Ref", "Acct")
    default = f"arn:aws:sagemaker:us-east-1:{account}:training-job/sagefence-probe"
    assert _witnesses(f"arn:aws:sagemaker:us-west-2:{account}:training-job/*", default) == \
        [f"arn:aws:sagemaker:us-west-2:{account}:training-job/sagefence-probe"]
    assert _witnesses(f"arn:aws:sagemaker:us-west-2:{OWN}:training-job/*", default) == []


def test_arn_segments_do_not_split_inside_a_token() -> None:
    account = Opaque.token("Ref", "Acct")
    assert arn_segments(f"arn:aws:iam::{account}:role/a:b") == ["arn", "aws", "iam", "", account, "role/a:b"]
