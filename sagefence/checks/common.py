"""Small readers shared by several check modules."""

from __future__ import annotations

import re
from typing import Any

from sagefence.values import is_opaque, require

_SERVICE = re.compile(r"^(?:com\.amazonaws\.[a-z0-9-]+\.(?P<svc>.+)|aws\.sagemaker\.[a-z0-9-]+\.(?P<sm>.+))$")


def service_short_name(service_name: Any) -> str | None:
    """'com.amazonaws.us-east-1.sagemaker.api' -> 'sagemaker.api'; 'aws.sagemaker.<r>.studio' -> 'sagemaker.studio'."""
    if not isinstance(service_name, str) or is_opaque(service_name):
        return None
    match = _SERVICE.match(service_name.strip())
    if not match:
        return None
    return match.group("svc") or f"sagemaker.{match.group('sm')}"


def truthy(value: Any, what: str) -> bool:
    """CloudFormation booleans: true/false, 'true'/'false' in any case."""
    value = require(value, what)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"{what} is {value!r}, not a boolean")


def setting(value: Any, what: str) -> str:
    value = require(value, what)
    return str(value)
