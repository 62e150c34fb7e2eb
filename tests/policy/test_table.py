"""Runs the data-driven correctness table (table.yaml) through the evaluator."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from sagefence.policy import Policy, PolicyError, Request, evaluate, parse_policy, unknown_policy
from sagefence.policy.parse import split_operator
from sagefence.values import Opaque

TABLE = Path(__file__).with_name("table.yaml")
PROBE = "arn:aws:iam::111122223333:role/sagefence-probe"


class _Loader(yaml.SafeLoader):
    """Safe loading plus ``!opaque Name``: an unresolved template parameter."""


_Loader.add_constructor("!opaque", lambda loader, node: Opaque.token("param", loader.construct_scalar(node)))


def _load() -> dict[str, Any]:
    with TABLE.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


DATA = _load()
ROWS = DATA["cases"]
REJECTED = DATA["rejected"]
ACCEPTED = DATA["accepted"]


def _policy(ref: Any, kind: str, label: str) -> Policy:
    if ref == "unknown":
        return unknown_policy(f"unknown {label}", kind)
    if ref == "unreadable":
        return unknown_policy(f"unreadable {label}", kind, may_deny=True)
    document = DATA["policies"][ref] if isinstance(ref, str) else ref
    return parse_policy(document, f"{label} {ref if isinstance(ref, str) else '(inline)'}", kind)


def _context(ref: Any) -> dict[str, Any]:
    if ref is None:
        return {}
    raw = DATA["contexts"][ref] if isinstance(ref, str) else ref
    context = dict(_context(raw.get("_base"))) if "_base" in raw else {}
    context.update({key: value for key, value in raw.items() if key != "_base"})
    return context


def _request(row: dict[str, Any]) -> Request:
    spec = row["request"]
    return Request(
        spec.get("principal", PROBE),
        spec["action"],
        spec["resource"],
        _context(spec.get("context")),
        principal_account=spec.get("principal_account"),
        principal_type=spec.get("principal_type"),
    )


def _run(row: dict[str, Any]):
    identity = [_policy(ref, "identity", "identity policy") for ref in row.get("identity", [])]
    resource = row.get("resource")
    return evaluate(
        _request(row),
        identity=identity,
        resource=_policy(resource, row.get("kind", "resource"), "resource policy") if resource else None,
        boundary=_policy(row["boundary"], "boundary", "boundary") if "boundary" in row else None,
        scps=[_policy(ref, "scp", "SCP") for ref in row.get("scps", [])],
        resource_account=row.get("resource_account"),
    )


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_row(row: dict[str, Any]) -> None:
    result = _run(row)
    assert result.decision.value == row["expect"], f"{row['reason']} -- got {result.describe()}"
    assert result.uncertain is row.get("uncertain", False), row["reason"]
    if "deciding" in row:
        assert [ref.sid or f"#{ref.index + 1}" for ref in result.deciding] == row["deciding"], row["reason"]


def test_rows_are_well_formed() -> None:
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for row in ROWS:
        assert row["expect"] in ("allow", "explicit_deny", "implicit_deny"), row["id"]
        assert isinstance(row.get("reason"), str) and len(row["reason"]) >= 25, row["id"]
        unknown_keys = set(row) - {
            "id", "reason", "expect", "request", "identity", "resource", "kind",
            "boundary", "scps", "resource_account", "deciding", "uncertain",
        }  # fmt: skip
        assert not unknown_keys, (row["id"], unknown_keys)


def test_table_size() -> None:
    assert len(ROWS) >= 150


def _operators_used() -> Counter[str]:
    names: list[str] = []
    for row in ROWS:
        refs = [row.get("resource"), row.get("boundary"), *row.get("identity", []), *row.get("scps", [])]
        for ref in refs:
            if ref is None or ref in ("unknown", "unreadable"):
                continue
            document = DATA["policies"][ref] if isinstance(ref, str) else ref
            statements = document["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                names.extend(statement.get("Condition", {}))
    return Counter(names)


OPERATORS = [
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals",
    "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
    "DateGreaterThan", "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
    "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
]  # fmt: skip


@pytest.mark.parametrize("operator", OPERATORS)
def test_every_operator_is_exercised(operator: str) -> None:
    used = {split_operator(name)[:2] for name in _operators_used()}
    assert split_operator(operator)[:2] in used


@pytest.mark.parametrize("feature", ["IfExists", "ForAnyValue:", "ForAllValues:"])
def test_every_modifier_is_exercised(feature: str) -> None:
    assert any(feature.lower() in name.lower() for name in _operators_used())


def _document(row: dict[str, Any]) -> Any:
    return row["document"] if "document" in row else {"Version": "2012-10-17", "Statement": [row["statement"]]}


@pytest.mark.parametrize("row", REJECTED, ids=[row["id"] for row in REJECTED])
def test_ill_formed_policy_is_rejected(row: dict[str, Any]) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(_document(row), f"policy {row['id']}", row.get("kind", "identity"))
    message = str(raised.value)
    assert f"policy {row['id']}" in message
    for name in row["names"]:
        assert str(name) in message, (name, message)


@pytest.mark.parametrize("row", ACCEPTED, ids=[row["id"] for row in ACCEPTED])
def test_well_formed_tricky_policy_parses(row: dict[str, Any]) -> None:
    policy = parse_policy(_document(row), f"policy {row['id']}", row.get("kind", "identity"))
    assert len(policy.statements) == len(_document(row)["Statement"])


def test_validity_tables_are_well_formed() -> None:
    ids = [row["id"] for row in REJECTED + ACCEPTED]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert len(REJECTED) >= 30
    for row in REJECTED + ACCEPTED:
        assert ("statement" in row) != ("document" in row), row["id"]
    assert all(row["names"] for row in REJECTED)
