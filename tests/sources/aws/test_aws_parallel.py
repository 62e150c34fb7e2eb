"""The live scan's parallelism changes how long it takes, never what it finds or calls."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any
from unittest import mock

import pytest

from sagefence.sources.aws import LiveScanOptions, LiveScanResult, collect
from tests.sources.aws import aws_world


def _options(workers: int) -> LiveScanOptions:
    return LiveScanOptions(
        regions=aws_world.REGIONS, organization=True, role_name=aws_world.SCANNER_ROLE, max_workers=workers
    )


def _seen(result: LiveScanResult) -> list[tuple[Any, ...]]:
    return [(r.type, r.account, r.region, r.id, repr(r.properties), repr(r.extra)) for r in result.resources]


@contextmanager
def _clients_made() -> Iterator[list[tuple[int, str, str | None]]]:
    """Every client any session of the scan makes: (session, service, region)."""
    from sagefence.sources.aws import calls

    original = calls.new_session
    made: list[tuple[int, str, str | None]] = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        session = original(*args, **kwargs)
        make = session.client

        def client(service: str, *rest: Any, **options: Any) -> Any:
            made.append((id(session), service, options.get("region_name")))
            return make(service, *rest, **options)

        session.client = client
        return session

    with mock.patch.object(calls, "new_session", wrapped):
        yield made


def test_worker_count_changes_nothing_but_time(world: aws_world.World) -> None:
    alone, many = collect(_options(1)), collect(_options(16))
    assert _seen(alone) == _seen(many)
    assert alone.failures == many.failures and alone.notices == many.notices
    assert alone.api_calls["by_operation"] == many.api_calls["by_operation"]
    assert alone.api_calls["by_account_region"] == many.api_calls["by_account_region"]


def test_one_client_per_account_service_and_region(world: aws_world.World) -> None:
    with _clients_made() as made:
        result = collect(_options(16))
    assert result.failures == ()
    assert len({session for session, _, _ in made}) == 2  # the caller's and the member's
    repeated = {(service, region): n for (_, service, region), n in Counter(made).items() if n > 1}
    # DescribeRegions is account-wide (counted in the "global" scope): its EC2 client is its own.
    assert repeated == {("ec2", "us-east-1"): 2}


def test_scan_sessions_share_one_client_class_per_service(world: aws_world.World) -> None:
    import boto3

    from sagefence.sources.aws import calls

    first, second = calls.new_session(region="us-east-1"), calls.new_session(region="eu-west-1")
    ec2 = first.client("ec2")
    assert type(second.client("ec2")) is type(ec2) and type(first.client("s3")) is not type(ec2)
    assert second.client("ec2", region_name="eu-west-1").describe_vpcs()["Vpcs"]  # a working client
    assert hasattr(second.client("s3"), "upload_file")  # boto3's own additions to the class are kept
    # sessions made elsewhere keep botocore's class per client
    other = boto3.Session(region_name="us-east-1")
    assert type(other.client("ec2")) is not type(other.client("ec2"))
    assert type(other.client("ec2")) is not type(ec2)


def test_scheduler_runs_shallow_tasks_first_and_raises_a_tasks_bug() -> None:
    from sagefence.sources.aws.errors import Batch
    from sagefence.sources.aws.runner import _Scheduler

    ran: list[str] = []

    def task(name: str, *followups: str) -> Batch:
        ran.append(name)
        return Batch(followups=[(1, partial(task, f)) for f in followups])

    scheduler = _Scheduler(1, lambda done, added: None)

    def handle(depth: int, outcome: Any) -> None:
        for calls, followup in outcome.followups:
            scheduler.submit(depth + 1, followup, calls)

    scheduler.submit(1, partial(task, "listing", "read"))
    scheduler.submit(2, partial(task, "early read"))
    scheduler.submit(0, partial(task, "reach"))
    scheduler.submit(2, partial(task, "long read"), calls=4)
    scheduler.run(handle)
    assert ran == ["reach", "listing", "long read", "early read", "read"]

    def bug() -> Batch:
        raise KeyError("a bug")

    broken = _Scheduler(4, lambda done, added: None)
    for _ in range(3):
        broken.submit(1, partial(task, "fine"))
    broken.submit(1, bug)
    with pytest.raises(KeyError):
        broken.run(handle)
