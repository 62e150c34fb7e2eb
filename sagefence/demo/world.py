"""The simulated organization: a management account and three workload accounts.

Seeded through ordinary AWS API calls against moto, member accounts through the
``OrganizationAccountAccessRole`` that Organizations (and moto) creates in every new account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sagefence.demo.harness import DEMO_REGION, NotebookFields

SCAN_ROLE = "OrganizationAccountAccessRole"
ACCOUNT_NAMES = ("development", "staging", "production")
VENDOR_ACCOUNT = "444455556666"  # a labelling vendor outside the organization


@dataclass
class World:
    """What the seeding made: account ids by name, and the notebook fields moto cannot hold."""

    management: str
    accounts: dict[str, str]
    notebook_fields: NotebookFields = field(default_factory=NotebookFields)

    @property
    def development(self) -> str:
        return self.accounts["development"]

    @property
    def staging(self) -> str:
        return self.accounts["staging"]

    @property
    def production(self) -> str:
        return self.accounts["production"]


def seed() -> World:
    import boto3

    from sagefence.demo import development, pipeline

    management = boto3.Session(region_name=DEMO_REGION)
    world = _organization(management)
    development.seed(_member_session(management, world.development), world)
    pipeline.seed_target(_member_session(management, world.staging), world, "staging")
    pipeline.seed_target(_member_session(management, world.production), world, "production")
    return world


def _organization(management: Any) -> World:
    org = management.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    workloads = org.create_organizational_unit(ParentId=root, Name="ml-workloads")["OrganizationalUnit"]["Id"]
    accounts: dict[str, str] = {}
    for name in ACCOUNT_NAMES:
        status = org.create_account(AccountName=f"ml-{name}", Email=f"ml-{name}@example.com")["CreateAccountStatus"]
        accounts[name] = status["AccountId"]
        org.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=workloads)
    caller = management.client("sts").get_caller_identity()["Account"]
    return World(management=caller, accounts=accounts)


def _member_session(management: Any, account: str) -> Any:
    import boto3

    answer = management.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{SCAN_ROLE}", RoleSessionName="sagefence-demo-seed"
    )
    creds = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=DEMO_REGION,
    )


def put_role(iam: Any, name: str, trust: dict[str, Any], policies: dict[str, dict[str, Any]]) -> str:
    """A role with inline policies; returns its ARN."""
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for policy_name, document in policies.items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
    return str(arn)
