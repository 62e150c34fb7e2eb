"""The rule catalogue: rule YAML files validated into frozen models at start.

A rule is data (id, title, severity, scope, remediation, ...) plus either a
``check: module.function`` naming a small function under ``sagefence.checks`` (or a
user module) or a JMESPath ``assert:`` evaluated over the CloudFormation-shaped
properties. Nothing is imported here: check modules are imported only for the rules a
scan selects (see engine.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sagefence.status import Severity, SourceKind

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*-[0-9]{3}$")
BUILTIN_RULES_DIR = Path(__file__).parent / "rules"


class CatalogueError(Exception):
    """A rule file that cannot be used; the message names the file and the key."""


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    severity: Severity
    family: str
    resource_types: tuple[str, ...]
    depends_on: tuple[str, ...] = ()  # other types a rule reads: a failed listing of them is an error too
    sources: tuple[SourceKind, ...] = (SourceKind.TEMPLATES, SourceKind.ACCOUNT)
    description: str
    risk: str = ""
    remediation: str
    references: tuple[str, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)
    simulated: bool = False
    whole_scan: bool = False  # reads roles of every template (IAM-003/004): evaluated after all templates
    decisions: tuple[str, ...] = ()  # where the spec was silent or ambiguous: what we chose and why
    check: str | None = None
    assert_: str | None = Field(default=None, alias="assert")
    assert_message: str | None = None
    file: str = ""

    @model_validator(mode="after")
    def _one_kind_of_logic(self) -> Rule:
        if not RULE_ID.match(self.id):
            raise ValueError(f"id {self.id!r} is not of the form FAMILY-NNN")
        if (self.check is None) == (self.assert_ is None):
            raise ValueError("a rule needs exactly one of 'check' or 'assert'")
        if self.check is not None and not re.match(r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$", self.check):
            raise ValueError(f"check {self.check!r} is not of the form module.function")
        if self.assert_ is not None:
            import jmespath
            from jmespath.exceptions import JMESPathError

            try:
                jmespath.compile(self.assert_)
            except JMESPathError as exc:
                raise ValueError(f"assert is not a valid JMESPath expression: {exc}") from exc
        return self


def _load_file(path: Path) -> list[Rule]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read rule file: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise CatalogueError(f"{path}: a rule file is a mapping with a 'rules' list")
    family = data.get("family")
    rules = []
    for index, entry in enumerate(data["rules"]):
        if not isinstance(entry, dict):
            raise CatalogueError(f"{path}: rules[{index}]: not a mapping")
        entry = {"family": family, **entry, "file": str(path)}
        try:
            rules.append(Rule.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            where = f"rules[{index}]" + (f".{loc}" if loc else "")
            raise CatalogueError(f"{path}: {where} ({entry.get('id', '?')}): {first['msg']}") from exc
    return rules


def load_catalogue(extra_dirs: Iterable[Path] = ()) -> dict[str, Rule]:
    """Load the built-in rules and any user rule folders; ids must be unique."""
    rules: dict[str, Rule] = {}
    dirs = [BUILTIN_RULES_DIR, *extra_dirs]
    for folder in dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise CatalogueError(f"{folder}: rules folder does not exist")
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            for rule in _load_file(path):
                if rule.id in rules:
                    raise CatalogueError(f"{path}: rule {rule.id} is already defined in {rules[rule.id].file}")
                rules[rule.id] = rule
    return rules
