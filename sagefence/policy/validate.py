"""What IAM rejects in a policy document, checked once when it is parsed.

A document AWS would refuse cannot be in force, so evaluating it as if it were (an ill-formed
condition that simply never matches, a Deny silently dropped) would let a verdict rest on a
policy nobody can deploy: `parse_policy` raises `PolicyError` instead, naming the statement,
the element and the bad value.

Unknown values are never malformed: an opaque template token (⟨…⟩) or a policy variable
(``${aws:username}``) may stand anywhere a value is expected.

The readers (`number`, `date`, `network`, `ip`, `binary`, `boolean`) are shared with the
condition evaluator, which applies them to request values.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from sagefence.values import is_opaque

from .model import PolicyError

VERSIONS = ("2012-10-17", "2008-10-17")
# IAM's own policies (identity, boundary) take only these Sid characters (IAM User Guide, "Sid").
_SID = re.compile(r"^[A-Za-z0-9]*$")
_SID_KINDS = frozenset({"identity", "boundary"})
_ACTION = re.compile(r"^[A-Za-z0-9*?_-]+:[A-Za-z0-9*?_-]+$")
_ACCOUNT = re.compile(r"^\d{12}$")
_AWS_PRINCIPAL = re.compile(
    r"^arn:aws[a-z-]*:(?:iam::(?:\d{12}|cloudfront):(?:root|user/.+|role/.+)"
    r"|sts::\d{12}:(?:assumed-role/[^/]+/.+|federated-user/.+))$"
)
# IAM shows a deleted user or role named in a policy by its unique id (AIDA…, AROA…).
_UNIQUE_ID = re.compile(r"^A(?:IDA|ROA)[A-Z0-9]{12,}$")
_SERVICE = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")


class Malformed(Exception):
    """A value that the operator cannot read."""


def number(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise Malformed(text) from None
    if not value.is_finite():
        raise Malformed(text)
    return value


def date(text: str) -> float:
    """Seconds since the epoch: an epoch number or a W3C ISO 8601 date/time (UTC when no zone)."""
    text = text.strip()
    try:
        return float(number(text))
    except Malformed:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Malformed(text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise Malformed(text) from None


def network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise Malformed(text) from None


def binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed(text) from None


def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise Malformed(text)
    return lowered == "true"


def _arn_pattern(text: str) -> str:
    """An ARN (six colon-separated parts) or a pattern IAM accepts for one (``*``, ``arn:…*``)."""
    if text == "*" or text.startswith("arn:") and (text.count(":") >= 5 or text.endswith("*")):
        return text
    raise Malformed(text)


def _reader(base: str) -> tuple[Callable[[str], object], str] | None:
    """The reader a condition operator applies to its policy values, and what it expects."""
    if base.startswith("Numeric"):
        return number, "a number"
    if base.startswith("Date"):
        return date, "a date (ISO 8601 or epoch seconds)"
    if base.startswith("Arn"):
        return _arn_pattern, "an ARN"
    readers: dict[str, tuple[Callable[[str], object], str]] = {
        "IpAddress": (network, "an IP address or CIDR block"),
        "Bool": (boolean, "true or false"),
        "Null": (boolean, "true or false"),
        "BinaryEquals": (binary, "base64 text"),
    }
    return readers.get(base)


def unknown(value: str) -> bool:
    """A value not known before deployment or evaluation: an opaque token or a policy variable."""
    return is_opaque(value) or "${" in value


def condition_values(base: str, values: Sequence[str], where: str, operator: str, key: str) -> None:
    """Raise PolicyError for a condition value that `operator` cannot read."""
    found = _reader(base)
    if found is None:
        return
    reader, expected = found
    for value in values:
        if unknown(value):
            continue
        try:
            reader(value)
        except Malformed:
            raise PolicyError(
                f"{where}: condition {operator} {key!r} has the value {value!r}, which is not {expected}"
            ) from None


def version(value: object, source: str) -> None:
    if value is None or isinstance(value, str) and (value in VERSIONS or is_opaque(value)):
        return
    raise PolicyError(f"{source}: Version must be {' or '.join(VERSIONS)}, not {value!r}")


def sids(raw_sids: Sequence[object], kind: str, source: str) -> None:
    """IAM's own policies take Sids of ASCII letters and digits, each used once."""
    if kind not in _SID_KINDS:
        return
    seen: set[str] = set()
    for index, sid in enumerate(raw_sids):
        if sid is None or isinstance(sid, str) and is_opaque(sid):
            continue
        if not isinstance(sid, str) or not _SID.match(sid):
            raise PolicyError(
                f"statement {index + 1} of {source}: Sid {sid!r} may hold only ASCII letters and digits "
                f"in an IAM {kind} policy"
            )
        if sid and sid in seen:
            raise PolicyError(f"statement {index + 1} of {source}: Sid {sid!r} is used by another statement")
        seen.add(sid)


def actions(values: Sequence[str], element: str, where: str) -> None:
    if not values:
        raise PolicyError(f"{where}: {element} is an empty list")
    for value in values:
        if value != "*" and not unknown(value) and not _ACTION.match(value):
            raise PolicyError(
                f'{where}: {element} {value!r} is not "*" or service:action (a service prefix, a colon and a name)'
            )


def resources(values: Sequence[str], element: str, where: str) -> None:
    if not values:
        raise PolicyError(f"{where}: {element} is an empty list")
    for value in values:
        if value == "*" or unknown(value):
            continue
        if not value.startswith("arn:") or value.count(":") < 5 and not value.endswith("*"):
            raise PolicyError(f'{where}: {element} {value!r} is neither "*" nor an ARN (arn:partition:service:...)')


def principal(key: str, value: str, element: str, where: str) -> None:
    """Raise PolicyError for an AWS principal that is not ``*``, an account id or an IAM/STS ARN,
    or a Service principal that is not a service name."""
    if is_opaque(value):
        return
    if key == "AWS":
        if value == "*" or _ACCOUNT.match(value) or _UNIQUE_ID.match(value):
            return
        if _AWS_PRINCIPAL.match(value) and not any(c in value for c in "*?"):
            return
        raise PolicyError(
            f'{where}: {element} AWS {value!r} is not "*", a 12-digit account id, an IAM user, role, '
            "root or STS session ARN, or the unique id of a deleted user or role"
        )
    if key == "Service" and not _SERVICE.match(value):
        raise PolicyError(f"{where}: {element} Service {value!r} is not a service name (e.g. sagemaker.amazonaws.com)")
    if not value:
        raise PolicyError(f"{where}: {element} {key} is empty")
