"""The simulated AWS the demo scans: moto in-process, a clean environment, and the fields moto drops.

Everything here changes the *simulation*, never the scanner: the scan runs unchanged against
what these context managers set up, and everything is undone on exit.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

DEMO_REGION = "us-east-1"
SEED = 20260515  # moto's random ids (accounts, VPCs, endpoints, keys) are the same on every run

# The demo runs in a clean AWS environment: every AWS_* and MOTO_* variable of the caller is set
# aside (endpoint overrides such as AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3 would stop in-process
# moto from intercepting; AWS_PROFILE / AWS_DEFAULT_PROFILE would name a profile the demo does not
# have) and only these are set. No user config or credentials file is read.
# MOTO_ACCOUNT_ID is not set: it pins every request to one account, assumed-role credentials
# included (moto 5.2.1); the management account is moto's default, 123456789012.
_SET = {
    "AWS_ACCESS_KEY_ID": "sagefence-demo",
    "AWS_SECRET_ACCESS_KEY": "sagefence-demo",
    "AWS_SESSION_TOKEN": "sagefence-demo",
    "AWS_DEFAULT_REGION": DEMO_REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
_PREFIXES = ("AWS_", "MOTO_")


@contextmanager
def demo_environment() -> Iterator[None]:
    """Set the demo's environment variables; restore the caller's exactly afterwards."""
    saved = {name: value for name, value in os.environ.items() if name.startswith(_PREFIXES)}
    try:
        for name in saved:
            del os.environ[name]
        os.environ.update(_SET)
        yield
    finally:
        for name in [n for n in os.environ if n.startswith(_PREFIXES)]:
            del os.environ[name]
        os.environ.update(saved)


@contextmanager
def simulated_aws() -> Iterator[None]:
    """moto in-process with seeded ids, inside the demo environment."""
    with demo_environment():
        from moto import mock_aws
        from moto.moto_api._internal import mock_random

        with mock_aws():
            mock_random.seed(SEED)
            yield


class NotebookFields:
    """Fields of ``DescribeNotebookInstance`` that moto never returns (``PlatformIdentifier``, and
    ``RootAccess`` when it was not given), keyed by notebook instance ARN.

    ``extend`` is an ``after-call`` handler: it adds a field to the parsed answer only when the
    answer lacks it, so a field moto does return always wins.
    """

    def __init__(self) -> None:
        self._fields: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add(self, arn: str, **fields: Any) -> None:
        with self._lock:
            self._fields.setdefault(arn, {}).update(fields)

    def extend(self, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            missing = self._fields.get(str(parsed.get("NotebookInstanceArn")), {})
        for name, value in missing.items():
            parsed.setdefault(name, value)


@contextmanager
def extended_responses(handlers: Mapping[str, Any]) -> Iterator[None]:
    """Register ``{event: handler}`` on every botocore session created inside the block.

    ``botocore.session.Session`` registers ``botocore.handlers.BUILTIN_HANDLERS`` when it is
    created, so an entry appended there reaches every session and client the scanner makes,
    whatever way it makes them, without touching the scanner (moto attaches its own request
    interceptor the same way). Sessions made before the block are not affected; the entries are
    removed on exit, also when the scan raises.
    """
    from botocore import handlers as builtin

    entries = list(handlers.items())
    builtin.BUILTIN_HANDLERS.extend(entries)
    try:
        yield
    finally:
        for entry in entries:
            builtin.BUILTIN_HANDLERS.remove(entry)
