"""``*``/``?`` matching that no pattern can stall (rules.md v2 §6).

Python's regular expressions backtrack: ``*?*?*?*?*?*?*?*?*?*?*?*?Z`` against a long action name,
or ``*a*a*a*a*a*b`` against ``aaaa…``, takes minutes. A pattern with two or more ``*`` that can
meet each other is matched here instead, by the greedy two-pointer algorithm: each ``*`` only
ever restarts from the last one, so the work is bounded by the pattern's length times the
value's, whatever the pattern. Patterns with at most one ``*`` stay compiled regular
expressions, which cannot backtrack more than that either, and are faster.
"""

from __future__ import annotations

from collections.abc import Sequence

STAR, ONE = "*", "?"  # token kinds, as in patterns.py
# Items of a compiled pattern: two-character markers, so no character of text can equal them.
ANY_RUN, ANY_ONE = "\x00*", "\x00?"


def compile_items(tokens: Sequence[tuple[str, ...]], fold: bool) -> tuple[str, ...]:
    """Tokens (``("*",)``, ``("?",)``, or a kind and literal text) as single characters and the two
    wildcards; a run of ``*`` is one ``*`` (``**`` matches what ``*`` does)."""
    items: list[str] = []
    for token in tokens:
        if token[0] in (STAR, ONE):
            if not (token[0] == STAR and items and items[-1] == ANY_RUN):
                items.append(ANY_RUN if token[0] == STAR else ANY_ONE)
        else:
            items.extend(token[1].casefold() if fold else token[1])
    return tuple(items)


def matches(items: Sequence[str], value: str) -> bool:
    """Whole-value match; ``items`` from ``compile_items`` (a literal ``*`` in the pattern's text
    is a character like any other)."""
    i = j = 0
    star, mark = -1, 0
    n, m = len(items), len(value)
    while j < m:
        if i < n and items[i] != ANY_RUN and (items[i] == ANY_ONE or items[i] == value[j]):
            i += 1
            j += 1
        elif i < n and items[i] == ANY_RUN:
            star, mark = i, j
            i += 1
        elif star >= 0:
            i, mark = star + 1, mark + 1
            j = mark
        else:
            return False
    while i < n and items[i] == ANY_RUN:
        i += 1
    return i == n


class Wildcard:
    """A ``re.Pattern``-like matcher (``fullmatch`` only) for one pattern."""

    __slots__ = ("items", "fold")

    def __init__(self, tokens: Sequence[tuple[str, ...]], fold: bool) -> None:
        self.items = compile_items(tokens, fold)
        self.fold = fold

    def fullmatch(self, value: str) -> bool | None:
        return matches(self.items, value.casefold() if self.fold else value) or None


def risky(tokens: Sequence[tuple[str, ...]]) -> bool:
    """Two or more ``*``: what a backtracking regular expression can take exponential time on."""
    return sum(1 for token in tokens if token[0] == STAR) >= 2
