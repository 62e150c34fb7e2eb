"""The command line: ``main(argv, stdout, stderr) -> exit status``; no botocore unless a live command runs."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from sagefence import __version__
from sagefence.outputs import (
    OutputPathError,
    OutputWriteError,
    StagedOutputs,
    check_outputs,
    prepare_folder,
    staged,
)
from sagefence.status import ExitStatus, Severity, SourceKind

FAIL_ON_CHOICES = [s.value for s in Severity] + ["never"]


class UsageError(Exception):
    """A bad flag or configuration: exit 2 with one line."""


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _common_scan_options(parser: argparse.ArgumentParser) -> None:
    from sagefence.reports import FORMATS

    parser.add_argument("--config", help="sagefence.yaml (default: ./sagefence.yaml or ./.sagefence.yaml)")
    parser.add_argument("--format", action="append", choices=FORMATS, dest="formats",
                        help="output format; repeatable (default text)")
    parser.add_argument("--output", action="append", default=[], dest="outputs",
                        help="output file, one per --format, in order")
    parser.add_argument("--output-dir", help="write every format to DIR/findings.<ext>")
    parser.add_argument("--fail-on", choices=FAIL_ON_CHOICES, default="high",
                        help="lowest severity of an unsuppressed failure that makes the exit status 1")
    parser.add_argument("--rules", type=_csv, default=[], help="only these rule ids (comma separated)")
    parser.add_argument("--skip-rules", type=_csv, default=[], help="skip these rule ids")
    parser.add_argument("--rules-dir", action="append", default=[], type=Path, help="folder of extra rule YAML")
    parser.add_argument("--allow-partial", action="store_true",
                        help="exit 0/1 even when something could not be examined")
    parser.add_argument("--quiet", action="store_true", help="no progress, notices or summary on stderr")
    parser.add_argument("--no-color", action="store_true", help="no ANSI colours in text output")
    _debug_option(parser)


def _debug_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true",
                        help="on an internal error (a bug: exit 3), print the traceback")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sagefence",
                                     description="Policy-as-code checks for secure Amazon SageMaker environments.")
    parser.add_argument("--version", action="version", version=f"sagefence {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser("scan", help="scan templates or a live account")
    targets = scan.add_subparsers(dest="target", metavar="TARGET")
    templates = targets.add_parser("templates", help="CloudFormation templates (files or folders)")
    templates.add_argument("paths", nargs="+", metavar="PATH")
    templates.add_argument("--time-budget", type=_seconds, default=120.0, metavar="SECONDS",
                           help="seconds one file (with the templates it imports from) may take before what it "
                                "has not evaluated is an error (default 120)")
    templates.add_argument("--skip-non-templates", action="store_true",
                           help="skip (and list) files named on the command line that are not templates, "
                                "as for files found in folders; for pre-commit, which passes every YAML/JSON file")
    _common_scan_options(templates)

    account = targets.add_parser("account", help="live AWS account(s)")
    _account_options(account)
    _common_scan_options(account)

    plan = commands.add_parser("migration-plan", help="AL1 / unsupported notebook instances and their migration")
    _account_options(plan)
    plan.add_argument("--config")
    plan.add_argument("--format", choices=["text", "json"], default="text")
    plan.add_argument("--output")
    plan.add_argument("--quiet", action="store_true")

    rules = commands.add_parser("rules", help="the rule catalogue")
    rules.add_argument("--format", choices=["text", "json"], default="text")
    rules.add_argument("--rules-dir", action="append", default=[], type=Path)

    report = commands.add_parser("report", help="re-render a saved findings JSON")
    report.add_argument("findings", metavar="FINDINGS.json")
    report.add_argument("--format", choices=["text", "json", "html", "sarif", "junit"], default="text")
    report.add_argument("--output")
    _debug_option(report)

    diff = commands.add_parser("diff", help="new, resolved and unchanged failures between two scans")
    diff.add_argument("old", metavar="OLD.json")
    diff.add_argument("new", metavar="NEW.json")
    diff.add_argument("--format", choices=["text", "json"], default="text")
    diff.add_argument("--fail-on", choices=FAIL_ON_CHOICES, default="high")
    diff.add_argument("--output")
    _debug_option(diff)

    demo = commands.add_parser("demo", help="run a full live scan of a simulated three-account organization "
                                            "(needs the demo extra); exits 0 unless the scan could not run")
    demo.add_argument("--output", default="sagefence-demo", help="folder for findings.json and report.html")
    demo.add_argument("--quiet", action="store_true")

    policy = commands.add_parser("scanner-policy", help="print the least-privilege IAM policy the live scan needs")
    policy.add_argument("--role-name", help="the role sagefence assumes in member accounts (default sagefence-scanner)")
    return parser


def _account_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile")
    parser.add_argument("--regions", type=_csv, help="comma separated, or 'all' (default: all enabled regions)")
    parser.add_argument("--accounts", type=_csv, default=[], help="account ids to AssumeRole into")
    parser.add_argument("--organization", action="store_true", help="every active account of the organization")
    parser.add_argument("--role-name", help="role to assume in each account")
    parser.add_argument("--external-id")
    parser.add_argument("--max-workers", type=int, default=8)


@contextmanager
def _opened(path: str | None, stdout: TextIO, outputs: StagedOutputs) -> Iterator[TextIO]:
    """Where an output goes: stdout for no path or "-", else a temporary file renamed into place at the end."""
    if path is None or path == "-":
        yield stdout
        return
    with outputs.open(path) as out:
        yield out


def _write(text: str, path: str | None, stdout: TextIO) -> None:
    with staged() as outputs, _opened(path, stdout, outputs) as out:
        out.write(text)


def _outputs(args: argparse.Namespace, inputs: Sequence[str] = (),
             input_folders: Sequence[str] = ()) -> list[tuple[str, str | None]]:
    """The (format, path) pairs, every path checked before the scan: writable, named once, not an input."""
    from sagefence.reports import SUFFIX

    formats = args.formats or ["text"]
    if args.output_dir:
        if args.outputs:
            raise UsageError("give --output or --output-dir, not both")
        prepare_folder(args.output_dir)
        pairs: list[tuple[str, str | None]] = [(fmt, str(Path(args.output_dir) / f"findings.{SUFFIX[fmt]}"))
                                               for fmt in formats]
        check_outputs([path for _, path in pairs], inputs, input_folders)
        return pairs
    if len(args.outputs) > len(formats):
        raise UsageError("more --output than --format")
    pairs = [(fmt, args.outputs[i] if i < len(args.outputs) else None) for i, fmt in enumerate(formats)]
    if sum(1 for _, out in pairs if out is None) > 1:
        raise UsageError("several formats need one --output each (or --output-dir)")
    check_outputs([path for _, path in pairs], inputs, input_folders)
    return pairs


def _config_inputs(args: argparse.Namespace) -> list[str]:
    """Configuration files the scan may read: never overwritten by an output."""
    from sagefence.config import CONFIG_NAMES

    return [args.config] if args.config else [name for name in CONFIG_NAMES if Path(name).is_file()]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: the time budget must be a positive number of seconds")
    return value


def _prepare(args: argparse.Namespace, source: SourceKind):
    from sagefence.catalogue import load_catalogue
    from sagefence.config import load_config
    from sagefence.engine import select_rules
    from sagefence.scan import ScanContext

    catalogue = load_catalogue(getattr(args, "rules_dir", []))
    config, config_path = load_config(args.config, set(catalogue))
    rules = select_rules(catalogue, config, only=args.rules, skip=args.skip_rules, source=source,
                         rules_dirs=args.rules_dir)
    summary = {"path": config_path, "account_id": config.account_id, "region": config.region}
    return catalogue, ScanContext(config, rules, summary, file_budget_s=getattr(args, "time_budget", 120.0))


def _emit(doc, catalogue, pairs: list[tuple[str, str | None]], args: argparse.Namespace, stdout: TextIO,
          stderr: TextIO) -> int:
    from sagefence.findings import exit_status
    from sagefence.reports import render

    color = not args.no_color and "NO_COLOR" not in os.environ and stdout.isatty()
    with staged() as outputs:  # every file or none: a failure keeps the previous reports intact
        for fmt, path in pairs:
            with _opened(path, stdout, outputs) as out:
                if fmt == "json":  # written as it is encoded: a large scan's findings are not held twice
                    doc.write_json(out)
                else:
                    out.write(render(doc, fmt, catalogue, color=color and path is None))
    if not args.quiet and any(path is not None for _, path in pairs):
        s = doc.summary
        stderr.write(f"sagefence: {sum(s.fail.values())} failed, {s.pass_} passed, {s.error} errors, "
                     f"{s.unknown} unknown, {s.suppressed} suppressed\n")
    fail_on = None if args.fail_on == "never" else Severity(args.fail_on)
    return exit_status(doc, fail_on, args.allow_partial)


def _scan_templates(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from sagefence.scan import NoTemplates, scan_templates

    _paths_exist(args.paths)
    files = [p for p in args.paths if not Path(p).is_dir()]
    folders = [p for p in args.paths if Path(p).is_dir()]
    pairs = _outputs(args, files + _config_inputs(args), folders)
    _no_cyclic_gc()
    catalogue, ctx = _prepare(args, SourceKind.TEMPLATES)
    try:
        doc = scan_templates(args.paths, ctx, skip_non_templates=args.skip_non_templates)
    except NoTemplates as exc:  # nothing was checked: no report that could pass for a clean one
        stderr.write(f"sagefence: error: {exc}\n")
        return ExitStatus.INCOMPLETE
    return _emit(doc, catalogue, pairs, args, stdout, stderr)


def _paths_exist(paths: Sequence[str]) -> None:
    """A mistyped path is a usage error (exit 2), not a scan that found nothing."""
    from sagefence.reports.visible import visible

    for path in paths:
        if not os.path.lexists(path):  # a symlink loop exists: it is refused by the reader, naming why
            raise UsageError(f"no such file or folder: {visible(path)}")


def _no_cyclic_gc() -> None:
    """A scan builds millions of short-lived, acyclic objects (parsed YAML, resolved properties, findings):
    the cyclic collector's passes over them cost a quarter of a large scan and free nothing; reference
    counting still frees everything. The process ends with the command."""
    import gc

    gc.collect()
    gc.freeze()
    gc.disable()


def _scan_account(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from sagefence.scan_account import scan_account

    pairs = _outputs(args, _config_inputs(args))
    catalogue, ctx = _prepare(args, SourceKind.ACCOUNT)
    doc = scan_account(args, ctx, progress=not args.quiet and stderr.isatty() and not os.environ.get("CI"))
    return _emit(doc, catalogue, pairs, args, stdout, stderr)


def _rules(args: argparse.Namespace, stdout: TextIO) -> int:
    from sagefence.catalogue import load_catalogue

    catalogue = load_catalogue(args.rules_dir)
    if args.format == "json":
        rows = [{"id": r.id, "severity": r.severity.value, "title": r.title, "family": r.family,
                 "resource_types": list(r.resource_types), "sources": [s.value for s in r.sources],
                 "simulated": r.simulated, "description": r.description.strip(),
                 "remediation": r.remediation.strip(), "references": list(r.references),
                 "params": r.params, "decisions": list(r.decisions)} for r in catalogue.values()]
        stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return ExitStatus.OK
    for r in catalogue.values():
        sources = ",".join(s.value for s in r.sources)
        stdout.write(f"{r.id:<9} {r.severity.value:<8} {sources:<17} {r.title}\n")
    return ExitStatus.OK


def _report(args: argparse.Namespace, stdout: TextIO) -> int:
    from sagefence.catalogue import load_catalogue
    from sagefence.findings import load_document
    from sagefence.reports import render

    check_outputs([args.output], [args.findings])
    doc = load_document(args.findings)
    _write(render(doc, args.format, load_catalogue()), args.output, stdout)
    return ExitStatus.OK


def _diff(args: argparse.Namespace, stdout: TextIO) -> int:
    from sagefence.diff import diff_documents, diff_exit_status, render_diff_json, render_diff_text
    from sagefence.findings import load_document

    check_outputs([args.output], [args.old, args.new])
    result = diff_documents(load_document(args.old), load_document(args.new))
    text = render_diff_json(result) if args.format == "json" else render_diff_text(result)
    _write(text, args.output, stdout)
    return diff_exit_status(result, None if args.fail_on == "never" else Severity(args.fail_on))


def _scanner_policy(args: argparse.Namespace, stdout: TextIO) -> int:
    from sagefence.sources.aws import scanner_policy

    policy = scanner_policy(args.role_name) if args.role_name else scanner_policy()
    stdout.write(json.dumps(policy, indent=2) + "\n")
    return ExitStatus.OK


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2, --help/--version exit 0
        return int(exc.code or 0)
    from sagefence.catalogue import CatalogueError
    from sagefence.config import ConfigError
    from sagefence.engine import RuleSelectionError
    from sagefence.findings import FindingsFileError
    from sagefence.scan_account import LiveSetupFailed

    try:
        if args.command == "scan" and args.target == "templates":
            return _scan_templates(args, stdout, stderr)
        if args.command == "scan" and args.target == "account":
            return _scan_account(args, stdout, stderr)
        if args.command == "rules":
            return _rules(args, stdout)
        if args.command == "report":
            return _report(args, stdout)
        if args.command == "diff":
            return _diff(args, stdout)
        if args.command == "scanner-policy":
            return _scanner_policy(args, stdout)
        if args.command == "demo":
            from sagefence.demo import run_demo

            return run_demo(args, stdout, stderr)
        if args.command == "migration-plan":
            from sagefence.scan_account import migration_plan

            return migration_plan(args, stdout, stderr)
        parser.print_help(stderr)
        return ExitStatus.USAGE
    except (UsageError, ConfigError, CatalogueError, RuleSelectionError, FindingsFileError, OutputPathError) as exc:
        stderr.write(f"sagefence: error: {exc}\n")
        return ExitStatus.USAGE
    except LiveSetupFailed as exc:
        stderr.write(f"sagefence: error: {exc}\n")
        return ExitStatus.USAGE if exc.usage else ExitStatus.INCOMPLETE
    except OutputWriteError as exc:
        stderr.write(f"sagefence: error: {exc} (no report was replaced)\n")
        return ExitStatus.INCOMPLETE
    except Exception as exc:  # a bug: exit 3 (the run did not complete), never 1 ("failures found")
        return _internal_error(exc, getattr(args, "debug", False), stderr)


def _internal_error(exc: Exception, debug: bool, stderr: TextIO) -> int:
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=stderr)
    detail = " ".join(str(exc).split())
    detail = detail if len(detail) <= 300 else detail[:297] + "..."
    hint = "" if debug else "; --debug prints the traceback"
    stderr.write(f"sagefence: internal error (a bug, please report it): {type(exc).__name__}"
                 f"{': ' + detail if detail else ''}{hint}\n")
    return ExitStatus.INCOMPLETE


def run() -> None:
    status = main()
    # The process ends here. Python's last cyclic collection at exit would walk everything the
    # command built (0.3 s after a 1,000-call live scan: every botocore client, every event
    # handler) to free memory the operating system takes back anyway; it skips frozen objects.
    # Files and output streams are closed and flushed as before.
    import gc

    gc.freeze()
    sys.exit(status)
