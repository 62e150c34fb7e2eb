"""Wildcard patterns, ARN matching and policy variables.

A pattern is tokenised once (cached): literal text, ``*``, ``?``, policy variables
(``${aws:username}``, ``${aws:PrincipalTag/team, 'default'}``) and opaque template tokens
(``⟨...⟩``), which are literal text that nothing else contains. Variables are resolved per
request from its context; a variable that cannot be resolved makes the pattern match
nothing. ``${*}``, ``${?}`` and ``${$}`` are the literal characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sagefence.values import OPAQUE_CLOSE, OPAQUE_OPEN

from .wildcard import Wildcard, compile_items, matches, risky

# Token kinds: literal text (split at ':' for ARNs), opaque text (never split), '*', '?',
# and a variable (name lower-cased, default or None).
LIT, OPAQUE, STAR, ONE, VAR = "L", "O", "*", "?", "V"
Token = tuple[str, ...]
Context = Mapping[str, tuple[str, ...]]

_VAR = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_LITERAL_VARS = {"*": "*", "?": "?", "$": "$"}


@lru_cache(maxsize=8192)
def tokenize(pattern: str, variables: bool = True, wildcards: bool = True) -> tuple[Token, ...]:
    tokens: list[Token] = []
    text: list[str] = []

    def flush() -> None:
        if text:
            tokens.append((LIT, "".join(text)))
            text.clear()

    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == OPAQUE_OPEN:
            end = pattern.find(OPAQUE_CLOSE, i)
            end = n - 1 if end < 0 else end
            flush()
            tokens.append((OPAQUE, pattern[i : end + 1]))
            i = end + 1
            continue
        if variables and char == "$":
            match = _VAR.match(pattern, i)
            if match:
                flush()
                tokens.append(_variable(match.group(1)))
                i = match.end()
                continue
        if wildcards and char in "*?":
            flush()
            tokens.append((STAR,) if char == "*" else (ONE,))
        else:
            text.append(char)
        i += 1
    flush()
    return tuple(tokens)


def _variable(body: str) -> Token:
    if body in _LITERAL_VARS:
        return (LIT, _LITERAL_VARS[body])
    match = _DEFAULT.match(body)
    if match:
        return (VAR, match.group(1).lower(), match.group(2))
    return (VAR, body.strip().lower(), None)  # type: ignore[return-value]


def resolve(tokens: tuple[Token, ...], context: Context) -> tuple[Token, ...] | None:
    """Replace variables by literal text from the context; None when one cannot be resolved.

    A multi-valued key cannot serve as a variable (IAM says so), nor can an absent key
    without a default.
    """
    if not any(token[0] == VAR for token in tokens):
        return tokens
    out: list[Token] = []
    for token in tokens:
        if token[0] != VAR:
            out.append(token)
            continue
        values = context.get(token[1], ())
        if len(values) == 1:
            out.append((OPAQUE, values[0]))
        elif not values and token[2] is not None:
            out.append((OPAQUE, token[2]))
        else:
            return None
    return tuple(out)


def resolve_text(pattern: str, context: Context, variables: bool = True) -> str | None:
    """The pattern with its variables substituted, wildcard characters kept as text."""
    if not variables or "${" not in pattern:
        return pattern
    tokens = resolve(tokenize(pattern, True, False), context)
    return None if tokens is None else "".join(token[1] for token in tokens)


@lru_cache(maxsize=8192)
def _regex(tokens: tuple[Token, ...], ignore_case: bool) -> re.Pattern[str] | Wildcard:
    if risky(tokens):
        return Wildcard(tokens, ignore_case)
    parts = []
    for token in tokens:
        if token[0] == STAR:
            parts.append(".*")
        elif token[0] == ONE:
            parts.append(".")
        else:
            parts.append(re.escape(token[1]))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(
    pattern: str, value: str, context: Context, variables: bool = True, ignore_case: bool = False
) -> bool:
    """Whole-string match with ``*`` and ``?`` (StringLike, and the resource part of ARNs)."""
    tokens = resolve(tokenize(pattern, variables), context)
    if tokens is None:
        return False
    return _regex(tokens, ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=4096)
def action_regex(pattern: str) -> re.Pattern[str] | Wildcard:
    return _regex(tokenize(pattern, False), True)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action pattern (case-insensitive, ``*``/``?``) matches an action name.

    Names that no service defines (``kms:ReEncrypt``) simply match nothing else.
    """
    return _action_matcher((pattern,)).matches(action)


class _SplitMatcher:
    """A pattern list split by shape: exact text and ``prefix*`` patterns (nearly all of them)
    are compared as text; only the rest (``?``, inner ``*``) becomes one regex. Compiling a regex
    per list was most of a small scan's policy time for Action lists, and for Resource lists
    (each bucket's policy names its own ARNs) a third of a live scan's evaluation."""

    __slots__ = ("exact", "prefixes", "regex", "fold", "slow")

    def __init__(self, exact: set[str], prefixes: list[str], regex: re.Pattern[str] | None, fold: bool,
                 slow: tuple[Any, ...] = ()) -> None:
        self.exact = frozenset(exact)
        self.prefixes = tuple(prefixes)
        self.regex = regex
        self.fold = fold  # compare lower-cased (the regex ignores case itself)
        self.slow = slow  # patterns a regex could stall on, each matched without backtracking

    def matches(self, value: str) -> bool:
        text = value.lower() if self.fold else value
        if text in self.exact or text.startswith(self.prefixes):
            return True
        if self.regex is not None and self.regex.fullmatch(value) is not None:
            return True
        return any(matcher.fullmatch(value) for matcher in self.slow)


@lru_cache(maxsize=4096)
def _action_matcher(patterns: tuple[str, ...]) -> _SplitMatcher:
    exact: set[str] = set()
    prefixes: list[str] = []
    others: list[str] = []
    for pattern in patterns:
        lowered = pattern.lower()
        if OPAQUE_OPEN in pattern or "?" in pattern or "*" in lowered[:-1]:
            others.append(pattern)
        elif lowered.endswith("*"):
            prefixes.append(lowered[:-1])
        else:
            exact.add(lowered)
    compiled = [action_regex(p) for p in others]
    sources = [c.pattern for c in compiled if isinstance(c, re.Pattern)]
    regex = re.compile("|".join(f"(?:{p})" for p in sources), re.IGNORECASE | re.DOTALL) if sources else None
    return _SplitMatcher(exact, prefixes, regex, fold=True, slow=tuple(c for c in compiled if isinstance(c, Wildcard)))


def any_action_matches(patterns: tuple[str, ...], action: str) -> bool:
    """Whether any of a statement's Action patterns matches."""
    return _action_matcher(patterns).matches(action)


@lru_cache(maxsize=8192)
def _arn_segments(pattern: str, variables: bool) -> tuple[tuple[Token, ...], ...]:
    """Split a pattern into at most six ARN segments at the colons of its own literal text."""
    segments: list[list[Token]] = [[]]
    for token in tokenize(pattern, variables):
        if token[0] != LIT or len(segments) == 6:
            segments[-1].append(token)
            continue
        pieces = token[1].split(":", 6 - len(segments))
        for k, piece in enumerate(pieces):
            if k:
                segments.append([])
            if piece:
                segments[-1].append((LIT, piece))
    return tuple(tuple(segment) for segment in segments)


def _arn_source(segments: tuple[tuple[Token, ...], ...]) -> str | None:
    """One regex for segment-wise matching: wildcards stay inside their segment except in
    the last segment of the pattern, which takes the rest of the ARN. None when the
    pattern can match nothing (resolved text with a colon inside an inner segment)."""
    last = len(segments) - 1
    out = []
    for i, segment in enumerate(segments):
        for token in segment:
            if token[0] == STAR:
                out.append(".*" if i == last else "[^:]*")
            elif token[0] == ONE:
                out.append("." if i == last else "[^:]")
            elif i != last and ":" in token[1]:
                return None
            else:
                out.append(re.escape(token[1]))
        if i != last:
            out.append(":")
    return "".join(out)


def _arn_plain(segments: tuple[tuple[Token, ...], ...]) -> tuple[bool, str] | None:
    """(True, text) for a pattern of literal text only, (False, prefix) for literal text and one
    ``*`` at its very end (which takes the rest of the ARN, colons too): what ``_arn_source``'s
    regex would match, as text. None for any other shape."""
    last = len(segments) - 1
    text: list[str] = []
    for i, segment in enumerate(segments):
        for k, token in enumerate(segment):
            if token[0] == STAR and i == last and k == len(segment) - 1:
                return False, "".join(text)
            if token[0] in (STAR, ONE) or (i != last and ":" in token[1]):
                return None
            text.append(token[1])
        if i != last:
            text.append(":")
    return True, "".join(text)


@lru_cache(maxsize=4096)
def _static_arns_matcher(patterns: tuple[str, ...], variables: bool) -> _SplitMatcher | None:
    """A matcher for a list of ARN patterns, or None if one of them holds a variable."""
    exact: set[str] = set()
    prefixes: list[str] = []
    sources: list[str] = []
    slow: list[ArnWildcard] = []
    for pattern in patterns:
        segments = _arn_segments(pattern, variables)
        if any(token[0] == VAR for segment in segments for token in segment):
            return None
        plain = _arn_plain(segments)
        if plain is not None:
            (exact.add if plain[0] else prefixes.append)(plain[1])
            continue
        if _arn_risky(segments):
            slow.append(ArnWildcard(segments))
            continue
        source = _arn_source(segments)
        if source is not None:
            sources.append(f"(?:{source})")
    regex = re.compile("|".join(sources), re.DOTALL) if sources else None
    return _SplitMatcher(exact, prefixes, regex, fold=False, slow=tuple(slow))


def _arn_risky(segments: tuple[tuple[Token, ...], ...]) -> bool:
    """Two ``*`` within one segment (only there can a regex backtrack without bound: ``[^:]*`` of
    different segments are kept apart by the colons)."""
    return any(risky(segment) for segment in segments)


class ArnWildcard:
    """Segment-wise ARN matching for a risky pattern, without regular expressions: the value's first
    colons split it like the pattern; the pattern's last segment takes the rest, colons too."""

    __slots__ = ("segments",)

    def __init__(self, segments: tuple[tuple[Token, ...], ...]) -> None:
        self.segments = tuple(compile_items(segment, False) for segment in segments)

    def fullmatch(self, value: str) -> bool | None:
        parts = value.split(":", len(self.segments) - 1)
        if len(parts) != len(self.segments):
            return None
        return all(matches(items, part) for items, part in zip(self.segments, parts, strict=True)) or None


@lru_cache(maxsize=8192)
def _resolved_arn_regex(segments: tuple[tuple[Token, ...], ...]) -> re.Pattern[str] | ArnWildcard | None:
    if _arn_risky(segments):
        return ArnWildcard(segments)
    source = _arn_source(segments)
    return None if source is None else re.compile(source, re.DOTALL)


def arn_match(pattern: str, value: str, context: Context, variables: bool = True) -> bool:
    """Match an ARN pattern segment by segment, as IAM does for Resource and Arn* conditions.

    Each of the six colon-separated segments is matched on its own with ``*``/``?``; the
    last segment of the pattern is matched against the rest of the value, so a ``*`` there
    crosses colons (``arn:aws:s3:*`` matches every S3 ARN, ``*`` matches everything).
    Matching is case-sensitive.
    """
    return any_arn_matches((pattern,), value, context, variables)


def any_arn_matches(patterns: tuple[str, ...], value: str, context: Context, variables: bool = True) -> bool:
    """Whether any of the ARN patterns matches `value`; variables resolved from `context`."""
    static = _static_arns_matcher(patterns, variables)
    if static is not None:
        return static.matches(value)
    for pattern in patterns:
        segments = tuple(resolve(segment, context) for segment in _arn_segments(pattern, variables))
        if any(segment is None for segment in segments):
            continue
        regex = _resolved_arn_regex(segments)
        if regex is not None and regex.fullmatch(value) is not None:
            return True
    return False
