"""The rule catalogue: rule YAML files validated into frozen rules at start.

A rule is data (id, title, severity, scope, remediation, ...) plus either a
``check: module.function`` naming a small function under ``sagefence.checks`` (or a
user module) or a JMESPath ``assert:`` evaluated over the CloudFormation-shaped
properties. Nothing is imported here: check modules are imported only for the rules a
scan selects (see engine.py).

Validation is pydantic's, over the ``Rule`` dataclass. The built-in files were validated
when ``rules/validated.sha256`` was written (``python -m sagefence.catalogue``; a test
keeps it current): while their bytes still hash to it they are built without importing
pydantic, which is most of a small scan's start-up. Any other rule file, and built-in
files that changed, go through pydantic every time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sagefence.boundary import FORBID, Invalid, validate
from sagefence.status import Severity, SourceKind

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*-[0-9]{3}$")
CHECK_NAME = re.compile(r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")
BUILTIN_RULES_DIR = Path(__file__).parent / "rules"
VALIDATED_DIGEST = BUILTIN_RULES_DIR / "validated.sha256"


class CatalogueError(Exception):
    """A rule file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Rule:
    __pydantic_config__ = FORBID

    id: str
    title: str
    severity: Severity
    family: str
    resource_types: tuple[str, ...]
    description: str
    remediation: str
    depends_on: tuple[str, ...] = ()  # other types a rule reads: a failed listing of them is an error too
    sources: tuple[SourceKind, ...] = (SourceKind.TEMPLATES, SourceKind.ACCOUNT)
    risk: str = ""
    references: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False
    whole_scan: bool = False  # reads roles of every template (IAM-003/004): evaluated after all templates
    decisions: tuple[str, ...] = ()  # where the spec was silent or ambiguous: what we chose and why
    check: str | None = None
    assert_: str | None = None  # "assert" in the YAML
    assert_message: str | None = None
    file: str = ""


def _logic_problem(rule: Rule) -> str | None:
    """What pydantic's types cannot say: the id form, and exactly one well-formed check or assert."""
    if not RULE_ID.match(rule.id):
        return f"id {rule.id!r} is not of the form FAMILY-NNN"
    if (rule.check is None) == (rule.assert_ is None):
        return "a rule needs exactly one of 'check' or 'assert'"
    if rule.check is not None and not CHECK_NAME.match(rule.check):
        return f"check {rule.check!r} is not of the form module.function"
    if rule.assert_ is not None:
        import jmespath
        from jmespath.exceptions import JMESPathError

        try:
            jmespath.compile(rule.assert_)
        except JMESPathError as exc:
            return f"assert is not a valid JMESPath expression: {exc}"
    return None


def _validated(entry: dict[str, Any], where: str) -> Rule:
    try:
        rule = validate(Rule, entry)
    except Invalid as exc:
        loc = ".".join("assert" if p == "assert_" else str(p) for p in exc.loc)
        raise CatalogueError(f"{where}" + (f".{loc}" if loc else "") + f" ({entry.get('id', '?')}): {exc.message}") from exc
    problem = _logic_problem(rule)
    if problem:
        raise CatalogueError(f"{where} ({rule.id}): {problem}")
    return rule


def _trusted(entry: dict[str, Any]) -> Rule:
    """A built-in rule whose file is byte-identical to the validated one: only the types pydantic would coerce."""
    values = dict(entry)
    values["severity"] = Severity(values["severity"])
    if "sources" in values:
        values["sources"] = tuple(SourceKind(s) for s in values["sources"])
    for name in ("resource_types", "depends_on", "references", "decisions"):
        if name in values:
            values[name] = tuple(values[name])
    return Rule(**values)


def _entries(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: cannot read rule file: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise CatalogueError(f"{path}: a rule file is a mapping with a 'rules' list")
    family = data.get("family")
    entries = []
    for index, entry in enumerate(data["rules"]):
        if not isinstance(entry, dict):
            raise CatalogueError(f"{path}: rules[{index}]: not a mapping")
        entry = {"family": family, **entry, "file": str(path)}
        if "assert" in entry:
            entry["assert_"] = entry.pop("assert")
        entries.append(entry)
    return entries


def _rule_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CatalogueError(f"{folder}: rules folder does not exist")
    return sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read rule file: {exc}") from exc


def digest(files: dict[Path, bytes]) -> str:
    """Of the built-in rule files: names and bytes, in order."""
    h = hashlib.sha256()
    for path, data in files.items():
        h.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def _builtin_is_validated(files: dict[Path, bytes]) -> bool:
    try:
        recorded = VALIDATED_DIGEST.read_text(encoding="ascii").strip()
    except OSError:
        return False
    return recorded == digest(files)


def load_catalogue(extra_dirs: Iterable[Path] = (), *, revalidate: bool = False) -> dict[str, Rule]:
    """Load the built-in rules and any user rule folders; ids must be unique."""
    rules: dict[str, Rule] = {}
    for number, folder in enumerate([BUILTIN_RULES_DIR, *map(Path, extra_dirs)]):
        files = {path: _read(path) for path in _rule_files(folder)}
        trusted = number == 0 and not revalidate and _builtin_is_validated(files)
        for path, data in files.items():
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CatalogueError(f"{path}: cannot read rule file: {exc}") from exc
            for index, entry in enumerate(_entries(path, text)):
                rule = _trusted(entry) if trusted else _validated(entry, f"{path}: rules[{index}]")
                if rule.id in rules:
                    raise CatalogueError(f"{path}: rule {rule.id} is already defined in {rules[rule.id].file}")
                rules[rule.id] = rule
    return rules


def write_validated_digest() -> str:
    """Validate the built-in rules with pydantic and record their digest (run after editing a rule file)."""
    load_catalogue(revalidate=True)
    value = digest({path: _read(path) for path in _rule_files(BUILTIN_RULES_DIR)})
    VALIDATED_DIGEST.write_text(value + "\n", encoding="ascii")
    return value


if __name__ == "__main__":
    print(f"{VALIDATED_DIGEST}: {write_validated_digest()}")
