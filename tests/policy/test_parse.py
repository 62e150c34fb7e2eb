"""Parsing: malformed shapes, string-or-list, operator splitting, opaque values."""

from __future__ import annotations

import json

import pytest

from sagefence.policy import PolicyError, parse_policy
from sagefence.policy.parse import split_operator
from sagefence.values import Opaque


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


OK = {"Sid": "Fine", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


@pytest.mark.parametrize(
    ("document", "kind", "fragment"),
    [
        ("{not json", "identity", "not valid JSON"),
        ("[1, 2]", "identity", "must be a JSON object"),
        ({"Version": "2012-10-17"}, "identity", "no Statement"),
        ({"Statement": "Allow"}, "identity", "Statement must be"),
        (_doc(OK, "not an object"), "identity", "statement 2 of"),
        (_doc({"Sid": "NoEffect", "Action": "s3:*", "Resource": "*"}), "identity", 'Sid "NoEffect"'),
        (_doc({"Sid": "Bad", "Effect": "allow", "Action": "s3:*", "Resource": "*"}), "identity", "Effect must be"),
        (_doc({"Sid": "Both", "Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}), "identity", "Action and NotAction"),
        (_doc({"Sid": "Neither", "Effect": "Allow", "Resource": "*"}), "identity", "Action or NotAction"),
        (_doc({"Sid": "NoRes", "Effect": "Allow", "Action": "s3:*"}), "identity", "Resource or NotResource"),
        (_doc({"Sid": "BothRes", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"}), "identity", "Resource and NotResource"),
        (_doc({"Sid": "Op", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqualz": {"a": "b"}}}), "identity", "unknown condition operator 'StringEqualz'"),
        (_doc({"Sid": "Op", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"NullIfExists": {"a": "true"}}}), "identity", "unknown condition operator"),
        (_doc({"Sid": "Op", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"ForSomeValues:StringEquals": {"a": "b"}}}), "identity", "unknown condition operator"),
        (_doc({"Sid": "Op", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": "a"}}), "identity", "must map condition keys"),
        (_doc({"Sid": "Op", "Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"a": {"b": "c"}}}}), "identity", "unsupported type dict"),
        (_doc({"Sid": "Act", "Effect": "Allow", "Action": ["s3:*", 5], "Resource": "*"}), "identity", "Action must hold strings"),
        (_doc({"Sid": "P", "Effect": "Allow", "Principal": ["*"], "Action": "s3:*", "Resource": "*"}), "resource", 'Sid "P"'),
        (_doc({"Sid": "P", "Effect": "Allow", "Principal": "arn:aws:iam::111122223333:root", "Action": "s3:*", "Resource": "*"}), "resource", "Principal must be"),
        (_doc({"Sid": "P", "Effect": "Allow", "Principal": {"IAM": "x"}, "Action": "s3:*", "Resource": "*"}), "resource", "unknown key 'IAM'"),
        (_doc({"Sid": "P", "Effect": "Allow", "Principal": {"AWS": True}, "Action": "s3:*", "Resource": "*"}), "resource", "must hold strings"),
        (_doc({"Sid": "P", "Effect": "Allow", "Principal": {"AWS": [{"x": 1}]}, "Action": "s3:*", "Resource": "*"}), "resource", "must hold strings"),
        (_doc({"Sid": "P", "Effect": "Allow", "Principal": {}, "Action": "s3:*", "Resource": "*"}), "resource", "Principal must be"),
        (_doc({"Sid": "NP", "Effect": "Allow", "NotPrincipal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}), "resource", "NotPrincipal can only be used with Effect Deny"),
        (_doc({"Sid": "NP", "Effect": "Deny", "NotPrincipal": {"AWS": "*"}, "Principal": "*", "Action": "s3:*", "Resource": "*"}), "resource", "cannot both"),
        (_doc({"Sid": "NP", "Effect": "Deny", "NotPrincipal": {"AWS": "1"}, "Action": "sts:AssumeRole"}), "trust", "not allowed in a trust policy"),
        (_doc({"Sid": "Who", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}), "resource", "Principal is required"),
        (_doc({"Sid": "Id", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}), "identity", "not allowed in a identity policy"),
    ],
)  # fmt: skip
def test_malformed_policies_name_the_problem(document: object, kind: str, fragment: str) -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(document, "test policy", kind)
    assert fragment in str(error.value)
    assert "test policy" in str(error.value)


def test_errors_name_the_statement_by_sid_or_index() -> None:
    bad = {"Effect": "Allow", "Action": "s3:*"}
    with pytest.raises(PolicyError, match=r"statement 2 of p: one of Resource"):
        parse_policy(_doc(OK, bad), "p")
    with pytest.raises(PolicyError, match=r'Sid "X" \(statement 1\) of p'):
        parse_policy(_doc({**bad, "Sid": "X"}), "p")


def test_strings_become_tuples_and_json_strings_parse() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "One",
            "Effect": "Deny",
            "Principal": {"AWS": "111122223333", "Service": ["a.amazonaws.com", "b.amazonaws.com"]},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"StringNotEquals": {"AWS:SourceVpce": "vpce-1"}},
        },
    }
    for source in (document, json.dumps(document), json.dumps(document).encode()):
        policy = parse_policy(source, "bucket policy of B", "resource")
        (statement,) = policy.statements
        assert statement.actions == ("s3:GetObject",)
        assert statement.resources == ("arn:aws:s3:::b/*",)
        assert statement.principal is not None
        assert statement.principal.entries == (
            ("AWS", "111122223333"),
            ("Service", "a.amazonaws.com"),
            ("Service", "b.amazonaws.com"),
        )
        (condition,) = statement.conditions
        assert (condition.key, condition.values, condition.negated) == ("aws:sourcevpce", ("vpce-1",), True)
        assert policy.version == "2012-10-17" and policy.kind == "resource"


def test_yaml_scalars_become_iam_strings() -> None:
    policy = parse_policy(
        _doc(
            {
                **OK,
                "Condition": {"Null": {"k": True}, "Bool": {"b": False}, "NumericLessThan": {"n": [5, 2.5]}},
            }
        ),
        "p",
    )
    assert [c.values for c in policy.statements[0].conditions] == [("true",), ("false",), ("5", "2.5")]


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", ("StringEquals", False, False, None)),
        ("StringNotEqualsIfExists", ("StringEquals", True, True, None)),
        ("ForAnyValue:StringNotLike", ("StringLike", True, False, "ForAnyValue")),
        (
            "ForAllValues:StringEqualsIgnoreCaseIfExists",
            ("StringEqualsIgnoreCase", False, True, "ForAllValues"),
        ),
        ("NotIpAddress", ("IpAddress", True, False, None)),
        ("ArnNotLikeIfExists", ("ArnLike", True, True, None)),
        ("NumericLessThanEquals", ("NumericLessThanEquals", False, False, None)),
        ("DateNotEquals", ("DateEquals", True, False, None)),
        ("BoolIfExists", ("Bool", False, True, None)),
        ("Null", ("Null", False, False, None)),
        ("stringnotequals", ("StringEquals", True, False, None)),
    ],
)
def test_operator_split(operator: str, expected: tuple) -> None:
    assert split_operator(operator) == expected


def test_opaque_values_survive_parsing() -> None:
    vpce, account, bucket = (
        Opaque.token("param", "Vpce"),
        Opaque.token("param", "Acct"),
        Opaque.token("ref", "B"),
    )
    policy = parse_policy(
        _doc(
            {
                "Effect": "Deny",
                "Principal": {"AWS": account},
                "Action": "s3:*",
                "Resource": [bucket],
                "Condition": {"StringNotEquals": {"aws:SourceVpce": [vpce]}},
            }
        ),
        "p",
        "resource",
    )
    statement = policy.statements[0]
    assert isinstance(statement.conditions[0].values[0], Opaque)
    assert statement.conditions[0].values == (vpce,)
    assert isinstance(statement.resources[0], Opaque)
    assert statement.principal.entries == (("AWS", account),)
    assert isinstance(statement.principal.entries[0][1], Opaque)


def test_trust_policy_needs_no_resource_and_endpoint_defaults_to_everyone() -> None:
    trust = parse_policy(
        _doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
        "t",
        "trust",
    )
    assert trust.statements[0].resources is None
    endpoint = parse_policy(_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}), "e", "endpoint")
    assert endpoint.statements[0].principal is not None and endpoint.statements[0].principal.everyone


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown policy kind"):
        parse_policy(_doc(OK), "p", "bucket")


def test_version_controls_variables() -> None:
    assert parse_policy(_doc(OK), "p").statements[0].variables
    assert not parse_policy({"Statement": [OK]}, "p").statements[0].variables
    assert not parse_policy({"Version": "2008-10-17", "Statement": [OK]}, "p").statements[0].variables


def test_unquoted_account_id_in_principal_reads_as_the_id() -> None:
    """A YAML template's unquoted account id arrives as an int; CloudFormation sends its digits."""
    from sagefence.policy import parse_policy

    policy = parse_policy({"Statement": [{"Effect": "Allow", "Principal": {"AWS": [111122223333, 12]},
                                          "Action": "kms:Decrypt", "Resource": "*"}]}, "key policy", "resource")
    assert policy.statements[0].principal.entries == (("AWS", "111122223333"), ("AWS", "000000000012"))
