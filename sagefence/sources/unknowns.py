"""Intrinsic functions over values that are partly or wholly unknown before deployment.

A string may embed opaque tokens (``arn:aws:cloudformation:r:a:stack/⟨StackName∶s⟩/⟨StackUUID∶s⟩``).
Functions applied to unknowns give unknowns, never errors: ``Fn::Split`` keeps the elements it
can still count, ``Fn::Select`` reads those and gives a derived token beyond them. A derived
token is a function of its inputs' text, so the same expression gives the same token and
different inputs give different ones (two unrelated unknowns never match each other).

Unknown markers have no truth value here: tests use ``is_opaque`` explicitly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import string
from itertools import islice
from typing import Any

from sagefence.values import OPAQUE_CLOSE, OPAQUE_OPEN, TOKEN_COLON, Opaque, is_opaque

# Token kinds whose possible values are known to use only these characters (a stack name is
# [A-Za-z][A-Za-z0-9-]*, the stack id's uuid is hexadecimal with dashes). Other tokens may hold anything.
_ALPHABETS = {
    "StackName": frozenset(string.ascii_letters + string.digits + "-"),
    "StackUUID": frozenset(string.hexdigits + "-"),
}


class OpaqueList(Opaque):
    """A list whose length is unknown; ``prefix`` holds the elements known to come first."""

    prefix: tuple[Any, ...]

    def __new__(cls, text: str, prefix: tuple[Any, ...] = ()) -> OpaqueList:
        token = super().__new__(cls, text)
        token.prefix = prefix
        return token


def pseudo_parameters(stack: str, account_id: str, region: str) -> dict[str, Any]:
    """Account and region are the configured placeholders; the stack's name and id and the
    notification ARNs are unknown (``stack`` tells stacks apart). The URL suffix follows from the
    partition (amazonaws.com for ``aws``), so ``!Sub sagemaker.${AWS::URLSuffix}`` in a trust
    policy stays a known service."""
    stack = stack.replace(OPAQUE_OPEN, "(").replace(OPAQUE_CLOSE, ")")
    name, uuid = Opaque.token("StackName", stack), Opaque.token("StackUUID", stack)
    return {
        "AWS::AccountId": account_id, "AWS::Region": region, "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": name,
        "AWS::StackId": Opaque(f"arn:aws:cloudformation:{region}:{account_id}:stack/{name}/{uuid}"),
        "AWS::NotificationARNs": OpaqueList(Opaque.token("NotificationARNs", stack)),
    }


def get_azs(region: Any, default_region: str) -> OpaqueList:
    """``Fn::GetAZs``: how many zones a region has is not known; the first three are placeholders."""
    if isinstance(region, str) and not is_opaque(region) and region == "":
        region = default_region
    if not isinstance(region, str) or is_opaque(region):
        return OpaqueList(derived("GetAZs", region))
    return OpaqueList(derived("GetAZs", region), tuple(f"{region}{zone}" for zone in "abc"))


class IntrinsicArgumentError(ValueError):
    """An argument CloudFormation itself would reject (raised as IntrinsicError by the resolver)."""


def derived(kind: str, *inputs: Any) -> Opaque:
    """A token for ``kind`` applied to ``inputs``: equal exactly when the inputs' text is equal."""
    text = json.dumps(inputs, default=_text, sort_keys=True, ensure_ascii=False)
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    return Opaque.token(kind, digest)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def pieces(text: str) -> list[tuple[bool, str]]:
    """``text`` as (is_token, piece) runs; a token runs from ⟨ to its matching ⟩."""
    out: list[tuple[bool, str]] = []
    i, n, start = 0, len(text), 0
    while i < n:
        if text[i] != OPAQUE_OPEN:
            i += 1
            continue
        if start < i:
            out.append((False, text[start:i]))
        depth, j = 0, i
        while j < n:
            depth += (text[j] == OPAQUE_OPEN) - (text[j] == OPAQUE_CLOSE)
            j += 1
            if depth == 0:
                break
        out.append((True, text[i:j]))
        i = start = j
    if start < n:
        out.append((False, text[start:]))
    return out


def _may_contain(token: str, delimiter: str) -> bool:
    """Whether a value of the token may contain (part of) the delimiter."""
    kind = token[1:].split(TOKEN_COLON, 1)[0]
    alphabet = _ALPHABETS.get(kind)
    return alphabet is None or any(char in alphabet for char in delimiter)


def _element(parts: list[str]) -> str:
    text = "".join(parts)
    return Opaque(text) if is_opaque(text) else text


def split(delimiter: Any, source: Any) -> Any:
    """``Fn::Split``: a list where every element can be counted, else an ``OpaqueList``."""
    if isinstance(delimiter, str) and not is_opaque(delimiter) and delimiter == "":
        raise IntrinsicArgumentError("Fn::Split delimiter is empty")
    if not isinstance(delimiter, str) or is_opaque(delimiter) or not isinstance(source, str):
        return OpaqueList(derived("Split", delimiter, source))
    if not is_opaque(source):
        return str(source).split(delimiter)
    elements: list[Any] = []
    current: list[str] = []
    for is_token, piece in pieces(source):
        if is_token and _may_contain(piece, delimiter):
            return OpaqueList(derived("Split", delimiter, source), tuple(elements))
        if is_token:
            current.append(piece)
            continue
        head, *rest = piece.split(delimiter)
        current.append(head)
        for part in rest:
            elements.append(_element(current))
            current = [part]
    elements.append(_element(current))
    return elements


def select(index: Any, items: Any) -> Any:
    """``Fn::Select``: an error only for an index outside a list whose length is known."""
    if is_opaque(index):
        return derived("Select", index, items)
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise IntrinsicArgumentError(f"Fn::Select index {index!r} is not a number") from None
    if isinstance(items, list):
        if 0 <= position < len(items):
            return items[position]
        raise IntrinsicArgumentError(f"Fn::Select index {index!r} is out of range of a list of {len(items)}")
    if position < 0:
        raise IntrinsicArgumentError(f"Fn::Select index {index!r} is negative")
    if isinstance(items, OpaqueList) and position < len(items.prefix):
        return items.prefix[position]
    return derived("Select", position, items)


def join(delimiter: Any, items: Any) -> Any:
    """``Fn::Join``: text with the unknown parts embedded; an unknown list gives a derived token."""
    if not isinstance(items, list):
        return derived("Join", delimiter, items) if is_opaque(items) else items
    parts = [str(i) if not isinstance(i, (dict, list)) else json.dumps(i) for i in items]
    text = str(delimiter).join(parts)
    return Opaque(text) if is_opaque(text) else text


def length(value: Any) -> Any:
    return len(value) if isinstance(value, list) else derived("Length", value)


def lower_known(text: str) -> str:
    """Lower-case the known text only: a token keeps its text, so it still equals itself elsewhere."""
    return "".join(piece if is_token else piece.lower() for is_token, piece in pieces(text))


def as_text(text: str) -> str:
    """Text that embeds a token is an ``Opaque`` (a rule reading it as a setting reports unknown)."""
    return Opaque(text) if is_opaque(text) else text


def cidr(arg: Any) -> Any:
    """``Fn::Cidr [block, count, bits]``: the blocks when all three are known; else ``count``
    unknown blocks (or a list of unknown length when the count is unknown too)."""
    if not isinstance(arg, list) or len(arg) != 3:
        raise IntrinsicArgumentError("Fn::Cidr takes [ipBlock, count, cidrBits]")
    block, count, bits = arg
    try:
        number = int(count)
    except (TypeError, ValueError):
        return OpaqueList(derived("Cidr", block, count, bits))
    if not 1 <= number <= 256:
        raise IntrinsicArgumentError(f"Fn::Cidr count {count!r} is not between 1 and 256")
    if is_opaque(block) or is_opaque(bits) or not isinstance(block, str):
        return [derived("Cidr", block, index, bits) for index in range(number)]
    try:
        network = ipaddress.ip_network(block, strict=False)
        blocks = [str(b) for b in islice(network.subnets(new_prefix=network.max_prefixlen - int(bits)), number)]
    except (TypeError, ValueError):
        blocks = []
    if len(blocks) < number:
        raise IntrinsicArgumentError(f"Fn::Cidr cannot cut {count} blocks of {bits} bits from {block!r}")
    return blocks


_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:([^{}]*)\}\}")


def dynamic_references(value: Any) -> Any:
    """``{{resolve:ssm:Name:1}}`` (SSM, Secrets Manager): CloudFormation reads these at deploy time, so
    each is an unknown (a token) and a string holding one is opaque. Containers are changed in place
    (the reader's mappings remember the line of each key). Only called when the file has one."""
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = dynamic_references(item)
    elif isinstance(value, list):
        value[:] = [dynamic_references(item) for item in value]
    elif isinstance(value, str) and "{{resolve:" in value:
        return Opaque(_DYNAMIC_REFERENCE.sub(lambda m: Opaque.token("resolve", m.group(1)), value))
    return value
