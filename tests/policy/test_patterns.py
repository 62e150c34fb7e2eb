"""Wildcards, ARN segments and policy variables at the matching level."""

from __future__ import annotations

import pytest

from sagefence.policy.patterns import arn_match, glob_match, resolve_text
from sagefence.values import Opaque

CONTEXT = {
    "aws:username": ("alice",),
    "aws:principaltag/teams": ("a", "b"),
    "aws:principalarn": ("arn:aws:iam::1:role/r",),
}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b:c", True),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b", False),
        ("arn:aws:s3:::b*", "arn:aws:s3:::b", True),
        ("arn:aws:s3:::B/*", "arn:aws:s3:::b/x", False),
        ("arn:aws:iam::*:role/x", "arn:aws:iam::111122223333:role/x", True),
        ("arn:aws:iam::*:role/x", "arn:aws:iam::111122223333:role/y/x", False),
        ("arn:aws:*:role/x", "arn:aws:iam::1:role/x", False),
        ("arn:aws:iam::?:root", "arn:aws:iam::1:root", True),
        ("arn:aws:iam::?:root", "arn:aws:iam::12:root", False),
        ("arn:aws:s3:*", "arn:aws:s3:::any/thing", True),
        ("*", "not even an arn", True),
        ("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/x", True),
        ("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/x", False),
        ("arn:aws:s3:::home/${aws:PrincipalTag/teams}/*", "arn:aws:s3:::home/a/x", False),
        ("arn:aws:s3:::home/${aws:missing}/*", "arn:aws:s3:::home//x", False),
        ("arn:aws:s3:::home/${aws:missing, 'none'}/*", "arn:aws:s3:::home/none/x", True),
        ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/?", True),
        ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/x", False),
        ("arn:aws:s3:::b/${$}x", "arn:aws:s3:::b/$x", True),
        ("arn:aws:iam::${aws:PrincipalArn}:root", "arn:aws:iam::1:root", False),
        (Opaque.token("param", "BucketArn"), Opaque.token("param", "BucketArn"), True),
        ("arn:aws:s3:::" + Opaque.token("param", "B:x*") + "/*", "arn:aws:s3:::data/x", False),
        (
            "arn:aws:s3:::" + Opaque.token("param", "B:x*") + "/*",
            "arn:aws:s3:::" + Opaque.token("param", "B:x*") + "/k",
            True,
        ),
        ("arn:aws:s3:::b/${unterminated", "arn:aws:s3:::b/${unterminated", True),
    ],
)
def test_arn_match(pattern: str, value: str, expected: bool) -> None:
    assert arn_match(pattern, value, CONTEXT) is expected


def test_variables_are_literal_without_2012_version() -> None:
    assert arn_match(
        "arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/${aws:username}", CONTEXT, variables=False
    )
    assert not arn_match("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/alice", CONTEXT, variables=False)


def test_glob_and_text_resolution() -> None:
    assert glob_match("${aws:username}/*", "alice/reports", CONTEXT)
    assert not glob_match("${aws:username}/*", "bob/reports", CONTEXT)
    assert glob_match("a?c", "abc", {}) and not glob_match("a?c", "abbc", {})
    assert glob_match("line*", "line1\nline2", {})
    assert resolve_text("user-${aws:username}-*", CONTEXT) == "user-alice-*"
    assert resolve_text("${aws:nothing}", CONTEXT) is None
    assert resolve_text("${*}${?}${$}", {}) == "*?$"


ACTION_PATTERNS = ["s3:GetObject", "S3:getobject", "s3:*", "s3:Get*", "s3:*Object", "s3:Get?bject", "*",
                   "sagemaker:Create*Job", "kms:Decrypt", "iam:PassRole", "s3:", "s3:Put*Tagging", "?3:*",
                   "sagemaker:CreateNotebookInstance", "SAGEMAKER:CREATE*"]
ACTIONS = ["s3:GetObject", "s3:getobject", "S3:PUTOBJECT", "s3:GetObjectTagging", "s3:PutObjectTagging",
           "sagemaker:CreateTrainingJob", "sagemaker:CreateNotebookInstance", "kms:Decrypt", "kms:Encrypt",
           "iam:PassRole", "iam:PassRoles", "s3", "s3:", "ec2:DescribeVpcs"]


@pytest.mark.parametrize("pattern", ACTION_PATTERNS)
def test_action_lists_match_like_one_regex_per_pattern(pattern: str) -> None:
    """The shape-split matcher (exact, prefix, regex) agrees with the plain wildcard regex."""
    import re

    from sagefence.policy.patterns import any_action_matches

    regex = re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), re.IGNORECASE | re.DOTALL)
    for action in ACTIONS:
        assert any_action_matches((pattern,), action) is (regex.fullmatch(action) is not None), (pattern, action)
    for action in ACTIONS:
        together = any_action_matches(tuple(ACTION_PATTERNS[:3]) + (pattern,), action)
        alone = [any_action_matches((p,), action) for p in (*ACTION_PATTERNS[:3], pattern)]
        assert together is any(alone)


ARN_PATTERNS = ["arn:aws:s3:::b", "arn:aws:s3:::b/*", "arn:aws:s3:::b*", "arn:aws:s3:*", "*", "", "arn:aws",
                "arn:aws:kms:*:111122223333:key/*", "arn:aws:iam::?:root", "arn:aws:s3:::b/?x", "arn:aws:s3:::a:b",
                "arn:aws:iam::*:role/x", "arn:aws:s3:::b/*/x", "arn:aws:s3:::*", "arn:aws:s3:::b/${*}",
                "arn:aws:s3:::b/${?}", "arn:*"]
ARNS = ["arn:aws:s3:::b", "arn:aws:s3:::b/", "arn:aws:s3:::b/k", "arn:aws:s3:::b/a/b:c", "arn:aws:s3:::bb",
        "arn:aws:s3:::a:b", "arn:aws:s3:::a:bc", "arn:aws:kms:eu-west-1:111122223333:key/k1",
        "arn:aws:kms:eu-west-1:444455556666:key/k1", "arn:aws:iam::1:root", "arn:aws:iam::12:root",
        "arn:aws:iam::111122223333:role/x", "arn:aws:iam::111122223333:role/y/x", "arn:aws:s3:::b/zx",
        "arn:aws:s3:::b/*", "arn:aws:s3:::b/?", "arn:aws", "arn:aws:", "", "not an arn", "arn:aws:s3:::b/q/x"]


def _segment_wise(pattern: str, value: str) -> bool:
    """IAM's rule written out: six colon-separated segments, each matched on its own, the
    pattern's last segment against the rest of the value (its wildcards cross colons)."""
    import re

    literal = pattern.replace("${*}", "\0").replace("${?}", "\1")
    parts = literal.split(":", 5)
    values = value.split(":", len(parts) - 1)
    if len(values) != len(parts):
        return False
    for part, piece in zip(parts, values, strict=True):
        source = re.escape(part).replace(r"\*", ".*").replace(r"\?", ".").replace("\0", r"\*").replace("\1", r"\?")
        if not re.fullmatch(source, piece, re.DOTALL):
            return False
    return True


@pytest.mark.parametrize("pattern", ARN_PATTERNS)
def test_arn_lists_match_segment_by_segment(pattern: str) -> None:
    """The shape-split ARN matcher (exact, prefix, regex) agrees with segment-wise matching."""
    from sagefence.policy.patterns import any_arn_matches

    for value in ARNS:
        assert any_arn_matches((pattern,), value, {}) is _segment_wise(pattern, value), (pattern, value)
    for value in ARNS:
        together = any_arn_matches((*ARN_PATTERNS[:2], pattern), value, {})
        assert together is any(_segment_wise(p, value) for p in (*ARN_PATTERNS[:2], pattern)), (pattern, value)


def test_a_bucket_policys_resources_need_no_regex() -> None:
    """Each bucket's policy names its own ARNs: a regex compiled per list was a third of a live
    scan's evaluation. Literal ARNs and ``prefix*`` are compared as text."""
    from sagefence.policy.patterns import _static_arns_matcher

    matcher = _static_arns_matcher(("arn:aws:s3:::data-1", "arn:aws:s3:::data-1/*", "*"), True)
    assert matcher is not None and matcher.regex is None
    assert matcher.exact == {"arn:aws:s3:::data-1"} and matcher.prefixes == ("arn:aws:s3:::data-1/", "")
    inner = _static_arns_matcher(("arn:aws:kms:*:111122223333:key/*",), True)
    assert inner is not None and inner.regex is not None
    assert _static_arns_matcher(("arn:aws:s3:::home/${aws:username}/*",), True) is None


ACCOUNT = Opaque.token("Ref", "AccountParam")
EXPORTED = Opaque.token("ImportValue", "network:KeyAccount")


@pytest.mark.parametrize(("pattern", "value", "expected"), [
    # an unknown account is one ARN part: it equals itself, and a wildcard part covers it
    (f"arn:aws:kms:*:{ACCOUNT}:key/*", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1", True),
    (f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1", True),
    ("arn:aws:kms:*:*:key/*", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1", True),
    ("arn:aws:sagemaker:*:*:notebook-instance/*", f"arn:aws:sagemaker:eu-west-1:{EXPORTED}:notebook-instance/n", True),
    # but is different from every other value, unknown or not
    (f"arn:aws:kms:*:{ACCOUNT}:key/*", "arn:aws:kms:us-east-1:123456789012:key/k1", False),
    (f"arn:aws:kms:*:{ACCOUNT}:key/*", f"arn:aws:kms:us-east-1:{EXPORTED}:key/k1", False),
    ("arn:aws:kms:*:123456789012:key/*", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1", False),
])
def test_an_unknown_arn_part_is_one_part(pattern: str, value: str, expected: bool) -> None:
    assert arn_match(pattern, value, {}) is expected


def test_tokens_hold_no_colon() -> None:
    assert ":" not in ACCOUNT and ":" not in EXPORTED and "network" in EXPORTED
