"""Property-based tests: whatever a template or a policy holds, the parser, the intrinsics and the
evaluator answer or refuse with their own error, and a scan reports an error, never a traceback.

CI runs a bounded number of examples per test (``SAGEFENCE_FUZZ_EXAMPLES``, default 300); for a
longer local run: ``SAGEFENCE_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagefence.policy import PolicyError, Request, evaluate, parse_policy
from sagefence.sources.cfn_yaml import TemplateReadError, parse_text
from sagefence.sources.intrinsics import IntrinsicError, Resolver
from tests.conftest import scan

EXAMPLES = int(os.environ.get("SAGEFENCE_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

FUNCTIONS = ["Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::If", "Fn::FindInMap",
             "Fn::ImportValue", "Fn::Not", "Fn::Equals", "Fn::Base64", "Fn::Cidr", "Fn::GetAZs", "Fn::Length",
             "Condition", "Fn::ToJsonString"]
NAMES = st.sampled_from(["Bucket", "Role", "Key", "P", "AWS::StackId", "AWS::Region", "AWS::NoValue", "Missing", "C"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.text(max_size=12), NAMES,
                    st.sampled_from(["*", "s3:*", "arn:aws:s3:::b/*", "${P}", "${Bucket.Arn}", "10.0.0.0/33", "-", "/"]))


def _values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FUNCTIONS), st.text(max_size=6)), inner, max_size=3),
        st.builds(lambda f, a: {f: a}, st.sampled_from(FUNCTIONS), inner),
        st.builds(lambda f, a: {f: a}, st.sampled_from(FUNCTIONS), st.lists(inner, min_size=1, max_size=3)),
    ), max_leaves=12)


VALUES = _values(SCALARS)
TEMPLATE = st.fixed_dictionaries({
    "Parameters": st.fixed_dictionaries({"P": st.fixed_dictionaries({"Type": st.just("String")},
                                                                     optional={"Default": SCALARS})}),
    "Conditions": st.fixed_dictionaries({"C": VALUES}),
    "Resources": st.fixed_dictionaries({
        "Bucket": st.fixed_dictionaries({"Type": st.just("AWS::S3::Bucket"), "Properties": VALUES}),
        "Role": st.fixed_dictionaries({"Type": st.sampled_from(["AWS::IAM::Role", "AWS::SNS::Topic"]),
                                       "Properties": VALUES}),
        "Key": st.fixed_dictionaries({"Type": st.one_of(st.just("AWS::KMS::Key"), VALUES), "Properties": VALUES}),
    }),
})


@FUZZ
@given(st.text(max_size=300))
def test_any_text_parses_or_is_refused(text: str) -> None:
    with contextlib.suppress(TemplateReadError):
        parse_text(text)


@FUZZ
@given(TEMPLATE, VALUES)
def test_intrinsics_resolve_or_are_refused(template: dict[str, Any], value: Any) -> None:
    resolver = Resolver(template, account_id="123456789012", region="us-east-1", conditions={"C": True}, exports={})
    with contextlib.suppress(IntrinsicError):
        resolver.resolve(value)


STATEMENT = st.fixed_dictionaries(
    {"Effect": st.sampled_from(["Allow", "Deny", "allow", 1])},
    optional={"Action": st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
              "NotAction": st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
              "Resource": st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
              "Principal": st.one_of(st.just("*"), st.dictionaries(st.sampled_from(["AWS", "Service"]), SCALARS)),
              "Condition": st.dictionaries(
                  st.sampled_from(["StringLike", "ForAnyValue:StringNotEquals", "IpAddress", "NotIpAddress",
                                   "Null", "DateLessThan", "ArnLike", "BoolIfExists", "NumericEquals", "Bogus"]),
                  st.dictionaries(st.sampled_from(["aws:SourceVpce", "aws:SourceIp", "aws:PrincipalArn"]),
                                  st.one_of(SCALARS, st.lists(SCALARS, max_size=3)), max_size=2), max_size=2)})


@FUZZ
@given(st.lists(STATEMENT, max_size=4), st.sampled_from(["resource", "identity", "trust", "endpoint", "scp"]))
def test_policies_evaluate_or_are_refused(statements: list[dict[str, Any]], kind: str) -> None:
    try:
        policy = parse_policy({"Version": "2012-10-17", "Statement": statements}, "fuzzed", kind)
    except PolicyError:
        return
    request = Request("arn:aws:iam::123456789012:role/r", "s3:GetObject", "arn:aws:s3:::b/k",
                      {"aws:sourcevpce": ("vpce-1",), "aws:sourceip": ("203.0.113.10",)})
    as_resource = kind in ("resource", "trust", "endpoint")
    evaluate(request, resource=policy if as_resource else None, identity=() if as_resource else (policy,))


@FUZZ
@given(TEMPLATE)
def test_a_scan_reports_errors_never_a_traceback(tmp_path_factory: Any, template: dict[str, Any]) -> None:
    path = Path(tmp_path_factory.mktemp("fuzz")) / "t.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    doc = scan([path])
    assert doc.findings or doc.errors
