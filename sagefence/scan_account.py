"""Live scans: collect accounts and regions, evaluate the same rules, fail closed."""

from __future__ import annotations

import argparse
import fnmatch
import json
import time
from collections.abc import Sequence
from typing import TextIO

from sagefence.config import Config
from sagefence.engine import Evaluation
from sagefence.findings import FindingsDocument, ScanInfo
from sagefence.inventory.index import Inventory
from sagefence.inventory.raw import RawResource
from sagefence.scan import ScanContext, _document, _now
from sagefence.status import SourceKind


class LiveSetupFailed(Exception):
    """The live scan could not start; ``usage`` tells a bad flag (exit 2) from an unreachable account (exit 3)."""

    def __init__(self, message: str, usage: bool) -> None:
        super().__init__(message)
        self.usage = usage


def live_options(args: argparse.Namespace, config: Config, progress: bool):
    from sagefence.sources.aws import LiveScanOptions

    regions = tuple(args.regions) if args.regions else None
    override = config.rules.get("SM-006")
    recent = int((override.params if override else {}).get("recent_jobs", 20))
    return LiveScanOptions(profile=args.profile, regions=regions, accounts=tuple(args.accounts),
                           organization=args.organization, role_name=args.role_name, external_id=args.external_id,
                           max_workers=args.max_workers, recent_jobs=recent, progress=progress)


def collect(args: argparse.Namespace, config: Config, progress: bool):
    from sagefence.sources.aws import LiveScanSetupError, collect

    try:
        return collect(live_options(args, config, progress))
    except LiveScanSetupError as exc:
        raise LiveSetupFailed(str(exc), usage=exc.usage) from exc


def in_scope(resources: Sequence[RawResource], config: Config) -> list[RawResource]:
    """Buckets outside config scope.buckets are not evaluated (their ids still exist for S3-002)."""
    patterns = config.scope.buckets
    kept = []
    for raw in resources:
        if raw.type in ("AWS::S3::Bucket", "AWS::S3::BucketPolicy"):
            name = raw.properties.get("BucketName") if raw.type == "AWS::S3::Bucket" else raw.properties.get("Bucket")
            if not any(fnmatch.fnmatchcase(str(name), p) for p in patterns):
                continue
        kept.append(raw)
    return kept


def build_inventory(resources: Sequence[RawResource], ctx: ScanContext) -> Inventory:
    known = frozenset(r.id for r in resources)
    return Inventory(in_scope(resources, ctx.config), config=ctx.config, source=SourceKind.ACCOUNT,
                     scan_date=ctx.today, known_ids=known)


def scan_account(args: argparse.Namespace, ctx: ScanContext, progress: bool = False) -> FindingsDocument:
    started, clock = _now(), time.perf_counter()
    result = collect(args, ctx.config, progress)
    evaluation = Evaluation(ctx.rules, ctx.config, today=ctx.today)
    evaluation.run(build_inventory(result.resources, ctx))
    for failure in result.failures:
        evaluation.add_listing_failure(failure)
    scan = ScanInfo(source=SourceKind.ACCOUNT.value, started_at=started, finished_at=_now(),
                    targets=list(result.accounts), accounts=list(result.accounts), regions=list(result.regions),
                    config=dict(ctx.config_summary), duration_s=round(time.perf_counter() - clock, 3),
                    api_calls=result.api_calls, notices=list(result.notices))
    return _document(scan, evaluation, list(evaluation.errors))


def migration_plan(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from sagefence.catalogue import load_catalogue
    from sagefence.config import load_config
    from sagefence.migration import build_plan, render_plan_text
    from sagefence.outputs import check_outputs, staged
    from sagefence.scan import ScanContext as Context

    check_outputs([args.output], [args.config] if args.config else [])  # before the scan: exit 2, nothing read
    catalogue = load_catalogue()
    config, _ = load_config(args.config, set(catalogue))
    ctx = Context(config, [])
    result = collect(args, config, progress=False)
    inventory = build_inventory(result.resources, ctx)
    plan = build_plan(inventory, [f.scope_id + ": " + f.operation for f in result.failures], catalogue)
    text = json.dumps(plan, indent=2) + "\n" if args.format == "json" else render_plan_text(plan)
    if args.output:
        with staged() as outputs, outputs.open(args.output) as out:  # a temporary file renamed into place
            out.write(text)
    else:
        stdout.write(text)
    return 3 if plan["errors"] else 0
