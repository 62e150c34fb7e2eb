"""Inventory facts computed once for a whole scan."""

from __future__ import annotations

from sagefence.config import Config
from sagefence.inventory.index import Inventory
from sagefence.status import SourceKind


def test_derived_facts_are_built_once_per_inventory() -> None:
    built: list[Inventory] = []

    def count(inventory: Inventory) -> int:
        built.append(inventory)
        return len(built)

    first = Inventory([], config=Config(), source=SourceKind.ACCOUNT)
    second = Inventory([], config=Config(), source=SourceKind.ACCOUNT)
    assert [first.derived(count), first.derived(count), second.derived(count)] == [1, 1, 2]
    assert built == [first, second]
