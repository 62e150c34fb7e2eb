"""JMESPath assert rules: unknown inputs never pass, failed reads are errors."""

from __future__ import annotations

import jmespath
import pytest

from sagefence.assertions import evaluate_assert
from sagefence.status import Status
from sagefence.values import Malformed, Missing, Opaque, ReadError

TOKEN = Opaque.token("Ref", "AccessParam")
DENIED = ReadError("s3.GetBucketTagging", "AccessDenied")


def status(expression: str, properties: dict) -> Status:
    return evaluate_assert(jmespath.compile(expression), properties).status


@pytest.mark.parametrize(("expression", "properties", "expected"), [
    # known inputs: the expression's own truth
    ("DirectInternetAccess == 'Disabled'", {"DirectInternetAccess": "Disabled"}, Status.PASS),
    ("DirectInternetAccess == 'Disabled'", {"DirectInternetAccess": "Enabled"}, Status.FAIL),
    ("DirectInternetAccess == 'Disabled'", {}, Status.FAIL),
    # an unknown the answer depends on: unknown, never pass
    ("DirectInternetAccess == 'Disabled'", {"DirectInternetAccess": TOKEN}, Status.UNKNOWN),
    ("DirectInternetAccess != 'Enabled'", {"DirectInternetAccess": TOKEN}, Status.UNKNOWN),
    ("PlatformIdentifier", {"PlatformIdentifier": Missing("PlatformIdentifier")}, Status.UNKNOWN),
    ("contains(SecurityGroupIds, 'sg-1')", {"SecurityGroupIds": ["sg-2", TOKEN]}, Status.UNKNOWN),
    ("length(Tags[?Key=='owner']) > `0`", {"Tags": [{"Key": TOKEN, "Value": "x"}]}, Status.UNKNOWN),
    ("length(Tags[?Key=='owner']) > `0`", {"Tags": DENIED}, Status.ERROR),
    ("KmsKeyId != null", {"KmsKeyId": Malformed("KmsKeyId", "a list where CloudFormation expects string")},
     Status.ERROR),
    # an unknown the answer does not depend on: still decided
    ("RootAccess == 'Disabled'", {"RootAccess": "Enabled", "SubnetId": TOKEN}, Status.FAIL),
    ("RootAccess == 'Disabled'", {"RootAccess": "Disabled", "KmsKeyId": DENIED}, Status.PASS),
    ("RootAccess == 'Disabled' && SubnetId != null", {"RootAccess": "Enabled", "SubnetId": TOKEN}, Status.FAIL),
    ("length(Tags[?Key=='owner']) > `0`", {"Tags": [{"Key": "owner", "Value": TOKEN}]}, Status.PASS),
    # values(@) reaches every field: an unknown anywhere may decide
    ("contains(values(@), 'Enabled')", {"RootAccess": "Disabled", "SubnetId": TOKEN}, Status.UNKNOWN),
    # two unknowns that must both take a literal
    ("A == 'x' && B == 'y'", {"A": TOKEN, "B": Opaque.token("Ref", "Other")}, Status.UNKNOWN),
])
def test_assert_outcomes(expression: str, properties: dict, expected: Status) -> None:
    assert status(expression, properties) is expected


def test_the_message_names_the_value_that_decides() -> None:
    outcome = evaluate_assert(jmespath.compile("length(Tags) > `0`"), {"Tags": DENIED})
    assert outcome.message is not None and "Tags could not be read (s3.GetBucketTagging: AccessDenied)" in outcome.message


def test_too_many_unknowns_to_try_is_unknown() -> None:
    properties = {f"P{i}": Opaque.token("Ref", f"P{i}") for i in range(12)}
    expression = " || ".join(f"P{i} == 'v'" for i in range(12))
    assert status(expression, properties) is Status.UNKNOWN
