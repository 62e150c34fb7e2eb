"""sagefence.yaml: the configuration schema of config.md.

Plain frozen dataclasses, so a scan with no config file (or only reading the defaults)
never imports pydantic (start-up time). A config file is validated by pydantic, imported
lazily in ``parse_config``: it validates these stdlib dataclasses as they are, reading
``__pydantic_config__`` for extra="forbid" and the ``_Before``/``_After`` markers in the
field annotations for the account id, region and suppression reason checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml

from sagefence.boundary import EXTRA, FORBID, Invalid, validate
from sagefence.status import Severity

CONFIG_NAMES = ("sagefence.yaml", ".sagefence.yaml")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


class ConfigError(Exception):
    """An unusable config: one line naming the file and the key path (exit 2)."""


class _Before:
    """Annotation marker: pydantic runs ``func`` on the raw value before the type check."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(self.func, handler(source))


class _After(_Before):
    """Annotation marker: pydantic runs ``func`` on the value once it has the field's type."""

    __slots__ = ()

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.func, handler(source))


def _account(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:012d}"
    if not isinstance(value, str) or not _ACCOUNT.match(value):
        raise ValueError(f"{value!r} is not a 12-digit account id")
    return value


def _region(value: str) -> str:
    if not _REGION.match(value):
        raise ValueError(f"{value!r} is not an AWS region name")
    return value


def _reason(value: str) -> str:
    if not value.strip():
        raise ValueError("a suppression needs a reason")
    return value.strip()


_AccountId = Annotated[str, _Before(_account)]
_Region = Annotated[str, _After(_region)]
_Reason = Annotated[str, _After(_reason)]


@dataclass(frozen=True, slots=True, kw_only=True)
class PassRoleExpectation:
    __pydantic_config__ = FORBID

    deployer: str
    role: str
    service: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectations:
    __pydantic_config__ = FORBID

    passrole: tuple[PassRoleExpectation, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    __pydantic_config__ = FORBID

    buckets: tuple[str, ...] = ("*",)
    vpcs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleOverride:
    __pydantic_config__ = FORBID

    enabled: bool = True
    severity: Severity | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SuppressionRule:
    __pydantic_config__ = FORBID

    rule: str
    resource: str = "*"
    reason: _Reason
    expires: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlatformEntry:
    __pydantic_config__ = FORBID

    end_of_support: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    __pydantic_config__ = FORBID

    target_platform: str = "notebook-al2023-v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    __pydantic_config__ = FORBID

    account_id: _AccountId = "123456789012"
    region: _Region = "us-east-1"
    required_endpoints: tuple[str, ...] | None = None
    trusted_accounts: tuple[_AccountId, ...] = ()
    principals: tuple[str, ...] = ()
    scope: Scope = Scope()
    expectations: Expectations = Expectations()
    rules: dict[str, RuleOverride] = field(default_factory=dict)
    suppressions: tuple[SuppressionRule, ...] = ()
    platforms: dict[str, PlatformEntry] = field(default_factory=dict)
    migration: Migration = Migration()


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_config(data: Any, label: str, known_rules: set[str] | None = None) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: the top level must be a mapping")
    try:
        config = validate(Config, data)
    except Invalid as exc:
        message = "unknown key" if exc.kind == EXTRA else exc.message
        raise ConfigError(f"{label}: {_location(exc.loc)}: {message}") from exc
    if known_rules is not None:
        for rule_id in config.rules:
            if rule_id not in known_rules:
                raise ConfigError(f"{label}: rules.{rule_id}: unknown rule id")
        for i, sup in enumerate(config.suppressions):
            if sup.rule not in known_rules:
                raise ConfigError(f"{label}: suppressions[{i}].rule: unknown rule id {sup.rule!r}")
    return config


def load_config(path: str | None, known_rules: set[str] | None = None, cwd: Path | None = None) -> tuple[Config, str | None]:
    """The config named with --config, else sagefence.yaml / .sagefence.yaml in the current folder."""
    if path is None:
        folder = cwd or Path.cwd()
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                path = name if cwd is None else str(folder / name)
                break
        else:
            return Config(), None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(f"{path}: {where}malformed YAML: {getattr(exc, 'problem', exc)}") from exc
    return parse_config(data, path, known_rules), path
