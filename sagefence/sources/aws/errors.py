"""Which failures a collector may catch, and how they are described.

Only botocore's ``ClientError`` (retries exhausted included: botocore raises the last
error), connection failures and timeouts are caught; anything else is a bug and propagates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from sagefence.inventory.raw import ListingFailure, RawResource
from sagefence.values import ReadError

READ_ERRORS = (ClientError, EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)

_DENIED = frozenset(
    {
        "accessdenied",
        "accessdeniedexception",
        "unauthorizedoperation",
        "unauthorizedaccess",
        "authorizationerror",
        "forbidden",
        "403",
    }
)

SCANNER_DENIED_HINT = (
    "the resource's own policy may deny the scanner (a DenyNoVPC read from outside the VPC): "
    "run the scan from inside the VPC through its endpoints, or exempt the scanner role "
    "with an aws:PrincipalArn condition"
)

T = TypeVar("T")


def error_code(err: BaseException) -> str:
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code") or "Unknown")
    return type(err).__name__


def is_access_denied(err: BaseException) -> bool:
    if not isinstance(err, ClientError):
        return False
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 403 or error_code(err).lower() in _DENIED


def describe(operation: str, err: BaseException) -> str:
    """``"sagemaker.ListNotebookInstances: AccessDenied: ..."``, retries noted when exhausted."""
    if isinstance(err, ClientError):
        text = err.response.get("Error", {}).get("Message") or ""
        meta = err.response.get("ResponseMetadata", {})
        if meta.get("MaxAttemptsReached"):
            text = f"{text} (gave up after {meta.get('RetryAttempts', 0) + 1} attempts)".strip()
    else:
        text = str(err)
    return f"{operation}: {error_code(err)}: {text}".rstrip(": ")


def read_field(call: Callable[[], T], operation: str, *, policy_guarded: bool = False) -> T | ReadError:
    """One per-resource read: its answer, or a ReadError (with the scanner-denied hint when
    the resource's own policy may be the cause)."""
    try:
        return call()
    except READ_ERRORS as err:
        return _read_error(operation, err, policy_guarded)


def read_optional(
    call: Callable[[], T], operation: str, absent: frozenset[str], *, policy_guarded: bool = False
) -> T | ReadError | None:
    """As ``read_field``, with None when the error code means "not configured"."""
    try:
        return call()
    except READ_ERRORS as err:
        if error_code(err) in absent:
            return None
        return _read_error(operation, err, policy_guarded)


def _read_error(operation: str, err: BaseException, policy_guarded: bool) -> ReadError:
    message = describe(operation, err)
    if policy_guarded and is_access_denied(err):
        message = f"{message} ({SCANNER_DENIED_HINT})"
    return ReadError(operation, message)


@dataclass
class Batch:
    """What one task produced, and the tasks it leaves for the pool (``followups``, each with
    the API calls it is expected to make: longer tasks start first, so the scan ends on short ones)."""

    resources: list[RawResource] = field(default_factory=list)
    failures: list[ListingFailure] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    followups: list[tuple[int, Callable[[], Batch]]] = field(default_factory=list)

    def later(self, task: Callable[[], Batch], calls: int = 1) -> None:
        self.followups.append((calls, task))

    def fail(self, account: str, region: str, resource_type: str, operation: str, err: BaseException) -> None:
        self.failures.append(ListingFailure(account, region, resource_type, operation, describe(operation, err)))

    def extend(self, other: Batch) -> None:
        self.resources.extend(other.resources)
        self.failures.extend(other.failures)
        self.notices.extend(other.notices)
