"""The helpers rule authors use, the request model, and the start-up budget."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from sagefence.policy import (
    Decision,
    Evaluation,
    NamedPrincipal,
    PolicyError,
    Request,
    StatementRef,
    action_matches,
    condition_values,
    evaluate,
    expand_action,
    is_known_action,
    named_principals,
    parse_policy,
    principal_matches,
    unknown_policy,
)
from sagefence.values import Opaque

PROBE = "arn:aws:iam::111122223333:role/sagefence-probe"
BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyNoVPC",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {
                "StringNotEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"], "aws:SourceVpc": "vpc-1"},
            },
        },
        {
            "Sid": "Partner",
            "Effect": "Allow",
            "Principal": {"AWS": ["444455556666", "arn:aws:iam::111122223333:role/app"]},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"StringEquals": {"AWS:SOURCEVPCE": "vpce-2"}},
        },
        {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"},
        {
            "Sid": "Admin",
            "Effect": "Allow",
            "Principal": {
                "AWS": Opaque.token("param", "AdminAccountId"),
                "Service": "sagemaker.amazonaws.com",
            },
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::b/*",
        },
    ],
}


@pytest.fixture(scope="module")
def bucket_policy():
    return parse_policy(BUCKET_POLICY, "bucket policy of DataBucket", "resource")


def test_condition_values_in_order_case_insensitive(bucket_policy) -> None:
    assert condition_values(bucket_policy, "aws:sourcevpce") == ["vpce-1", "vpce-2"]
    assert condition_values(bucket_policy, "AWS:SourceVpc") == ["vpc-1"]
    assert condition_values(bucket_policy, "aws:PrincipalOrgID") == []


def test_named_principals(bucket_policy) -> None:
    named = named_principals(bucket_policy)
    assert [(n.kind, n.value, n.conditional, n.account, n.opaque) for n in named] == [
        ("AWS", "444455556666", True, "444455556666", False),
        ("AWS", "arn:aws:iam::111122223333:role/app", True, "111122223333", False),
        ("*", "*", False, None, False),
        ("AWS", Opaque.token("param", "AdminAccountId"), False, None, True),
        ("Service", "sagemaker.amazonaws.com", False, None, False),
    ]
    assert all(isinstance(n, NamedPrincipal) for n in named)
    assert named[0].statement.sid == "Partner"


def test_principal_matches(bucket_policy) -> None:
    deny, partner, public, admin = bucket_policy.statements
    assert principal_matches(deny, PROBE)
    assert principal_matches(partner, "arn:aws:iam::444455556666:user/x")
    assert principal_matches(partner, "arn:aws:sts::111122223333:assumed-role/app/s")
    assert not principal_matches(partner, PROBE)
    assert principal_matches(admin, "sagemaker.amazonaws.com")
    assert not principal_matches(admin, "arn:aws:iam::999988887777:root")
    assert principal_matches(public, "ec2.amazonaws.com")


def test_identity_statements_apply_to_their_holder() -> None:
    policy = parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "p")
    assert principal_matches(policy.statements[0], PROBE)


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject", "S3:GETOBJECT", True),
        ("s3:Get*", "s3:GetObjectAcl", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:*", "s3express:CreateSession", False),
        ("*", "anything:AtAll", True),
        ("kms:ReEncrypt", "kms:ReEncryptFrom", False),
        ("s3:Get[Object]", "s3:GetO", False),
        (Opaque.token("param", "Action"), "s3:GetObject", False),
    ],
)
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_action_catalogue_is_lazy_and_knows_real_actions() -> None:
    assert expand_action("kms:ReEncrypt*") == ("kms:reencryptfrom", "kms:reencryptto")
    assert expand_action("kms:ReEncrypt") == ()
    assert is_known_action("sagemaker:CreateTrainingJob")
    assert not is_known_action("s3:HeadObject")


def test_request_context_is_case_insensitive_and_multi_valued() -> None:
    request = Request(
        PROBE, "s3:GetObject", "arn:aws:s3:::b/k", {"AWS:SourceVpce": "v", "sagemaker:VpcSubnets": ["a", "b"]}
    )
    assert request.values("aws:sourcevpce") == ("v",)
    assert request.values("SAGEMAKER:VPCSUBNETS") == ("a", "b")
    assert request.values("aws:SourceVpc") == ()
    assert request.principal_account == "111122223333"
    assert request.principal_type == "AWS"
    assert dataclasses.is_dataclass(request)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.action = "s3:PutObject"  # type: ignore[misc]
    assert request == Request(
        PROBE, "s3:GetObject", "arn:aws:s3:::b/k", {"aws:sourcevpce": "v", "sagemaker:vpcsubnets": ("a", "b")}
    )
    hash(request)
    assert Request(PROBE, "a:b", "*", {"aws:SourceVpce": None, "k": [], "n": 5, "b": True}).context == {
        "n": ("5",),
        "b": ("true",),
    }
    changed = request.with_context({"aws:SourceVpce": None, "aws:SourceIp": "203.0.113.10"})
    assert changed.values("aws:SourceVpce") == () and changed.values("aws:sourceip") == ("203.0.113.10",)


@pytest.mark.parametrize(
    ("principal", "account", "kind"),
    [
        ("arn:aws:sts::111122223333:assumed-role/r/s", "111122223333", "AWS"),
        ("arn:aws:iam::111122223333:root", "111122223333", "AWS"),
        ("111122223333", "111122223333", "AWS"),
        ("sagemaker.amazonaws.com", None, "Service"),
        ("arn:aws:iam::111122223333:saml-provider/Okta", "111122223333", "Federated"),
        ("cognito-identity.amazonaws.com", None, "Federated"),
        ("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", None, "CanonicalUser"),
    ],
)
def test_principal_derivation(principal: str, account: str | None, kind: str) -> None:
    request = Request(principal, "sts:AssumeRole", "*")
    assert (request.principal_account, request.principal_type) == (account, kind)


@pytest.mark.parametrize(
    "token", [Opaque.token("param", "AdminAccountId"), Opaque.token("getatt", "Custom.Arn")]
)
def test_an_opaque_principal_matches_its_own_token(bucket_policy, token: str) -> None:
    policy = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": token}, "Action": "kms:Decrypt", "Resource": "*"}
            ]
        },
        "key policy",
        "resource",
    )
    assert Request(token, "kms:Decrypt", "*").principal_type == "AWS"
    assert principal_matches(policy.statements[0], token)
    assert evaluate(Request(token, "kms:Decrypt", "k"), resource=policy).allowed
    assert not evaluate(Request(PROBE, "kms:Decrypt", "k"), resource=policy).allowed


def test_explicit_principal_fields_win() -> None:
    request = Request("custom", "a:b", "*", principal_account="111122223333", principal_type="AWS")
    assert (request.principal_account, request.principal_type) == ("111122223333", "AWS")


def test_evaluation_labels_and_flags(bucket_policy) -> None:
    request = Request(PROBE, "s3:GetObject", "arn:aws:s3:::b/k", {"aws:SourceIp": "203.0.113.10"})
    result = evaluate(request, resource=bucket_policy)
    assert result.decision is Decision.EXPLICIT_DENY and result.explicitly_denied and not result.allowed
    (ref,) = result.deciding
    assert ref == StatementRef("bucket policy of DataBucket", "DenyNoVPC", 0)
    assert ref.label == 'Sid "DenyNoVPC" (statement 1) of bucket policy of DataBucket'
    assert "explicitly denied by" in result.describe()
    listing = evaluate(
        Request(
            PROBE, "s3:ListBucket", "arn:aws:s3:::b", {"aws:SourceVpce": "vpce-1", "aws:SourceVpc": "vpc-1"}
        ),
        resource=bucket_policy,
    )
    assert listing.allowed and listing.deciding[0].label == "Statement 3 of bucket policy of DataBucket"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.decision = Decision.ALLOW  # type: ignore[misc]


def test_unknown_policy_only_makes_implicit_denies_uncertain() -> None:
    request = Request(PROBE, "sagemaker:CreateModel", "*")
    assert evaluate(request, identity=[unknown_policy("AWS managed policy X")]) == Evaluation(
        Decision.IMPLICIT_DENY, (), True
    )
    assert evaluate(request) == Evaluation(Decision.IMPLICIT_DENY, (), False)


def test_garbage_never_crashes() -> None:
    """Odd values in policies and contexts give answers or a PolicyError, not other exceptions."""
    weird = [
        "",
        "*",
        "?",
        "${",
        "${}",
        "${aws:x",
        "⟨",
        "⟩",
        ":::::::",
        "arn:",
        "\x00",
        "ünï",
        "1e999",
        "NaN",
        "-0",
        "::/0",
    ]
    operators = [
        "StringEquals", "StringLike", "StringEqualsIgnoreCase", "NumericLessThan", "DateGreaterThan", "Bool",
        "IpAddress", "NotIpAddress", "ArnLike", "ArnNotEquals", "BinaryEquals", "Null", "ForAllValues:StringNotLike",
    ]  # fmt: skip
    documents = [
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {operator: {"k": value}}}
        for operator in operators
        for value in weird
    ] + [{"Effect": "Deny", "Action": value, "Resource": value} for value in weird]
    for statement in documents:
        try:
            policy = parse_policy({"Version": "2012-10-17", "Statement": [statement]}, "fuzz")
        except PolicyError:
            continue  # IAM would reject it: an error finding, never an answer
        for value in weird:
            for resource in (value, "arn:aws:s3:::b"):
                result = evaluate(Request(PROBE, value or "s3:x", resource, {"k": value}), identity=[policy])
                assert result.decision in Decision


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, sagefence.policy as p\n"
        "heavy = [m for m in ('policyuniverse', 'boto3', 'botocore', 'moto') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "p.evaluate(p.Request('arn:aws:iam::1:role/r', 's3:GetObject', '*'), identity=[p.parse_policy("
        "{'Statement': [{'Effect': 'Allow', 'Action': 's3:*', 'Resource': '*'}]}, 'x')])\n"
        "assert 'policyuniverse' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_resource_required_overrides_the_kind() -> None:
    """A caller can make any resource policy authoritative, or a trust policy not."""
    bucket = parse_policy({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "444455556666"},
                                          "Action": "s3:GetObject", "Resource": "*"}]}, "bucket policy", "resource")
    trust = parse_policy({"Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                         "Action": "sts:AssumeRole"}]}, "trust policy", "trust")
    identity = parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "identity")
    get = Request(PROBE, "s3:GetObject", "arn:aws:s3:::b/k")
    assume = Request(PROBE, "sts:AssumeRole", "arn:aws:iam::111122223333:role/r")
    assert evaluate(get, identity=[identity], resource=bucket).allowed
    assert evaluate(get, identity=[identity], resource=bucket, resource_required=True).denied
    assert evaluate(assume, identity=[identity], resource=trust).denied
    assert evaluate(assume, identity=[identity], resource=trust, resource_required=False).allowed
    assert evaluate(assume, identity=[identity], resource_required=True).denied
