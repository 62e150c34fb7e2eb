"""sagefence.yaml: the configuration schema of config.md as a pydantic model."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sagefence.status import Severity

CONFIG_NAMES = ("sagefence.yaml", ".sagefence.yaml")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


class ConfigError(Exception):
    """An unusable config: one line naming the file and the key path (exit 2)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _account(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:012d}"
    if not isinstance(value, str) or not _ACCOUNT.match(value):
        raise ValueError(f"{value!r} is not a 12-digit account id")
    return value


class PassRoleExpectation(_Strict):
    deployer: str
    role: str
    service: str


class Expectations(_Strict):
    passrole: tuple[PassRoleExpectation, ...] = ()


class Scope(_Strict):
    buckets: tuple[str, ...] = ("*",)
    vpcs: tuple[str, ...] = ()


class RuleOverride(_Strict):
    enabled: bool = True
    severity: Severity | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class SuppressionRule(_Strict):
    rule: str
    resource: str = "*"
    reason: str
    expires: date | None = None

    @field_validator("reason")
    @classmethod
    def _reason_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a suppression needs a reason")
        return value.strip()


class PlatformEntry(_Strict):
    end_of_support: date | None = None


class Migration(_Strict):
    target_platform: str = "notebook-al2023-v1"


class Config(_Strict):
    account_id: str = "123456789012"
    region: str = "us-east-1"
    required_endpoints: tuple[str, ...] | None = None
    trusted_accounts: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    scope: Scope = Scope()
    expectations: Expectations = Expectations()
    rules: dict[str, RuleOverride] = Field(default_factory=dict)
    suppressions: tuple[SuppressionRule, ...] = ()
    platforms: dict[str, PlatformEntry] = Field(default_factory=dict)
    migration: Migration = Migration()

    _check_account = field_validator("account_id", mode="before")(classmethod(lambda cls, v: _account(v)))

    @field_validator("trusted_accounts", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [_account(v) for v in value]

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError(f"{value!r} is not an AWS region name")
        return value


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _trusted_account_error(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """pydantic reports a list validator's failure on the list; name the bad element instead."""
    if loc == ("trusted_accounts",) and isinstance(data, dict):
        for i, value in enumerate(data.get("trusted_accounts") or []):
            try:
                _account(value)
            except ValueError:
                return ("trusted_accounts", i)
    return loc


def parse_config(data: Any, label: str, known_rules: set[str] | None = None) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: the top level must be a mapping")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = _trusted_account_error(tuple(error["loc"]), data)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        raise ConfigError(f"{label}: {_location(loc)}: {message}") from exc
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
