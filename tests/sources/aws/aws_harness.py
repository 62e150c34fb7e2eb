"""Fault injection and call recording for the live-source tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from botocore.awsrequest import AWSResponse


@contextmanager
def injected(*handlers: tuple[str, Callable[..., Any], bool]) -> Iterator[list[str]]:
    """Register (event, handler, first) on every session the scan makes; yields the list of
    operations the scan called, recorded independently of its own counter."""
    from sagefence.sources.aws import calls

    original = calls.new_session
    seen: list[str] = []

    def record(model: Any, **_: Any) -> None:
        seen.append(f"{model.service_model.service_name}.{model.name}")

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        session = original(*args, **kwargs)
        events = session.get_component("event_emitter")
        events.register("provide-client-params", record)
        for event, handler, first in handlers:
            (events.register_first if first else events.register)(event, handler)
        return session

    with mock.patch.object(calls, "new_session", wrapped):
        yield seen


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def denied(operation: str) -> Callable[..., Any]:
    """A before-call handler: the operation answers 403 AccessDenied, others reach moto."""

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        response = AWSResponse("https://aws.invalid", 403, {}, _Raw(b""))
        error = {"Error": {"Code": "AccessDenied", "Message": f"not allowed to {operation}"}}
        return response, {**error, "ResponseMetadata": {"HTTPStatusCode": 403}}

    return handler


def throttled(counter: list[int]) -> Callable[..., Any]:
    """A before-send handler: every attempt answers 400 ThrottlingException."""

    def handler(request: Any, **_: Any) -> AWSResponse:
        counter.append(1)
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))

    return handler
