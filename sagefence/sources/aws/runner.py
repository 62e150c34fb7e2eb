"""One live scan: resolve accounts and regions, then one thread pool over tasks: reaching
each member account, (account, region, collector family) listings plus one IAM task per
account, and the per-resource reads the listings hand back as follow-ups."""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from heapq import heappop, heappush
from itertools import count
from types import ModuleType

from sagefence.sources.aws import (
    accounts,
    calls,
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
# The caller's clients the setup calls use (GetCallerIdentity, ListAccounts, DescribeRegions), and
# the services whose models the tasks read, in the order they first need them.
_SETUP_SERVICES = ("sts", "organizations", "ec2")
_MODELS = ("iam", "kms", "s3", "sagemaker", "cloudformation")
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
    with _without_cyclic_gc():
        setup = ThreadPoolExecutor(max_workers=4)
        try:
            mine = accounts.caller_clients(options, counter)
            # Regions that no account can disable need no DescribeRegions: the tasks start one
            # EC2 client and one round trip sooner.
            known = accounts.known_regions(options)
            setup_services = [
                s for s in _SETUP_SERVICES
                if (options.organization or s != "organizations") and (known is None or s != "ec2")
            ]
            task_services = _MODELS if known is None else ("ec2", *_MODELS)
            # The tasks' service models are read while the setup calls are on the wire, and on
            # while the first tasks' calls are (a model is read once: a task that needs it first waits).
            models = setup.submit(_warm_up, mine, setup_services, task_services)
            out = Batch()
            # ListAccounts and DescribeRegions (when asked) need the caller's credentials, not its
            # identity: one round trip for all (GetCallerIdentity's failure is the one reported).
            members = setup.submit(_active_members, mine, out) if options.organization else None
            answer = setup.submit(accounts.describe_regions, mine) if known is None else None
            me = accounts.identify(mine, counter)
            if me.partition != "aws":  # the table is the commercial partition's
                known = None
            active = members.result() if members is not None else ()
            if options.organization:
                targets = [me.account, *(m.id for m in active if m.id != me.account)]
            else:
                targets = list(requested) or [me.account]
            if any(t != me.account for t in targets) and not options.role_name:
                raise LiveScanSetupError(
                    "--role-name is required to scan other accounts (--accounts, --organization)", usage=True
                )
            reference = known or _caller_regions(me, options, answer or setup.submit(accounts.describe_regions, mine))
            counter.rename_account(accounts.UNKNOWN, me.account)  # calls counted before identify knew it
            if me.account in targets:
                out.notices.extend(reference.notices)
            scanned_regions, reached = _execute(me, targets, active, reference, options, counter, out)
            models.result()
        finally:
            setup.shutdown(wait=True)
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


def _warm_up(clients: AccountClients, setup_services: Iterable[str], task_services: Iterable[str]) -> None:
    """Make the setup calls' clients, then read the models of the tasks' services.

    In this order the setup calls leave first: read beside them, the models (tens of milliseconds
    of CPU each) held the setup's client creation back, and a model the setup also needed was
    parsed twice. A client that cannot be made is left to its setup call, which makes it again
    and reports the failure as its own."""
    for service in setup_services:
        try:
            clients.client(service)
        except Exception:  # noqa: BLE001 - reported by the setup call that needs this client
            continue
    calls.preload(clients.session, task_services)
    # What the scan starts from (modules, the service models: EC2's alone is hundreds of
    # thousands of objects) is never its garbage: frozen, the first sweep walks only what
    # the tasks made (it walked everything, 0.2 s with every worker stopped).
    gc.freeze()


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """The collector's automatic passes cost a third of a scan's CPU (the heap of botocore clients
    grows with every account and region, and each full pass walks it); the scheduler sweeps the
    cyclic garbage itself instead (``_sweep``). Afterwards everything the scan made goes straight
    to the oldest generation (freeze, then unfreeze: no pass over it), so that re-enabling does
    not start with a young-generation pass over the whole scan (0.3 s at the end of a 1,000-call
    scan)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


# Tasks between two sweeps of the scan's cyclic garbage: 20 to 50 objects a task since clients
# share their service models (5,000 to 13,000 objects per 256 tasks in the 8-account benchmark;
# 330 per API call before), so a sweep every 1,024 tasks holds a few megabytes of garbage at most.
SWEEP_EVERY = 1024
FULL_SWEEP_EVERY = 32  # member accounts closed between two sweeps of the whole heap


def _sweep(full: bool = False) -> None:
    """Free the cyclic garbage of the tasks since the last sweep, then freeze what survived.

    botocore leaves about 330 objects in reference cycles per API call; with the collector off
    they would stay to the end of the scan (a million objects after 3,000 calls; gigabytes for
    an organization of hundreds of accounts). Freezing the survivors means the next sweep walks
    only what is new, never again the heap of clients and models that made automatic passes cost
    a third of the scan. A ``full`` sweep first unfreezes everything: the clients of closed
    accounts hold cycles of their own, frozen while they were in use."""
    if full:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


def _active_members(clients: AccountClients, out: Batch) -> tuple[organizations.Member, ...]:
    everyone = organizations.members(clients)
    for member in everyone:
        if member.status != "ACTIVE":
            out.notices.append(f"{member.status.lower()} account {member.id} ({member.name}) skipped")
    return tuple(m for m in everyone if m.status == "ACTIVE")


def _execute(
    me: accounts.Caller,
    targets: list[str],
    active: tuple[organizations.Member, ...],
    reference: accounts.Regions,
    options: LiveScanOptions,
    counter: CallCounter,
    out: Batch,
) -> tuple[set[str], int]:
    """Run every task; member accounts are reached first, then their work is queued.
    Returns the regions scanned and how many accounts were reached.

    At most ``account_window(workers)`` member accounts are open at once: a member is reached
    when a slot is free, and when its last task is done its clients are closed and dropped (a
    client holds about 230 KB and a connection pool; an organization of 500 accounts x 17
    regions would otherwise hold over 40,000 of them to the end)."""
    scanned_regions: set[str] = set()
    reached = 0
    waiting = deque(t for t in targets if t != me.account)
    window = account_window(options.max_workers)
    open_members: dict[str, AccountClients | None] = {}
    closed = 0
    with _progress(options.progress) as tick:

        def admit() -> None:
            while waiting and len(open_members) < window:
                account = waiting.popleft()
                open_members[account] = None
                tasks.submit(0, partial(_reach_member, me, account, options, counter, reference), owner=account)

        def finished(owner: str) -> None:
            nonlocal closed
            if owner in open_members:
                clients = open_members.pop(owner)
                if clients is not None:
                    clients.release()
                    closed += 1
                    if closed % FULL_SWEEP_EVERY == 0:
                        _sweep(full=True)
                admit()

        tasks = _Scheduler(options.max_workers, tick, finished)

        def submit_work(clients: AccountClients, regions: tuple[str, ...]) -> None:
            scanned_regions.update(regions)
            owner = clients.account
            tasks.submit(
                1, partial(collect_iam.collect, TaskClients(clients, None), collect_iam.GLOBAL, options), owner=owner
            )
            for region in regions:
                for family in REGIONAL:
                    tasks.submit(1, partial(_regional, family, clients, region, options), owner=owner)

        def handle(depth: int, owner: str, outcome: Batch | _Member) -> None:
            nonlocal reached
            if isinstance(outcome, _Member):
                out.extend(outcome.batch)
                if outcome.clients is not None:
                    reached += 1
                    open_members[owner] = outcome.clients
                    submit_work(outcome.clients, outcome.regions)
            else:
                out.extend(outcome)
                for calls, task in outcome.followups:
                    tasks.submit(depth + 1, task, calls, owner=owner)

        admit()
        if options.organization:
            tasks.submit(1, partial(organizations.collect, me.clients, active), owner=me.account)
        if me.account in targets:
            reached += 1
            submit_work(me.clients, reference.scanned)
        tasks.run(handle)
    return scanned_regions, reached


def account_window(workers: int) -> int:
    """Member accounts open at once: enough queued work for every worker (an account starts
    with 6 listing tasks per region and one IAM task), a bounded number of clients."""
    return max(8, 4 * workers)


class _Scheduler:
    """Worker threads that take tasks in order of depth: reaching accounts (0) before listings (1)
    before the reads they lead to (2 and on); within a depth the tasks of more calls first, then
    first come first served. Work that makes more work starts first, and the scan ends on
    one-call tasks rather than on a bucket's four reads. A worker hands its
    task's outcome to ``handle`` (under the scheduler's lock; it may submit more) and takes the
    next task itself, with no round trip through another thread. Each task has an owner (its
    account); when an owner's last task is done, ``finished(owner)`` runs, under the lock too."""

    def __init__(
        self,
        workers: int,
        tick: Callable[[int, int], None],
        finished: Callable[[str], None] = lambda owner: None,
    ) -> None:
        self._workers = workers
        self._tick = tick
        self._finished = finished
        self._lock = threading.Condition()  # re-entrant: ``handle`` submits under it
        self._ready: list[tuple[int, int, int, str, Callable[[], Batch | _Member]]] = []
        self._order = count()
        self._unfinished = 0
        self._done = 0
        self._open: dict[str, int] = {}
        self._failure: BaseException | None = None

    def submit(self, depth: int, task: Callable[[], Batch | _Member], calls: int = 1, owner: str = "") -> None:
        with self._lock:
            heappush(self._ready, (depth, -calls, next(self._order), owner, task))
            self._unfinished += 1
            self._open[owner] = self._open.get(owner, 0) + 1
            self._tick(0, 1)
            self._lock.notify()

    def run(self, handle: Callable[[int, str, Batch | _Member], None]) -> None:
        """Until every task, and every task they submitted, is done; a task's exception (a bug:
        collectors catch only read errors) stops the others and is raised here."""
        workers = [
            threading.Thread(target=self._work, args=(handle,), name=f"sagefence-scan-{n}", daemon=True)
            for n in range(self._workers)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if self._failure is not None:
            raise self._failure

    def _work(self, handle: Callable[[int, str, Batch | _Member], None]) -> None:
        while True:
            with self._lock:
                while not self._ready and self._unfinished and self._failure is None:
                    self._lock.wait()
                if self._failure is not None or not self._unfinished:
                    self._lock.notify_all()
                    return
                depth, _, _, owner, task = heappop(self._ready)
            try:
                outcome = task()
                with self._lock:
                    handle(depth, owner, outcome)
                    self._open[owner] -= 1
                    if not self._open[owner]:
                        del self._open[owner]
                        self._finished(owner)
                    self._unfinished -= 1
                    self._done += 1
                    sweep = self._done % SWEEP_EVERY == 0
                    self._tick(1, 0)
                    if not self._unfinished:
                        self._lock.notify_all()
                if sweep:
                    _sweep()
            except BaseException as exc:
                with self._lock:
                    self._failure = self._failure or exc
                    self._lock.notify_all()
                return


def _regional(family: ModuleType, clients: AccountClients, region: str, options: LiveScanOptions) -> Batch:
    return family.collect(TaskClients(clients, region), region, options)


def _caller_regions(me: accounts.Caller, options: LiveScanOptions, answer: Future[dict]) -> accounts.Regions:
    try:
        regions = accounts.regions_from(answer.result(), me.clients, me.partition, options)
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
    me: accounts.Caller, account: str, options: LiveScanOptions, counter: CallCounter, reference: accounts.Regions
) -> _Member:
    """AssumeRole, then the member's own enabled regions (one DescribeRegions) unless every region
    asked for is enabled in every account: then the member's work starts a round trip sooner."""
    batch = Batch()
    try:
        clients = accounts.member_clients(me, account, options, counter)
    except READ_ERRORS as err:
        batch.notices.append(f"account {account} not scanned: {describe('sts.AssumeRole', err)}")
        for type_ in GLOBAL_TYPES:
            batch.fail(account, collect_iam.GLOBAL, type_, "sts.AssumeRole", err)
        for region in reference.scanned:
            for type_ in REGIONAL_TYPES:
                batch.fail(account, region, type_, "sts.AssumeRole", err)
        return _Member(None, (), batch)
    if reference.enabled_everywhere:
        return _Member(clients, reference.scanned, batch)
    try:
        regions = accounts.enabled_regions(clients, me.partition, options)
    except READ_ERRORS as err:
        batch.notices.append(
            f"account {account}: {describe('ec2.DescribeRegions', err)}; scanning the caller's regions"
        )
        return _Member(clients, reference.scanned, batch)
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
