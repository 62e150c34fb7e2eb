"""Wildcard matching that no pattern can stall (rules.md v2 §6), and that agrees with the regex form."""

from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest

from sagefence.policy.patterns import ArnWildcard, _arn_segments, _regex, _resolved_arn_regex, tokenize
from sagefence.policy.wildcard import Wildcard, compile_items, matches


def _reference(pattern: str, value: str) -> bool:
    source = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(source, value, re.DOTALL) is not None


def test_agrees_with_a_regular_expression_on_random_patterns() -> None:
    rng = random.Random(19)
    for _ in range(4000):
        pattern = "".join(rng.choice("ab*?:") for _ in range(rng.randint(0, 8)))
        value = "".join(rng.choice("ab:") for _ in range(rng.randint(0, 10)))
        assert matches(compile_items(tokenize(pattern, False), False), value) is _reference(pattern, value), (
            pattern, value)


@pytest.mark.parametrize(("pattern", "value", "expected"), [
    ("s3:*Object*", "s3:GetObjectAcl", True),
    ("S3:get*ACL*", "s3:GetObjectAcl", True),  # actions ignore case
    ("s3:*a*b", "s3:GetObjectAcl", False),
    ("*?*?*?*?*?*?*?*?*?*?*?*?Z", "s3:" + "A" * 60 + "Z", True),
    ("*?*?*?*?*?*?*?*?*?*?*?*?Z", "s3:" + "A" * 60, False),
])
def test_risky_action_patterns_match_without_a_regex(pattern: str, value: str, expected: bool) -> None:
    matcher = _regex(tokenize(pattern, False), True)
    assert isinstance(matcher, Wildcard)
    assert bool(matcher.fullmatch(value)) is expected


def test_risky_arn_patterns_keep_wildcards_inside_their_segment() -> None:
    matcher = _resolved_arn_regex(_arn_segments("arn:aws:s3:::*data*/*", True))
    assert isinstance(matcher, ArnWildcard)
    assert matcher.fullmatch("arn:aws:s3:::ml-data-raw/a/b:c")  # the last segment takes the rest, colons too
    assert not matcher.fullmatch("arn:aws:s3:::ml-raw/x")
    inner = _resolved_arn_regex(_arn_segments("arn:aws:*a*b*:us-east-1:*:key/*", True))
    assert isinstance(inner, ArnWildcard)
    assert inner.fullmatch("arn:aws:kab:us-east-1:1:key/k") and not inner.fullmatch("arn:aws:k:ab:us-east-1:1:key/k")


HOSTILE = """
from sagefence.policy import Request, evaluate, parse_policy
p = "*?*?*?*?*?*?*?*?*?*?*?*?Z"
policy = parse_policy({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Principal": "*", "Action": "s3:" + p, "Resource": "arn:aws:s3:::" + "*a" * 30 + "b",
     "Condition": {"StringLike": {"aws:SourceVpce": p, "aws:userid": "*a*a*a*a*a*a*a*a*a*a*a*a*b"}}}]},
    "hostile", "resource")
request = Request("arn:aws:iam::123456789012:role/r", "s3:GetObject" + "A" * 40 + "Z", "arn:aws:s3:::" + "a" * 4000,
                  {"aws:sourcevpce": ("vpce-" + "0a" * 40,), "aws:userid": ("a" * 4000,)})
print(evaluate(request, resource=policy).decision.value)
"""


def test_a_hostile_policy_is_evaluated_not_stalled() -> None:
    # Before the wildcard matcher each of these patterns took minutes; the bound is generous on purpose.
    proc = subprocess.run([sys.executable, "-c", HOSTILE], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "implicit_deny", proc.stderr[-2000:]
