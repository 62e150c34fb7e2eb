"""The live scan's parallelism changes how long it takes, never what it finds or calls."""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
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
        make = session.create_client

        def client(service: str, *rest: Any, **options: Any) -> Any:
            made.append((id(session), service, options.get("region_name")))
            return make(service, *rest, **options)

        session.create_client = client
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
    assert repeated == {}


def test_scan_sessions_share_one_client_class_per_service(world: aws_world.World) -> None:
    import boto3

    from sagefence.sources.aws import calls

    first, second = calls.new_session(region="us-east-1"), calls.new_session(region="eu-west-1")
    ec2 = first.create_client("ec2")
    assert type(second.create_client("ec2")) is type(ec2) and type(first.create_client("s3")) is not type(ec2)
    assert second.create_client("ec2", region_name="eu-west-1").describe_vpcs()["Vpcs"]  # a working client
    # sessions made elsewhere keep botocore's class per client
    other = boto3.Session(region_name="us-east-1")
    assert type(other.client("ec2")) is not type(other.client("ec2"))
    assert type(other.client("ec2")) is not type(ec2)


def test_scan_sessions_share_one_service_model_and_one_alias_cache(world: aws_world.World) -> None:
    import boto3

    from sagefence.sources.aws import calls

    first, second = calls.new_session(region="us-east-1"), calls.new_session(region="eu-west-1")
    ec2, s3 = first.create_client("ec2"), second.create_client("s3")
    other_ec2 = second.create_client("ec2", region_name="eu-west-1")
    assert ec2.meta.service_model is other_ec2.meta.service_model
    assert s3.meta.service_model is not ec2.meta.service_model
    # the operation models are built once per service, not once per client
    assert ec2.meta.service_model.operation_model("DescribeVpcs") is other_ec2.meta.service_model.operation_model(
        "DescribeVpcs"
    )
    assert ec2.meta.events._alias_name_cache is s3.meta.events._alias_name_cache
    assert other_ec2.describe_vpcs()["Vpcs"] and s3.list_buckets()["Buckets"] is not None  # working clients
    # handlers registered under an aliased service name still fire (botocore renames them)
    seen: list[str] = []
    ec2.meta.events.register("before-call.ec2.DescribeRegions", lambda **kw: seen.append("ec2"))
    apigw = first.create_client("apigateway")
    apigw.meta.events.register("before-call.apigateway.GetRestApis", lambda **kw: seen.append("apigateway"))
    ec2.describe_regions()
    apigw.get_rest_apis()
    assert seen == ["ec2", "apigateway"]
    # sessions made elsewhere keep botocore's own, per client
    plain = boto3.Session(region_name="us-east-1")
    one, two = plain.client("ec2"), plain.client("ec2")
    assert one.meta.service_model is not two.meta.service_model
    assert one.meta.service_model is not ec2.meta.service_model
    assert one.meta.events._alias_name_cache is not two.meta.events._alias_name_cache


def test_scan_sessions_read_models_as_plain_dicts_in_file_order(world: aws_world.World) -> None:
    import json
    from collections import OrderedDict

    import botocore.loaders

    from sagefence.sources.aws import calls

    loader = calls.new_session(region="us-east-1").get_component("data_loader")
    ours = loader.load_service_model("kms", "service-2")
    stock = botocore.loaders.create_loader().load_service_model("kms", "service-2")
    assert type(ours) is dict and type(stock) is OrderedDict
    assert json.dumps(ours) == json.dumps(stock)  # same content, same key order
    assert list(ours["operations"]) == list(stock["operations"])


def test_scan_sessions_start_with_botocores_builtin_handlers_registered_once(aws_env: None) -> None:
    import botocore.session
    from botocore import handlers as builtin

    from sagefence.sources.aws import calls

    def handlers(session: Any, name: str) -> list[Any]:
        events = session.get_component("event_emitter")
        return list(events._emitter._handlers.prefix_search(events._alias_event_name(name)))

    names = {spec[0] for spec in builtin.BUILTIN_HANDLERS} | {
        "before-call.s3.GetBucketPolicy",
        "needs-retry.sts.AssumeRole",
        "before-parameter-build.sagemaker.ListNotebookInstances",
        "after-call.ec2.DescribeRegions",
        "choose-signer.kms.GetKeyPolicy",
    }
    stock, ours, again = botocore.session.Session(), calls.new_session(), calls.new_session()
    for name in sorted(names):
        assert handlers(ours, name) == handlers(stock, name), name
    assert sum(map(len, (handlers(ours, n) for n in names))) > len(builtin.BUILTIN_HANDLERS) // 2
    # each session has its own: what one registers, another does not see
    ours.get_component("event_emitter").register("before-call.kms.ListKeys", lambda **_: None)
    assert len(handlers(ours, "before-call.kms.ListKeys")) == len(handlers(again, "before-call.kms.ListKeys")) + 1
    assert handlers(calls.new_session(), "before-call.kms.ListKeys") == handlers(again, "before-call.kms.ListKeys")

    # what BUILTIN_HANDLERS holds when a session is made (moto and harnesses add theirs there)
    def added(**_: Any) -> None:
        return None

    builtin.BUILTIN_HANDLERS.append(("before-call.kms.ListKeys", added))
    try:
        assert added in handlers(calls.new_session(), "before-call.kms.ListKeys")
    finally:
        builtin.BUILTIN_HANDLERS.remove(("before-call.kms.ListKeys", added))
    assert added not in handlers(calls.new_session(), "before-call.kms.ListKeys")


def test_scan_clients_copy_their_sessions_handlers_as_botocore_does(
    monkeypatch: pytest.MonkeyPatch, aws_env: None
) -> None:
    import copy

    from botocore.hooks import HierarchicalEmitter

    from sagefence.sources.aws import calls

    session = calls.new_session(region="us-east-1")
    session.get_component("event_emitter").register("before-call.kms.ListKeys", lambda **_: None, unique_id="mine")
    original = session.get_component("event_emitter")._emitter
    ours, stock = calls._copy_emitter(original), copy.copy(original)
    assert ours is not None and type(ours) is HierarchicalEmitter
    assert ours._handlers._root == stock._handlers._root and ours._unique_id_handlers == stock._unique_id_handlers

    def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node["children"].values():
            yield from nodes(child)

    for mine, theirs in zip(nodes(ours._handlers._root), nodes(original._handlers._root), strict=True):
        assert mine is not theirs and mine["children"] is not theirs["children"]
        if theirs["values"] is not None:
            assert all(a is not b for a, b in zip(mine["values"], theirs["values"], strict=True))
    assert ours._unique_id_handlers is not original._unique_id_handlers
    # what a copy registers stays its own
    before = list(original._handlers.prefix_search("before-call.kms.ListAliases"))
    ours.register("before-call.kms.ListAliases", lambda **_: None)
    assert list(original._handlers.prefix_search("before-call.kms.ListAliases")) == before
    assert len(list(ours._handlers.prefix_search("before-call.kms.ListAliases"))) == len(before) + 1

    made: list[Any] = []
    real = calls._copy_emitter

    def copied(emitter: Any) -> Any:
        made.append(real(emitter))
        return made[-1]

    monkeypatch.setattr(calls, "_copy_emitter", copied)
    client = session.create_client("kms")
    assert client.meta.events._emitter in made and client.meta.events._alias_name_cache is calls._ALIASED_NAMES

    class Other(HierarchicalEmitter):
        pass

    assert calls._copy_emitter(Other()) is None  # another shape: botocore's own copy


def test_scan_loader_finds_a_service_without_listing_every_service(tmp_path: Any) -> None:
    import json

    import botocore.loaders
    from botocore.exceptions import UnknownServiceError

    from sagefence.sources.aws import calls

    newer = tmp_path / "kms" / "2099-01-01"
    newer.mkdir(parents=True)
    (newer / "service-2.json").write_text(json.dumps({"metadata": {"apiVersion": "2099-01-01"}, "operations": {}}))
    for data_path in (None, str(tmp_path)):
        ours = calls._shared_loader.__wrapped__(data_path)
        stock = botocore.loaders.create_loader(data_path)

        def listed(type_name: str) -> list[str]:
            raise AssertionError(f"listed every service for {type_name}")

        ours.list_available_services = listed  # type: ignore[method-assign]
        for service, type_name, version in [
            ("sts", "service-2", None),
            ("kms", "service-2", None),
            ("kms", "service-2", "2014-11-01"),
            ("sagemaker", "paginators-1", None),
            ("s3", "endpoint-rule-set-1", None),
        ]:
            got = ours.load_service_model(service, type_name, version)
            assert json.dumps(got) == json.dumps(stock.load_service_model(service, type_name, version))
        latest = ours.load_service_model("kms", "service-2")["metadata"]["apiVersion"]
        assert latest == ("2099-01-01" if data_path else "2014-11-01")
        del ours.list_available_services  # an unknown service: botocore's own check, and its error
        for unknown in ("no-such-service", "../kms", ""):
            with pytest.raises(UnknownServiceError):
                ours.load_service_model(unknown, "service-2")


def test_scan_sessions_read_models_from_aws_data_path(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, world: aws_world.World
) -> None:
    from sagefence.sources.aws import calls

    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    loader = calls.new_session(region="us-east-1").get_component("data_loader")
    assert str(tmp_path) in loader.search_paths
    monkeypatch.delenv("AWS_DATA_PATH")
    assert str(tmp_path) not in calls.new_session(region="us-east-1").get_component("data_loader").search_paths


def test_scheduler_runs_shallow_tasks_first_and_raises_a_tasks_bug() -> None:
    from sagefence.sources.aws.errors import Batch
    from sagefence.sources.aws.runner import _Scheduler

    ran: list[str] = []

    def task(name: str, *followups: str) -> Batch:
        ran.append(name)
        return Batch(followups=[(1, partial(task, f)) for f in followups])

    scheduler = _Scheduler(1, lambda done, added: None)

    def handle(depth: int, owner: str, outcome: Any) -> None:
        for calls, followup in outcome.followups:
            scheduler.submit(depth + 1, followup, calls, owner=owner)

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


def test_scheduler_tells_when_an_owners_last_task_is_done() -> None:
    from sagefence.sources.aws.errors import Batch
    from sagefence.sources.aws.runner import _Scheduler

    events: list[str] = []

    def task(name: str, *followups: str) -> Batch:
        events.append(name)
        return Batch(followups=[(1, partial(task, f)) for f in followups])

    def finished(owner: str) -> None:
        events.append(f"{owner} done")
        if owner == "a":  # work submitted here runs too
            scheduler.submit(0, partial(task, "c1"), owner="c")

    scheduler = _Scheduler(1, lambda done, added: None, finished)

    def handle(depth: int, owner: str, outcome: Any) -> None:
        for calls, followup in outcome.followups:
            scheduler.submit(depth + 1, followup, calls, owner=owner)

    scheduler.submit(0, partial(task, "a1", "a2"), owner="a")
    scheduler.submit(1, partial(task, "b1", "b2"), owner="b")
    scheduler.run(handle)
    assert events == ["a1", "b1", "a2", "a done", "c1", "c done", "b2", "b done"]


def test_scheduler_sweeps_the_cyclic_garbage_of_its_tasks() -> None:
    import gc

    from sagefence.sources.aws import runner
    from sagefence.sources.aws.errors import Batch

    class Node:
        pass

    left: list[weakref.ref[Node]] = []

    def task() -> Batch:
        node = Node()
        node.self = node  # type: ignore[attr-defined]  # a cycle: only the cyclic collector frees it
        left.append(weakref.ref(node))
        return Batch()

    scheduler = runner._Scheduler(1, lambda done, added: None)
    for _ in range(3 * runner.SWEEP_EVERY + 10):
        scheduler.submit(1, task)
    enabled = gc.isenabled()
    gc.disable()
    try:
        scheduler.run(lambda depth, owner, outcome: None)
        assert len([ref for ref in left if ref() is not None]) == 10  # only those after the last sweep
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def test_what_the_scan_starts_from_is_frozen_once_its_models_are_read(
    world: aws_world.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep walks what is not frozen: modules and service models left unfrozen made the first
    one walk the whole heap with every worker stopped."""
    import gc

    from sagefence.sources.aws import runner

    unfrozen_after_warm_up: list[int] = []
    warm_up = runner._warm_up

    def counting(*args: Any) -> None:
        warm_up(*args)
        unfrozen_after_warm_up.append(len(gc.get_objects()))

    monkeypatch.setattr(runner, "_warm_up", counting)
    before = len(gc.get_objects())
    try:
        collect(_options(4))
    finally:
        gc.unfreeze()
    assert unfrozen_after_warm_up and unfrozen_after_warm_up[0] < before // 10


def test_scan_loader_reads_a_model_once_however_many_threads_ask(tmp_path: Any) -> None:
    import json
    import threading

    from sagefence.sources.aws import calls

    model = tmp_path / "kms" / "2099-01-01"
    model.mkdir(parents=True)
    (model / "service-2.json").write_text(json.dumps({"metadata": {"apiVersion": "2099-01-01"}, "operations": {}}))
    loader = calls._shared_loader.__wrapped__(str(tmp_path))
    reads: list[str] = []
    read = loader.file_loader._load_file
    start = threading.Barrier(8)

    def slow_read(full_path: str, open_method: Any) -> Any:
        reads.append(full_path)
        threading.Event().wait(0.05)  # as long as a large model takes: every thread arrives meanwhile
        return read(full_path, open_method)

    loader.file_loader._load_file = slow_read  # type: ignore[method-assign]
    answers: list[Any] = []

    def ask() -> None:
        start.wait()
        answers.append(loader.load_service_model("kms", "service-2"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and all(a is answers[0] for a in answers)
    assert [r for r in reads if r.endswith("service-2.json")] == [str(model / "service-2.json")]


def test_member_accounts_are_opened_a_window_at_a_time_and_closed_when_done(
    world: aws_world.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sagefence.sources.aws import calls, runner

    monkeypatch.setattr(runner, "account_window", lambda workers: 1)
    monkeypatch.setattr(runner, "FULL_SWEEP_EVERY", 2)
    sweeps: list[bool] = []
    sweep = runner._sweep
    monkeypatch.setattr(runner, "_sweep", lambda full=False: (sweeps.append(full), sweep(full)))
    others = ("111111111111", "222222222222")
    opened: list[str] = []
    open_now: set[str] = set()
    most_open = 0
    dropped: list[weakref.ref[Any]] = []
    make, release = calls.AccountClients.client, calls.AccountClients.release

    def client(self: calls.AccountClients, service: str, region: str | None = None) -> Any:
        nonlocal most_open
        if self.account not in (aws_world.MANAGEMENT, "caller") and self.account not in open_now:  # members
            open_now.add(self.account)
            opened.append(self.account)
            most_open = max(most_open, len(open_now))
        return make(self, service, region)

    def closed(self: calls.AccountClients) -> None:
        open_now.discard(self.account)
        dropped.extend(weakref.ref(made) for made in self._clients.values())
        release(self)

    monkeypatch.setattr(calls.AccountClients, "client", client)
    monkeypatch.setattr(calls.AccountClients, "release", closed)
    options = LiveScanOptions(
        regions=aws_world.REGIONS, accounts=(world.member, *others), role_name=aws_world.SCANNER_ROLE, max_workers=8
    )
    result = collect(options)
    assert most_open == 1 and sorted(opened) == sorted([world.member, *others]) and not open_now
    # freed as soon as they are dropped (the scan runs without the cyclic collector)
    assert dropped and not [ref for ref in dropped if ref() is not None]
    assert sweeps.count(True) == 1  # the whole heap once, after the second of three accounts closed
    assert result.accounts == (world.member, *others) and not result.failures
    assert {r.account for r in result.resources} >= {world.member, *others}
    alone = collect(replace(options, max_workers=1))
    assert _seen(alone) == _seen(result)
