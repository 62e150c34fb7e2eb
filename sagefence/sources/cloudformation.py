"""The template source: files -> parsed templates -> resources per condition assignment.

Templates linked by ImportValue/Export are evaluated together (a *group*). Each named
condition is a free boolean (parameter defaults do not fix it); a group is resolved once
per assignment of the conditions that bear on it, so a rule can report the assignment
under which an insecure value is reachable. Above ``MAX_EXACT_CONDITIONS`` the branches
are taken independently (all true, all false, and each condition flipped alone).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sagefence.inventory.raw import InlineSuppression, RawResource
from sagefence.sources.cfn_yaml import TemplateReadError, read_document
from sagefence.sources.intrinsics import NO_VALUE, IntrinsicError, RefToken, Resolver
from sagefence.sources.limits import kind_of
from sagefence.status import SourceKind
from sagefence.values import Malformed, is_opaque

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
CONFIG_NAMES = ("sagefence.yaml", ".sagefence.yaml")
MAX_EXACT_CONDITIONS = 12
# What reading or resolving raises on a shape nothing above expected (a list where a name belongs...):
# caught where one file, group or resource can be given up on while the rest of the scan goes on.
UNEXPECTED_SHAPE = (RecursionError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError)

_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "cdk.out"}


@dataclass
class Template:
    path: Path
    label: str  # the path as shown in findings
    body: Mapping[str, Any]
    index: int

    @property
    def resources(self) -> Mapping[str, Any]:
        return self.body["Resources"]

    def line_of(self, logical_id: str) -> int | None:
        return getattr(self.resources, "key_lines", {}).get(logical_id)

    def release(self) -> None:
        """Drop the parsed body once its group is evaluated: a large scan need not hold every template."""
        self.body = {"Resources": {}}


@dataclass
class LoadResult:
    templates: list[Template] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Variant:
    """One condition assignment of a group and the resources that exist under it."""

    assignment: Mapping[str, bool]
    resources: tuple[RawResource, ...]
    independent: bool = False

    def describe(self) -> str | None:
        if not self.assignment:
            return None
        text = ", ".join(f"{name}={'true' if value else 'false'}" for name, value in sorted(self.assignment.items()))
        return text + (" (more than 12 conditions: branches taken independently)" if self.independent else "")


def discover(paths: Sequence[str]) -> tuple[list[tuple[Path, bool]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Files to read (path, named explicitly), errors (paths that do not exist or cannot be read,
    folders that cannot be listed) and skipped entries (non-regular files met in a folder: FIFOs,
    devices, symlink loops are listed, never opened)."""
    found: list[tuple[Path, bool]] = []
    errors: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []

    def unlisted(exc: OSError) -> None:
        errors.append((Path(exc.filename or "").as_posix(), f"cannot list folder: {exc.strerror or exc}"))

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path, onerror=unlisted):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                for name in sorted(files):
                    if name.lower().endswith(TEMPLATE_SUFFIXES) and name not in CONFIG_NAMES:
                        file = Path(root) / name
                        kind = kind_of(file)
                        if kind is None:
                            found.append((file, False))
                        else:
                            skipped.append((file.as_posix(), f"{kind}, not a regular file (not opened)"))
        elif kind_of(path) is None:
            found.append((path, True))
        elif os.path.lexists(path):
            errors.append((raw, f"{kind_of(path)}, not a regular file (not opened)"))
        else:
            errors.append((raw, "no such file or folder"))
    return found, errors, skipped


_RESOURCES_KEY = re.compile(r'^(Resources\s*:|\s*"Resources"\s*:)', re.MULTILINE)


def load(paths: Sequence[str], skip_non_templates: bool = False) -> LoadResult:
    """Read every file; with ``skip_non_templates`` a named file is treated like one found in a folder."""
    result = LoadResult()
    files, result.errors, result.skipped = discover(paths)
    for path, named in files:
        explicit = named and not skip_non_templates
        label = path.as_posix()
        try:
            body = read_document(path)
        except UNEXPECTED_SHAPE as exc:
            result.errors.append((label, f"could not be read ({type(exc).__name__}: {str(exc)[:200]})"))
            continue
        except TemplateReadError as exc:
            uses_anchors = "anchor" in str(exc) or "alias" in str(exc)
            if uses_anchors and not explicit and not _looks_like_template(path):
                result.skipped.append((label, "not a CloudFormation template (uses YAML anchors)"))
                continue
            result.errors.append((label, str(exc)))
            continue
        reason = _not_a_template(body)
        if reason is not None:
            if explicit:
                result.errors.append((label, f"not a CloudFormation template: {reason}"))
            else:
                result.skipped.append((label, f"not a CloudFormation template: {reason}"))
            continue
        result.templates.append(Template(path, label, body, len(result.templates)))
    return result


def _looks_like_template(path: Path) -> bool:
    try:
        return bool(_RESOURCES_KEY.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def _not_a_template(body: Any) -> str | None:
    if body is None:
        return "empty file"
    if not isinstance(body, Mapping):
        return f"top level is a {type(body).__name__}, not a mapping"
    if "Resources" not in body:
        return "no Resources mapping"
    if not isinstance(body["Resources"], Mapping):
        return "Resources is not a mapping"
    return None


# -- conditions ----------------------------------------------------------------------------

def _parse_condition(definition: Any, name: str, known: Mapping[str, Any], atoms: list[str],
                     tests: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """A condition as a tree over other conditions and *atoms* (parameter tests, each a free boolean).

    A condition that is one parameter test is itself the atom, so messages name it plainly; a test
    nested in !And/!Or/!Not becomes the atom ``<condition>#<n>``.
    """
    if isinstance(definition, Mapping) and len(definition) == 1:
        (fn, arg), = definition.items()
        if fn == "Condition" and isinstance(arg, str) and arg in known:
            return ("cond", arg)
        if fn in ("Fn::And", "Fn::Or", "Fn::Not"):
            low, high = (1, 1) if fn == "Fn::Not" else (2, 10)
            if not isinstance(arg, list) or not low <= len(arg) <= high:
                wanted = "one condition" if fn == "Fn::Not" else "2 to 10 conditions"
                raise TemplateReadError(f"condition {name}: {fn} takes a list of {wanted}")
            op = {"Fn::And": "and", "Fn::Or": "or", "Fn::Not": "not"}[fn]
            return (op, [_parse_condition(item, name, known, atoms, tests) for item in arg])
    atom = name if not atoms and definition is known.get(name) else f"{name}#{len(atoms) + 1}"
    atoms.append(atom)
    if tests is not None:
        tests[atom] = definition
    return ("atom", atom)


def _under_defaults(value: Any, parameters: Mapping[str, Any]) -> str | None:
    """A condition operand's text when every parameter takes its default, or None when not known."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, Mapping) and set(value) == {"Ref"}:
        spec = parameters.get(value["Ref"]) if isinstance(value["Ref"], str) else None
        if isinstance(spec, Mapping) and "Default" in spec:
            return _under_defaults(spec["Default"], {})
    return None


def _parameters_in(value: Any, parameters: Mapping[str, Any], out: set[str]) -> set[str]:
    if isinstance(value, Mapping):
        ref = value.get("Ref") if len(value) == 1 else None
        if isinstance(ref, str) and ref in parameters:
            out.add(ref)
        for item in value.values():
            _parameters_in(item, parameters, out)
    elif isinstance(value, list):
        for item in value:
            _parameters_in(item, parameters, out)
    return out


def _walk_condition_uses(value: Any, out: set[str]) -> None:
    if isinstance(value, dict):
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Fn::If" and isinstance(arg, list) and arg and isinstance(arg[0], str):
                out.add(arg[0])
            elif key == "Condition" and isinstance(arg, str):
                out.add(arg)
        for v in value.values():
            _walk_condition_uses(v, out)
    elif isinstance(value, list):
        for v in value:
            _walk_condition_uses(v, out)


class _Conditions:
    def __init__(self, template: Template) -> None:
        conds = template.body.get("Conditions")
        self.definitions: Mapping[str, Any] = conds if isinstance(conds, Mapping) else {}
        self.trees: dict[str, tuple[Any, ...]] = {}
        self.tests: dict[str, Any] = {}  # atom -> its parameter test
        for name, definition in self.definitions.items():
            self.trees[name] = _parse_condition(definition, name, self.definitions, [], self.tests)
        params = template.body.get("Parameters")
        self.parameters: Mapping[str, Any] = params if isinstance(params, Mapping) else {}
        self.used = self._used(template) if self.definitions else set()
        self.free_used = self.free_of(self.used)

    @staticmethod
    def _used(template: Template, only: set[str] | None = None) -> set[str]:
        used: set[str] = set()
        for logical_id, body in template.resources.items():
            if isinstance(body, Mapping) and (only is None or logical_id in only):
                if isinstance(body.get("Condition"), str):
                    used.add(body["Condition"])
                _walk_condition_uses(body.get("Properties"), used)
        if only is None:
            _walk_condition_uses(template.body.get("Outputs"), used)
        return used

    def free_of(self, used: set[str]) -> list[str]:
        """The atoms the named conditions depend on."""
        free: set[str] = set()
        seen: set[str] = set()
        stack: list[tuple[Any, ...]] = [self.trees[u] for u in used if u in self.trees]
        while stack:
            node = stack.pop()
            if node[0] == "atom":
                free.add(node[1])
            elif node[0] == "cond":
                if node[1] not in seen:
                    seen.add(node[1])
                    stack.append(self.trees[node[1]])
            else:
                stack.extend(node[1])
        return sorted(free)

    def unpinned(self, free_values: Mapping[str, bool]) -> frozenset[str]:
        """Parameters that cannot hold their default under this assignment: a test that the defaults
        make true (``!Equals [!Ref RoleArn, '']``) is taken false here, so a value other than the
        default is deployed, and the parameter is unknown rather than its default."""
        out: set[str] = set()
        for atom, taken in free_values.items():
            test = self.tests.get(atom)
            if not (isinstance(test, Mapping) and set(test) == {"Fn::Equals"}):
                continue
            operands = test["Fn::Equals"]
            if not isinstance(operands, list) or len(operands) != 2:
                continue
            left, right = (_under_defaults(o, self.parameters) for o in operands)
            if left is not None and right is not None and (left == right) != taken:
                _parameters_in(test, self.parameters, out)
        return frozenset(out)

    def assignment(self, free_values: Mapping[str, bool]) -> dict[str, bool]:
        values: dict[str, bool] = {}
        visiting: set[str] = set()

        def value(node: tuple[Any, ...]) -> bool:
            kind = node[0]
            if kind == "atom":
                return free_values.get(node[1], True)
            if kind == "cond":
                return condition(node[1])
            results = [value(child) for child in node[1]]
            if kind == "and":
                return all(results)
            if kind == "or":
                return any(results)
            return not results[0]

        def condition(name: str) -> bool:
            if name not in values:
                if name in visiting:  # circular definitions: taken as true
                    return True
                visiting.add(name)
                values[name] = value(self.trees[name])
                visiting.discard(name)
            return values[name]

        for name in self.trees:
            condition(name)
        return values


def _assignments(free: list[str]) -> Iterator[tuple[dict[str, bool], bool]]:
    if len(free) <= MAX_EXACT_CONDITIONS:
        for combo in itertools.product((True, False), repeat=len(free)):
            yield dict(zip(free, combo, strict=True)), False
        return
    yield dict.fromkeys(free, True), True
    yield dict.fromkeys(free, False), True
    for name in free:
        yield {n: n != name for n in free}, True
        yield {n: n == name for n in free}, True


# -- resources --------------------------------------------------------------------------------

def _null_path(value: Any, path: str) -> str | None:
    """Where the first null inside a value is, or None."""
    if value is None:
        return path
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None or isinstance(item, (dict, list)):
                found = _null_path(item, f"{path}.{key}")
                if found:
                    return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if item is None or isinstance(item, (dict, list)):
                found = _null_path(item, f"{path}[{index}]")
                if found:
                    return found
    return None


def _nulls_marked(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """CloudFormation rejects a template with a null anywhere ("'null' values are not allowed in
    templates"): a property holding one becomes Malformed, so no rule reads it as absent."""
    out: dict[str, Any] | None = None
    for name, value in props.items():
        if value is None or isinstance(value, (dict, list)):
            where = _null_path(value, name)
            if where is not None:
                out = dict(props) if out is None else out
                out[name] = Malformed(name, f"{where} is null (CloudFormation rejects null values)")
    return props if out is None else out


def _suppressions(body: Mapping[str, Any]) -> tuple[tuple[InlineSuppression, ...], list[str]]:
    meta = body.get("Metadata")
    if not isinstance(meta, Mapping):
        return (), []
    section = meta.get("sagefence")
    if not isinstance(section, Mapping):
        return (), []
    entries = section.get("suppress", [])
    out: list[InlineSuppression] = []
    problems: list[str] = []
    if not isinstance(entries, list):
        return (), ["Metadata.sagefence.suppress is not a list"]
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("rule"), str):
            problems.append(f"Metadata.sagefence.suppress[{i}] needs a 'rule'")
            continue
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"Metadata.sagefence.suppress[{i}] ({entry['rule']}) has no reason; "
                            "a suppression without a reason is not applied")
            continue
        expires = _expiry(entry.get("expires"))
        if isinstance(expires, str):
            problems.append(f"Metadata.sagefence.suppress[{i}] ({entry['rule']}): {expires}; "
                            "the suppression is not applied")
            continue
        out.append(InlineSuppression(entry["rule"], reason.strip(), expires))
    return tuple(out), problems


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _expiry(value: Any) -> date | str | None:
    """An inline suppression's expiry as a date, or the problem with it (a date compared as text would let
    '31/12/2020' or 'never' suppress forever)."""
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    return f"expires {value!r} is not a date (YYYY-MM-DD, ISO 8601)"


def _exports(template: Template, resolver: Resolver) -> dict[str, Any]:
    outputs = template.body.get("Outputs")
    exports: dict[str, Any] = {}
    if not isinstance(outputs, Mapping):
        return exports
    for output in outputs.values():
        if not isinstance(output, Mapping) or not isinstance(output.get("Export"), Mapping):
            continue
        if isinstance(output.get("Condition"), str) and not resolver.conditions.get(output["Condition"], True):
            continue
        try:
            name = resolver.resolve(output["Export"].get("Name"))
            value = resolver.resolve(output.get("Value"))
        except IntrinsicError:
            continue
        if isinstance(name, str):
            exports[name] = value
    return exports


def _name_resolver(template: Template, account_id: str, region: str) -> Resolver:
    """Export and import names are resolved with parameter defaults and every condition true."""
    conds = template.body.get("Conditions")
    names = conds if isinstance(conds, Mapping) else {}
    return Resolver(template.body, account_id=account_id, region=region, conditions=dict.fromkeys(names, True),
                    exports={}, stack=template.label)


def _name_text(resolver: Resolver, value: Any) -> str | None:
    try:
        name = resolver.resolve(value)
    except IntrinsicError:
        return None
    return name if isinstance(name, str) and not is_opaque(name) else None


def _export_names(template: Template, resolver: Resolver) -> set[str]:
    outputs = template.body.get("Outputs")
    names: set[str] = set()
    if isinstance(outputs, Mapping):
        for output in outputs.values():
            export = output.get("Export") if isinstance(output, Mapping) else None
            name = _name_text(resolver, export.get("Name")) if isinstance(export, Mapping) else None
            if name is not None:
                names.add(name)
    return names


def _imports(template: Template, resolver: Resolver) -> set[str]:
    found: set[str] = set()
    if not getattr(template.resources, "mentions_import", True):
        return found
    stack: list[Any] = [template.resources]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if len(value) == 1 and "Fn::ImportValue" in value:
                name = _name_text(resolver, value["Fn::ImportValue"])
                if name is not None:
                    found.add(name)
            stack.extend(v for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend(v for v in value if isinstance(v, (dict, list)))
    return found


def group_templates(templates: Sequence[Template], account_id: str = "123456789012",
                    region: str = "us-east-1") -> list[list[Template]]:
    """Templates linked by an ImportValue of an export another one defines (names resolved with defaults)."""
    resolvers = {t.index: _name_resolver(t, account_id, region) for t in templates}
    exporter: dict[str, int] = {}
    for t in templates:
        for name in _export_names(t, resolvers[t.index]):
            exporter.setdefault(name, t.index)
    parent = list(range(len(templates)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for t in templates if exporter else ():
        for name in _imports(t, resolvers[t.index]):
            if name in exporter:
                parent[find(t.index)] = find(exporter[name])
    groups: dict[int, list[Template]] = {}
    for t in templates:
        groups.setdefault(find(t.index), []).append(t)
    return list(groups.values())


def _resolve_resources(template: Template, resolver: Resolver, account_id: str, region: str,
                       only: set[str] | None = None) -> Iterator[RawResource]:
    for logical_id, body in template.resources.items():
        if only is not None and logical_id not in only:
            continue
        line = template.line_of(logical_id)
        common: dict[str, Any] = dict(id=str(logical_id), source=SourceKind.TEMPLATES, account=account_id,
                                      region=region, file=template.label, line=line)
        if not isinstance(body, Mapping) or not isinstance(body.get("Type"), str):
            yield RawResource(type="Unknown", properties={}, extra={"broken": "resource has no Type"}, **common)
            continue
        rtype = body["Type"]
        cond = body.get("Condition")
        try:
            if isinstance(cond, str) and not resolver.condition(cond):
                continue
            props = body.get("Properties", {})
            props = resolver.resolve(props) if props is not None else {}
            if not isinstance(props, Mapping):
                raise IntrinsicError("Properties is not a mapping")
            props = _nulls_marked(props)
            ref = resolver.resolve({"Ref": logical_id})
            arn = resolver.arn_of(logical_id)
        except IntrinsicError as exc:
            yield RawResource(type=rtype, properties={}, extra={"broken": f"line {line}: {exc}"}, **common)
            continue
        except UNEXPECTED_SHAPE as exc:
            # a shape nothing above expected: this resource is an error, the rest of the scan goes on
            broken = f"line {line}: could not be resolved ({type(exc).__name__}: {str(exc)[:200]})"
            yield RawResource(type=rtype, properties={}, extra={"broken": broken}, **common)
            continue
        suppressions, problems = _suppressions(body)
        extra: dict[str, Any] = {"ref": ref if ref is not NO_VALUE else None, "template": template.label}
        if problems:
            extra["suppression_problems"] = tuple(problems)
        if isinstance(ref, RefToken):
            extra["ref_token"] = ref
        yield RawResource(type=rtype, properties=props, arn=str(arn) if arn else None,
                          suppressions=suppressions, extra=extra, **common)


def _scopes(group: Sequence[Template]) -> dict[int, str]:
    """A readable, unique placeholder scope per template of a group: its file stem (plus index on a clash)."""
    stems = [t.path.stem for t in group]
    return {t.index: t.path.stem if stems.count(t.path.stem) == 1 else f"{t.path.stem}{t.index}" for t in group}


_SUB_NAMES = re.compile(r"\$\{([A-Za-z0-9]+)")


def _references(body: Any, names: Mapping[str, Any]) -> set[str]:
    """Logical ids a resource body refers to (Ref, GetAtt, ${X} in Sub, DependsOn)."""
    found: set[str] = set()
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, arg in value.items():
                if key == "Ref" and isinstance(arg, str):
                    found.add(arg)
                elif key == "Fn::GetAtt" and isinstance(arg, list) and arg and isinstance(arg[0], str):
                    found.add(arg[0])
                elif key == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) and arg else arg
                    if isinstance(text, str):
                        found.update(_SUB_NAMES.findall(text))
                elif key == "DependsOn":
                    found.update(a for a in (arg if isinstance(arg, list) else [arg]) if isinstance(a, str))
                stack.append(arg)
        elif isinstance(value, list):
            stack.extend(value)
    return {name for name in found if name in names}


_NAME_PROPERTIES = ("BucketName", "RoleName", "ManagedPolicyName", "NotebookInstanceName", "ModelName",
                    "AliasName", "DomainName", "NotebookInstanceLifecycleConfigName")


def _string_leaves(body: Any) -> Iterator[str]:
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _group_components(group: Sequence[Template], resolvers: Mapping[int, Resolver]) -> list[dict[int, set[str]]]:
    """Resources of a group connected by Ref/GetAtt/Sub/DependsOn, by a literal name or ARN naming another
    resource, or by an ImportValue of an export built from another resource: the conditions that bear on
    one evaluation stay within one component."""
    nodes = [(t.index, lid) for t in group for lid in t.resources]
    parent = {node: node for node in nodes}

    def find(node: tuple[int, str]) -> tuple[int, str]:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def link(a: tuple[int, str], b: tuple[int, str]) -> None:
        parent[find(a)] = find(b)

    names: dict[str, tuple[int, str]] = {}
    exported: dict[str, list[tuple[int, str]]] = {}
    for t in group:
        for lid, body in t.resources.items():
            props = body.get("Properties") if isinstance(body, Mapping) else None
            for prop in _NAME_PROPERTIES:
                value = props.get(prop) if isinstance(props, Mapping) else None
                if isinstance(value, str):
                    names.setdefault(value, (t.index, lid))
        outputs = t.body.get("Outputs")
        for output in outputs.values() if isinstance(outputs, Mapping) else ():
            export = output.get("Export") if isinstance(output, Mapping) else None
            name = _name_text(resolvers[t.index], export.get("Name")) if isinstance(export, Mapping) else None
            if name is not None:
                refs = _references(output.get("Value"), t.resources)
                exported.setdefault(name, []).extend((t.index, r) for r in refs)
    for t in group:
        for lid, body in t.resources.items():
            node = (t.index, lid)
            for other in _references(body, t.resources):
                link(node, (t.index, other))
            for leaf in _string_leaves(body):
                target = names.get(leaf) or (names.get(re.split(r"[:/]", leaf)[-1]) if leaf.startswith("arn:") else None)
                if target is not None:
                    link(node, target)
            for name in _imports(Template(t.path, t.label, {"Resources": {lid: body}}, t.index), resolvers[t.index]):
                for target in exported.get(name, ()):
                    link(node, target)
    components: dict[tuple[int, str], dict[int, set[str]]] = {}
    for node in nodes:
        components.setdefault(find(node), {}).setdefault(node[0], set()).add(node[1])
    return list(components.values())


def _resolve_group(group: Sequence[Template], conds: Mapping[int, _Conditions], free_values: Mapping[str, bool],
                   label: Callable[[int, str], str], scopes: Mapping[int, str], *, account_id: str, region: str,
                   only: Mapping[int, set[str]] | None = None) -> tuple[RawResource, ...]:
    many = len(group) > 1
    exports: dict[str, Any] = {}
    resources: list[RawResource] = []
    for _ in range(2 if many else 1):  # a second pass lets an exporter listed later feed an importer
        resources = []
        for t in group:
            per_template = {n: free_values.get(label(t.index, n), True) for n in conds[t.index].free_used}
            resolver = Resolver(t.body, account_id=account_id, region=region,
                                conditions=conds[t.index].assignment(per_template), exports=exports,
                                scope=scopes.get(t.index), stack=t.label,
                                unpinned=conds[t.index].unpinned(per_template))
            if only is None or t.index in only:
                resources.extend(_resolve_resources(t, resolver, account_id, region,
                                                    None if only is None else only[t.index]))
            if many:
                exports.update(_exports(t, resolver))
    return tuple(resources)


def variants(group: Sequence[Template], *, account_id: str, region: str) -> Iterable[Variant]:
    """Every assignment of the conditions bearing on the group, with the resources under it.

    Up to 12 conditions: every assignment of all of them. Above: each component of connected resources
    is enumerated over the conditions that bear on it, exactly while those are at most 12.
    """
    conds = {t.index: _Conditions(t) for t in group}
    many = len(group) > 1
    by_index = {t.index: t for t in group}

    def label(index: int, name: str) -> str:
        return f"{by_index[index].label}:{name}" if many else name

    scopes = _scopes(group) if many else {}
    names = [label(t.index, n) for t in group for n in conds[t.index].free_used]
    if len(names) <= MAX_EXACT_CONDITIONS:
        for free_values, independent in _assignments(names):
            resources = _resolve_group(group, conds, free_values, label, scopes, account_id=account_id, region=region)
            yield Variant(free_values, resources, independent)
        return
    resolvers = {t.index: _name_resolver(t, account_id, region) for t in group}
    for component in _group_components(group, resolvers):
        bearing = sorted(dict.fromkeys(
            label(i, n) for i, lids in component.items()
            for n in conds[i].free_of(_Conditions._used(by_index[i], lids))))
        for free_values, independent in _assignments(bearing):
            resources = _resolve_group(group, conds, free_values, label, scopes, account_id=account_id,
                                       region=region, only=component)
            yield Variant(free_values, resources, independent)
