"""One live scan: resolve accounts and regions, then one thread pool over
(account, region, collector family) tasks plus one IAM task per account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from types import ModuleType

from sagefence.sources.aws import (
    accounts,
    collect_ec2,
    collect_iam,
    collect_kms,
    collect_notebooks,
    collect_s3,
    collect_stacks,
    collect_workloads,
    organizations,
)
from sagefence.sources.aws.calls import AccountClients, CallCounter, TaskClients
from sagefence.sources.aws.errors import READ_ERRORS, Batch, describe
from sagefence.sources.aws.options import LiveScanOptions, LiveScanResult, LiveScanSetupError

REGIONAL = (collect_ec2, collect_s3, collect_kms, collect_notebooks, collect_workloads, collect_stacks)
REGIONAL_TYPES = tuple(t for family in REGIONAL for t in family.TYPES)
GLOBAL_TYPES = collect_iam.TYPES


@dataclass(frozen=True)
class _Member:
    """Outcome of reaching one member account: its clients and regions, or failures."""

    clients: AccountClients | None
    regions: tuple[str, ...]
    batch: Batch


def run(options: LiveScanOptions) -> LiveScanResult:
    if options.max_workers < 1 or options.recent_jobs < 0:
        raise LiveScanSetupError("--max-workers must be at least 1 and recent_jobs not negative", usage=True)
    requested = accounts.requested_accounts(options)
    counter = CallCounter()
    me = accounts.caller(options, counter)
    out = Batch()
    active = _active_members(me, options, out) if options.organization else ()
    if options.organization:
        targets = [me.account, *(m.id for m in active if m.id != me.account)]
    else:
        targets = list(requested) or [me.account]
    if any(t != me.account for t in targets) and not options.role_name:
        raise LiveScanSetupError(
            "--role-name is required to scan other accounts (--accounts, --organization)", usage=True
        )
    reference = _caller_regions(me, options)
    if me.account in targets:
        out.notices.extend(reference.notices)
    scanned_regions, reached = _execute(me, targets, active, reference.scanned, options, counter, out)
    if reached == 0:
        raise LiveScanSetupError(
            f"cannot assume role {options.role_name!r} in any of the accounts: "
            + "; ".join(f.message for f in out.failures[:1])
        )
    return LiveScanResult(
        resources=tuple(sorted(out.resources, key=lambda r: (r.type, r.account or "", r.region or "", r.id))),
        failures=tuple(sorted(set(out.failures), key=lambda f: (f.account, f.region, f.resource_type, f.operation))),
        accounts=tuple(targets),
        regions=tuple(sorted(scanned_regions)),
        api_calls=counter.summary(),
        notices=tuple(dict.fromkeys(out.notices)),
    )


def _active_members(me: accounts.Caller, options: LiveScanOptions, out: Batch) -> tuple[organizations.Member, ...]:
    everyone = organizations.members(me.clients)
    for member in everyone:
        if member.status != "ACTIVE":
            out.notices.append(f"{member.status.lower()} account {member.id} ({member.name}) skipped")
    return tuple(m for m in everyone if m.status == "ACTIVE")


def _execute(
    me: accounts.Caller,
    targets: list[str],
    active: tuple[organizations.Member, ...],
    reference: tuple[str, ...],
    options: LiveScanOptions,
    counter: CallCounter,
    out: Batch,
) -> tuple[set[str], int]:
    """Run every task; member accounts are reached first, then their work is queued.
    Returns the regions scanned and how many accounts were reached."""
    scanned_regions: set[str] = set()
    reached = 0
    with ThreadPoolExecutor(max_workers=options.max_workers) as pool, _progress(options.progress) as tick:
        pending: set[Future] = set()

        def submit(task: Callable[[], Batch | _Member]) -> None:
            pending.add(pool.submit(task))
            tick(0, 1)

        def submit_work(clients: AccountClients, regions: tuple[str, ...]) -> None:
            scanned_regions.update(regions)
            submit(lambda: collect_iam.collect(TaskClients(clients, None), collect_iam.GLOBAL, options))
            for region in regions:
                for family in REGIONAL:
                    submit(partial(_regional, family, clients, region, options))

        if options.organization:
            submit(lambda: organizations.collect(me.clients, active))
        for target in targets:
            if target == me.account:
                reached += 1
                submit_work(me.clients, reference)
            else:
                submit(partial(_reach_member, me, target, options, counter, reference))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                tick(1, 0)
                outcome = future.result()
                if isinstance(outcome, _Member):
                    out.extend(outcome.batch)
                    if outcome.clients is not None:
                        reached += 1
                        submit_work(outcome.clients, outcome.regions)
                else:
                    out.extend(outcome)
                    for task in outcome.followups:
                        submit(task)
    return scanned_regions, reached


def _regional(family: ModuleType, clients: AccountClients, region: str, options: LiveScanOptions) -> Batch:
    return family.collect(TaskClients(clients, region), region, options)


def _caller_regions(me: accounts.Caller, options: LiveScanOptions) -> accounts.Regions:
    try:
        regions = accounts.enabled_regions(me.clients, me.partition, options)
    except READ_ERRORS as err:
        message = describe("ec2.DescribeRegions", err)
        if options.all_regions:
            raise LiveScanSetupError(f"cannot list the enabled regions ({message}): name the regions to scan") from err
        given = tuple(dict.fromkeys(options.regions or ()))
        return accounts.Regions(given, (), (f"could not check whether the regions are enabled: {message}",))
    if regions.unknown:
        raise LiveScanSetupError(f"--regions: unknown region(s) {', '.join(regions.unknown)}", usage=True)
    return regions


def _reach_member(
    me: accounts.Caller, account: str, options: LiveScanOptions, counter: CallCounter, reference: tuple[str, ...]
) -> _Member:
    batch = Batch()
    try:
        clients = accounts.member_clients(me, account, options, counter)
    except READ_ERRORS as err:
        batch.notices.append(f"account {account} not scanned: {describe('sts.AssumeRole', err)}")
        for type_ in GLOBAL_TYPES:
            batch.fail(account, collect_iam.GLOBAL, type_, "sts.AssumeRole", err)
        for region in reference:
            for type_ in REGIONAL_TYPES:
                batch.fail(account, region, type_, "sts.AssumeRole", err)
        return _Member(None, (), batch)
    try:
        regions = accounts.enabled_regions(clients, me.partition, options)
    except READ_ERRORS as err:
        batch.notices.append(
            f"account {account}: {describe('ec2.DescribeRegions', err)}; scanning the caller's regions"
        )
        return _Member(clients, reference, batch)
    batch.notices.extend(regions.notices)
    return _Member(clients, regions.scanned, batch)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A callback ``tick(done, added)``; a rich progress bar on stderr when enabled."""
    if not enabled:
        yield lambda done, added: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Scanning AWS", total=0)

        def tick(done: int, added: int) -> None:
            if added:
                bar.update(task, total=(bar.tasks[0].total or 0) + added)
            if done:
                bar.advance(task, done)

        yield tick
