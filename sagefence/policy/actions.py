"""The catalogue of real IAM actions, from policyuniverse, loaded on first use.

policyuniverse costs about 80 ms to import, so it is imported inside the functions: a
template scan that never asks about the catalogue never pays for it.
"""

from __future__ import annotations

from functools import lru_cache

from .patterns import action_regex


@lru_cache(maxsize=1)
def _catalogue() -> frozenset[str]:
    from policyuniverse import all_permissions  # type: ignore[import-untyped]

    return frozenset(all_permissions)


@lru_cache(maxsize=1024)
def expand_action(pattern: str) -> tuple[str, ...]:
    """Every known action (lower-case ``service:action``) an Action pattern matches, sorted.

    An empty answer means the pattern names no real action (a typo such as
    ``kms:ReEncrypt``, or a service the catalogue does not know yet).
    """
    regex = action_regex(pattern)
    return tuple(sorted(action for action in _catalogue() if regex.fullmatch(action)))


def is_known_action(action: str) -> bool:
    """Whether the catalogue knows this exact action (case-insensitive)."""
    return action.lower() in _catalogue()
