"""``sagefence demo``: a full live scan of a simulated three-account organization, no AWS account needed.

The organization follows AWS's reference architecture for regulated ML teams: a management
account, and development, staging and production accounts under an ``ml-workloads`` OU (see
``world.py``, ``development.py`` and ``pipeline.py`` for what each holds and which mistakes it
ships with on purpose).

How it runs
-----------
1. ``harness.simulated_aws`` sets dummy credentials and a clean AWS environment (no
   ``AWS_ENDPOINT_URL``, profile or config file; everything restored afterwards) and starts moto
   in-process with its random generator seeded, so account ids and resource ids are the same on
   every run.
2. ``world.seed`` builds the organization with ordinary API calls; member accounts are seeded
   through the ``OrganizationAccountAccessRole`` that Organizations creates in each new account.
3. The demo config (trusted accounts, the PassRole expectations of IAM-004) is written to
   ``<output>/sagefence.yaml`` and the scan runs through exactly the code path of
   ``sagefence scan account --organization --role-name OrganizationAccountAccessRole
   --regions us-east-1 --config <output>/sagefence.yaml``: the same argparse Namespace, the same
   ``scan_account`` call. Nothing in the scanner knows it is a demo.

Where moto drops a field the rules read, the *simulation* is extended, never the scanner:
moto never returns a notebook's ``PlatformIdentifier`` (nor ``RootAccess`` when it was not
given). ``harness.extended_responses`` appends an ``after-call.sagemaker.DescribeNotebookInstance``
handler to ``botocore.handlers.BUILTIN_HANDLERS``, which every botocore session registers when it
is created, so every client the scanner makes (per account, per thread) gets it without being
told; the handler only fills fields that are absent, and is removed when the scan ends. This was
preferred over a ``ThreadedMotoServer`` with a forwarding layer: no port, no HTTP hop (1-2 ms a
call instead of 4-5), nothing left running if the demo is interrupted. The other moto gaps
(lifecycle configuration listing, ``DomainId`` on create) are already handled by the collectors.

Exit status: 0 when the scan ran through, although the simulated organization has failures by
design (a demo that "fails" confuses newcomers); 3 when something could not be examined (an
``error`` finding or entry would mean the demo itself is broken); 2 when moto is not installed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TextIO

from sagefence.status import ExitStatus

# The moto backends the scan reaches; moto imports them on first use, from a worker thread.
BACKENDS = ("sts", "organizations", "iam", "ec2", "s3", "kms", "sagemaker", "cloudformation")
SCAN_ARGV = ["scan", "account", "--organization", "--role-name", "OrganizationAccountAccessRole",
             "--regions", "us-east-1", "--quiet"]
INSTALL_HINT = "sagefence demo needs moto with its cloudformation backend: pip install 'sagefence[demo]'"


def run_demo(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Seed the simulated organization, scan it, write findings.json and report.html into args.output."""
    from sagefence.demo.harness import demo_environment

    with demo_environment():  # moto reads the AWS environment when its backends are imported
        missing = _missing_simulation()
    if missing:
        stderr.write(f"sagefence: error: {INSTALL_HINT} ({missing})\n")
        return ExitStatus.USAGE
    from sagefence.demo.scan import run_scan

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    if not args.quiet:
        stderr.write("sagefence demo: simulating an organization (management, development, staging, "
                     "production) and scanning it as `sagefence scan account --organization` would\n")
    doc, catalogue, accounts = run_scan(output)
    from sagefence.findings import exit_status
    from sagefence.outputs import staged
    from sagefence.reports import render

    with staged() as outputs:  # both files or neither, each renamed into place (a symlink is replaced)
        for name, text in (("findings.json", render(doc, "json")), ("report.html", render(doc, "html", catalogue))):
            with outputs.open(str(output / name)) as out:
                out.write(text)
    stdout.write(render(doc, "text", color=False))
    stdout.write("\nAccounts:      " + ", ".join(f"{account} {name}" for name, account in accounts.items()))
    stdout.write(f"\nDemo findings: {output / 'findings.json'}\nHTML report:   {output / 'report.html'}\n"
                 f"Demo config:   {output / 'sagefence.yaml'}\n")
    incomplete = exit_status(doc, None, allow_partial=False) == ExitStatus.INCOMPLETE
    if not args.quiet:
        outcome = ("the scan could not examine everything (see the errors above): exit 3" if incomplete else
                   "the failures above are the simulated organization's, on purpose: exit 0")
        stderr.write(f"sagefence demo: done in {time.perf_counter() - clock:.1f}s; {outcome}\n")
    return ExitStatus.INCOMPLETE if incomplete else ExitStatus.OK


def _missing_simulation() -> str | None:
    """Why moto cannot simulate every service the scan calls (moto itself, or a backend's optional
    dependency such as the cloudformation backend's), or None."""
    import importlib

    for backend in ("moto", *(f"moto.{name}" for name in BACKENDS)):
        try:
            importlib.import_module(backend)
        except ImportError as exc:
            return f"{backend}: {exc}"
    return None
