"""The small enums every layer shares: severity, status, source kind."""

from __future__ import annotations

from enum import Enum


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}

SEVERITIES: tuple[Severity, ...] = tuple(Severity)


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    UNKNOWN = "unknown"


class SourceKind(str, Enum):
    TEMPLATES = "templates"
    ACCOUNT = "account"


class ExitStatus(int, Enum):
    OK = 0
    FAILURES = 1
    USAGE = 2
    INCOMPLETE = 3
