"""Seed the simulated organization and scan it through the live-scan code path, unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagefence.catalogue import Rule
    from sagefence.demo.world import World
    from sagefence.findings import FindingsDocument

CONFIG_NAME = "sagefence.yaml"


def demo_config(world: World) -> str:
    """The sagefence.yaml of the demo: which accounts are trusted, and what each deployer must pass."""
    from sagefence.demo.pipeline import EXECUTION, MODEL_EXECUTION

    lines = [
        "# Written by `sagefence demo` for its simulated organization.",
        "# The organization's own accounts are trusted (IAM-001, KMS-003); the management account",
        "# because every member's OrganizationAccountAccessRole trusts it.",
        "trusted_accounts:",
        f'  - "{world.management}"   # management',
        *(f'  - "{account}"   # {name}' for name, account in world.accounts.items()),
        "expectations:",
        "  passrole:   # IAM-004 (a): each stage's deployer passes the model execution role to SageMaker",
    ]
    for stage in ("staging", "production"):
        account = world.accounts[stage]
        lines += [
            f"    - deployer: arn:aws:iam::{account}:role/{EXECUTION}",
            f"      role: arn:aws:iam::{account}:role/{MODEL_EXECUTION}",
            "      service: sagemaker.amazonaws.com",
        ]
    return "\n".join(lines) + "\n"


def run_scan(output: Path) -> tuple[FindingsDocument, Mapping[str, Rule], dict[str, str]]:
    """Build the world, write its config into ``output``, and run ``scan_account`` on it.
    Returns the findings, the catalogue and the account ids by name."""
    from sagefence.catalogue import load_catalogue
    from sagefence.cli import build_parser
    from sagefence.config import load_config
    from sagefence.demo import SCAN_ARGV
    from sagefence.demo.harness import extended_responses, simulated_aws
    from sagefence.demo.world import seed
    from sagefence.engine import select_rules
    from sagefence.scan import ScanContext
    from sagefence.scan_account import scan_account
    from sagefence.status import SourceKind

    with simulated_aws():
        world = seed()
        config_path = output / CONFIG_NAME
        config_path.write_text(demo_config(world), encoding="utf-8")
        args = build_parser().parse_args([*SCAN_ARGV, "--config", str(config_path)])
        catalogue = load_catalogue(args.rules_dir)
        config, path = load_config(args.config, set(catalogue))
        rules = select_rules(catalogue, config, only=args.rules, skip=args.skip_rules, source=SourceKind.ACCOUNT,
                             rules_dirs=args.rules_dir)
        summary = {"path": path, "account_id": config.account_id, "region": config.region}
        handlers = {"after-call.sagemaker.DescribeNotebookInstance": world.notebook_fields.extend}
        with extended_responses(handlers):
            doc = scan_account(args, ScanContext(config, rules, summary), progress=False)
    return doc, catalogue, {"management": world.management, **world.accounts}
