"""Reading CloudFormation files: YAML with the short-form tags, and JSON, with lines kept.

libyaml's C parser is used where present. YAML anchors, aliases and merge keys are not
CloudFormation: they are refused before construction, so an alias bomb never expands.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from sagefence.sources.limits import MAX_DEPTH, LimitError, check_values, kind_of

MAX_FILE_BYTES = 10 * 1024 * 1024

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SHORT_FORMS = {
    "Ref": "Ref", "Condition": "Condition", "GetAtt": "Fn::GetAtt", "Sub": "Fn::Sub", "If": "Fn::If",
    "Join": "Fn::Join", "Select": "Fn::Select", "FindInMap": "Fn::FindInMap", "ImportValue": "Fn::ImportValue",
    "Equals": "Fn::Equals", "Not": "Fn::Not", "And": "Fn::And", "Or": "Fn::Or", "Base64": "Fn::Base64",
    "Split": "Fn::Split", "Cidr": "Fn::Cidr", "GetAZs": "Fn::GetAZs", "Transform": "Fn::Transform",
    "Length": "Fn::Length", "ToJsonString": "Fn::ToJsonString",
}


class TemplateReadError(Exception):
    """A file that cannot be read as a template; the message names the line where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


class LineDict(dict):
    """The Resources mapping: remembers the line of each key (1-based), and whether the file's text
    mentions ImportValue at all (linking templates need not walk those that do not)."""

    key_lines: dict[str, int]
    mentions_import: bool = True

    @classmethod
    def of(cls, resources: dict[str, Any], key_lines: dict[str, int], text: str) -> LineDict:
        made = cls(resources)
        made.key_lines = key_lines
        made.mentions_import = "ImportValue" in text
        return made


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        """PyYAML's answer, asked once per distinct plain scalar: libyaml's composer calls this
        for every node, and a template repeats the same few hundred values."""
        if kind is yaml.ScalarNode:
            if not implicit[0] or (value and value[0] not in _RESOLVED_FIRST):
                return self.DEFAULT_SCALAR_TAG
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                if len(_PLAIN_TAGS) > 50_000:
                    _PLAIN_TAGS.clear()
                tag = _PLAIN_TAGS[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None  # no path resolvers are registered

    def ascend_resolver(self) -> None:
        return None


_PLAIN_TAGS: dict[str, str] = {}


# CloudFormation reads an unquoted 2024-01-01 as the string it is, not a date, and 011122223333 as
# those digits, not a YAML 1.1 octal (nor 1:30 as a base-60 number): only decimal ints stay ints.
_DECIMAL_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_Loader.yaml_implicit_resolvers = {
    first: [(tag, _DECIMAL_INT if tag == "tag:yaml.org,2002:int" else regexp) for tag, regexp in resolvers
            if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
assert None not in _Loader.yaml_implicit_resolvers and not _Loader.yaml_path_resolvers
_RESOLVED_FIRST = frozenset(first for first in _Loader.yaml_implicit_resolvers if first)


def _resource_lines(root: yaml.Node | None) -> dict[str, int] | None:
    """Lines of the keys under the top-level Resources mapping, read off the node tree."""
    if not isinstance(root, yaml.MappingNode):
        return None
    for key_node, value_node in root.value:
        if getattr(key_node, "value", None) == "Resources" and isinstance(value_node, yaml.MappingNode):
            return {str(k.value): k.start_mark.line + 1 for k, _ in value_node.value if isinstance(k, yaml.ScalarNode)}
    return None


def _merge_key_line(node: yaml.Node) -> int | None:
    """The line of the first merge key (<<) in the tree, walked only when the text suggests one."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    return key_node.start_mark.line + 1
                stack.append(value_node)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None


def _tag_constructor(function: str):
    def construct(loader: _Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if function == "Fn::GetAtt":
                value = value.split(".", 1) if "." in value else [value]
            elif function == "Fn::GetAZs" and value is None:
                value = ""
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {function: value}

    return construct


def _unknown_tag(loader: _Loader, tag_suffix: str, node: yaml.Node) -> Any:
    raise TemplateReadError(f"unknown YAML tag !{tag_suffix}", node.start_mark.line + 1)


for _short, _long in SHORT_FORMS.items():
    _Loader.add_constructor(f"!{_short}", _tag_constructor(_long))
_Loader.add_multi_constructor("!", _unknown_tag)

# A cheap text test for anchors; only on a hit do we walk the event stream to be sure.
_MAYBE_ANCHOR = re.compile(r"(?<![^\s\[\{,])&[^\s,\[\]\{\}]")
_MAYBE_MERGE = re.compile(r"<<\s*:")


def _refuse_anchors(text: str) -> None:
    """Every alias needs an anchor (an undefined alias is a parse error), so looking for anchors is enough."""
    if "&" not in text or not _MAYBE_ANCHOR.search(text):
        return
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.AliasEvent):
                raise TemplateReadError("YAML aliases are not CloudFormation (refused, never expanded)",
                                        event.start_mark.line + 1)
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise TemplateReadError("YAML anchors are not CloudFormation", event.start_mark.line + 1)
    except yaml.YAMLError:
        return  # the real load reports the syntax error with its line


def _yaml_error(exc: yaml.YAMLError) -> TemplateReadError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"malformed YAML: {problem}" + (f" ({context})" if context else "")
    return TemplateReadError(message, mark.line + 1 if mark else None)


def _json_key_lines(text: str, data: dict[str, Any]) -> None:
    """JSON has no marks: find each resource key's line after the 'Resources' key."""
    resources = data.get("Resources")
    if not isinstance(resources, dict):
        return
    start = text.find('"Resources"')
    lines: dict[str, int] = {}
    pos = max(start, 0)
    for logical_id in resources:
        match = re.compile(re.escape(json.dumps(logical_id)) + r"\s*:").search(text, pos)
        if match:
            lines[logical_id] = text.count("\n", 0, match.start()) + 1
            pos = match.end()
    data["Resources"] = LineDict.of(resources, lines, text)


def read_document(path: Path) -> Any:
    """Parse one file; raise TemplateReadError with a line for anything unreadable."""
    kind = kind_of(path)
    if kind is not None:
        raise TemplateReadError(f"{kind}, not a regular file (not opened)")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise TemplateReadError(f"cannot read: {exc.strerror or exc}") from exc
    if size > MAX_FILE_BYTES:
        raise TemplateReadError(f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit (refused unread)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TemplateReadError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except OSError as exc:
        raise TemplateReadError(f"cannot read: {exc.strerror or exc}") from exc
    data = parse_text(text, json_first=path.suffix.lower() == ".json")
    try:
        check_values(data, text)
    except LimitError as exc:
        raise TemplateReadError(str(exc)) from None
    if "{{resolve:" in text:
        from sagefence.sources.unknowns import dynamic_references

        dynamic_references(data)
    return data


def _load_yaml(text: str) -> Any:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if _MAYBE_MERGE.search(text):
            line = _merge_key_line(root)
            if line is not None:
                raise TemplateReadError("YAML merge keys (<<) are not CloudFormation", line)
        lines = _resource_lines(root)
        data = _construct(loader, root)
    finally:
        loader.dispose()
    if lines is not None and isinstance(data, dict) and isinstance(data.get("Resources"), dict):
        data["Resources"] = LineDict.of(data["Resources"], lines, text)
    return data


_MAP, _SEQ, _STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"
_SHORT_TAGS = {f"!{short}": long for short, long in SHORT_FORMS.items()}


def _construct(loader: _Loader, root: yaml.Node) -> Any:
    """The same objects as ``loader.construct_document(root)``, built by one recursive walk.

    PyYAML's constructor dispatches every node through generators and per-node state,
    which is most of loading a template; anchors are refused before this point, so no
    node is shared and none needs that machinery. Plain maps, sequences, strings and the
    CloudFormation tags are built here; other scalars use PyYAML's own constructors (same
    int, float, bool and null rules); any other tag goes to the loader as before. Plain
    functions, not closures: a scan runs with the cyclic collector off, so nothing here
    may form a reference cycle.
    """
    return _build(loader, root)


_SCALARS = {
    "tag:yaml.org,2002:int": yaml.constructor.SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:bool": yaml.constructor.SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:null": yaml.constructor.SafeConstructor.construct_yaml_null,
    "tag:yaml.org,2002:float": yaml.constructor.SafeConstructor.construct_yaml_float,
}


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = _build(loader, key_node)
        try:
            out[key] = _build(loader, value_node)
        except TypeError:
            if key.__hash__ is not None:
                raise
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            ) from None
    return out


def _build(loader: _Loader, node: yaml.Node) -> Any:
    kind, tag = type(node), node.tag
    if kind is yaml.ScalarNode:
        if tag == _STR:
            return node.value
        construct = _SCALARS.get(tag)
        if construct is not None:
            return construct(loader, node)
    elif kind is yaml.MappingNode:
        if tag == _MAP:
            return _mapping(loader, node)
    elif kind is yaml.SequenceNode and tag == _SEQ:
        return [_build(loader, item) for item in node.value]
    function = _SHORT_TAGS.get(tag)
    if function is None:
        return loader.construct_object(node, deep=True)
    value: Any
    if kind is yaml.ScalarNode:
        value = node.value
        if function == "Fn::GetAtt":
            value = value.split(".", 1) if "." in value else [value]
    elif kind is yaml.SequenceNode:
        value = [_build(loader, item) for item in node.value]
    else:
        value = _mapping(loader, node)
    return {function: value}


def parse_text(text: str, json_first: bool = False) -> Any:
    stripped = text.lstrip()
    if json_first or stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if json_first:
                raise TemplateReadError(f"malformed JSON: {exc.msg} (column {exc.colno})", exc.lineno) from exc
        except ValueError as exc:  # an integer past Python's digit limit
            raise TemplateReadError(f"a value that cannot be read: {_unreadable(exc)}") from None
        except RecursionError:
            raise TemplateReadError(f"values nested deeper than {MAX_DEPTH} levels") from None
        else:
            if isinstance(data, dict):
                _json_key_lines(text, data)
            return data
    _refuse_anchors(text)
    try:
        return _load_yaml(text)
    except TemplateReadError:
        raise
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from exc
    except RecursionError as exc:
        raise TemplateReadError("nesting too deep") from exc
    except ValueError as exc:  # an integer past Python's digit limit
        raise TemplateReadError(f"a value that cannot be read: {_unreadable(exc)}") from None


def _unreadable(exc: Exception) -> str:
    text = str(exc)
    return "an integer longer than 4300 digits" if "integer string conversion" in text else text[:200]
