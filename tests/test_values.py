"""Markers for values that are not there: no truth value, no silent comparison."""

from __future__ import annotations

import pytest

from sagefence.values import (
    InputError,
    Malformed,
    Missing,
    Opaque,
    ReadError,
    UnknownInput,
    is_marker,
    require,
)

DENIED = ReadError("kms.DescribeKey", "AccessDenied")
MISSING = Missing("PlatformIdentifier")
MALFORMED = Malformed("KmsKeyId", "a list where CloudFormation expects string")


@pytest.mark.parametrize(("marker", "raised"), [(DENIED, InputError), (MISSING, UnknownInput),
                                                (MALFORMED, InputError)])
def test_markers_have_no_truth_value_and_compare_with_nothing_plain(marker: object, raised: type) -> None:
    with pytest.raises(raised):
        bool(marker)
    with pytest.raises(raised):
        _ = marker == "Disabled"
    with pytest.raises(raised):
        _ = marker != "Disabled"
    with pytest.raises(raised):
        list(marker)  # type: ignore[call-overload]
    with pytest.raises(raised):
        require(marker, "the field")


def test_markers_equal_only_an_identical_marker() -> None:
    assert ReadError("kms.DescribeKey", "AccessDenied") == DENIED
    assert ReadError("kms.DescribeKey", "Throttling") != DENIED
    assert Missing("KmsKeyId") != MISSING and MISSING != DENIED
    assert len({DENIED, ReadError("kms.DescribeKey", "AccessDenied"), MALFORMED}) == 2
    assert all(is_marker(m) for m in (DENIED, MISSING, MALFORMED)) and not is_marker(Opaque.token("Ref", "P"))


def test_an_opaque_value_has_no_truth_value_but_stays_text() -> None:
    token = Opaque.token("Ref", "SubnetParam")
    with pytest.raises(UnknownInput, match="SubnetParam"):
        bool(token)
    with pytest.raises(UnknownInput):
        _ = token or "subnet-default"
    assert token == Opaque.token("Ref", "SubnetParam") and token != "subnet-1"  # equal only to itself


def test_require_names_the_problem_of_a_malformed_value() -> None:
    with pytest.raises(InputError, match="malformed KmsKeyId: a list where CloudFormation expects string"):
        require(MALFORMED, "KmsKeyId")
