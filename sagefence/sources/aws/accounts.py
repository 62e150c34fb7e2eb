"""Who is scanned: the caller, listed accounts, or an organization; and in which regions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botocore.credentials import RefreshableCredentials
from botocore.exceptions import NoCredentialsError, PartialCredentialsError, ProfileNotFound

from sagefence.sources.aws import calls
from sagefence.sources.aws.calls import AccountClients, CallCounter
from sagefence.sources.aws.errors import READ_ERRORS, describe
from sagefence.sources.aws.options import LiveScanOptions, LiveScanSetupError

DEFAULT_REGION = "us-east-1"
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ENABLED = frozenset({"opt-in-not-required", "opted-in"})
# The commercial regions AWS opened before 20 March 2019: enabled in every account, and no
# account can disable them (OptInStatus "opt-in-not-required"; every later region is opt-in).
# AWS Account Management guide, "Enable or disable AWS Regions in your account": "Default
# Regions cannot be enabled or disabled."
ALWAYS_ENABLED = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
})
UNKNOWN = "caller"  # the caller's account until GetCallerIdentity answers
SETUP_ERRORS = (*READ_ERRORS, NoCredentialsError, PartialCredentialsError)


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str
    partition: str
    clients: AccountClients


def caller_clients(options: LiveScanOptions, counter: CallCounter) -> AccountClients:
    """The caller's clients, before its account is known (calls are credited to it by ``identify``)."""
    try:
        session = calls.new_session(profile=options.profile)
        region = session.get_config_variable("region")
        return AccountClients(UNKNOWN, session, counter, region or DEFAULT_REGION, pool=options.max_workers)
    except ProfileNotFound as err:
        raise LiveScanSetupError(f"--profile: {err}", usage=True) from err


def identify(clients: AccountClients, counter: CallCounter) -> Caller:
    """The scan's own identity (sts.GetCallerIdentity); any failure is a setup error."""
    try:
        identity = clients.client("sts").get_caller_identity()
    except ProfileNotFound as err:
        raise LiveScanSetupError(f"--profile: {err}", usage=True) from err
    except SETUP_ERRORS as err:
        raise LiveScanSetupError(f"cannot use the AWS credentials: {describe('sts.GetCallerIdentity', err)}") from err
    account = identity["Account"]
    clients.account = account
    counter.rename_account(UNKNOWN, account)
    return Caller(account, identity["Arn"], identity["Arn"].split(":")[1], clients)


def requested_accounts(options: LiveScanOptions) -> tuple[str, ...]:
    if options.accounts and options.organization:
        raise LiveScanSetupError("--accounts and --organization cannot be combined", usage=True)
    for account in options.accounts:
        if not _ACCOUNT_ID.match(account):
            raise LiveScanSetupError(f"--accounts: {account!r} is not a 12-digit account id", usage=True)
    return tuple(dict.fromkeys(options.accounts))


def member_clients(me: Caller, account: str, options: LiveScanOptions, counter: CallCounter) -> AccountClients:
    """Clients in a member account through its scanner role (raises READ_ERRORS).

    The role's credentials refresh themselves (a new AssumeRole) before they expire, so a
    scan longer than the session duration goes on.
    """
    role_arn = f"arn:{me.partition}:iam::{account}:role/{options.role_name}"
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": "sagefence-scan"}
    if options.external_id:
        params["ExternalId"] = options.external_id

    def assume() -> dict[str, Any]:  # runs in whichever thread needs fresh credentials
        answer = me.clients.client("sts").assume_role(**params)["Credentials"]
        return {
            "access_key": answer["AccessKeyId"],
            "secret_key": answer["SecretAccessKey"],
            "token": answer["SessionToken"],
            "expiry_time": answer["Expiration"].isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(assume(), assume, "sts-assume-role")
    session = calls.new_session(credentials=credentials, region=me.clients.home_region)
    return AccountClients(account, session, counter, me.clients.home_region, pool=options.max_workers)


@dataclass(frozen=True)
class Regions:
    scanned: tuple[str, ...]
    unknown: tuple[str, ...]
    notices: tuple[str, ...]
    # Every region asked for by name is one that no account can disable (OptInStatus
    # "opt-in-not-required": the regions from before 2019), so other accounts need not be asked.
    enabled_everywhere: bool = False


def known_regions(options: LiveScanOptions) -> Regions | None:
    """The regions to scan without asking (no DescribeRegions) when every region named is one no
    account can disable, as the answer would say; None when the accounts must be asked (all
    regions, an opt-in or unknown region). Only for the commercial partition: the caller's
    partition is checked against it once GetCallerIdentity answers."""
    if options.all_regions:
        return None
    wanted = tuple(dict.fromkeys(options.regions or ()))
    if not wanted or not ALWAYS_ENABLED.issuperset(wanted):
        return None
    return Regions(wanted, (), (), enabled_everywhere=True)


def enabled_regions(clients: AccountClients, partition: str, options: LiveScanOptions) -> Regions:
    """The regions to scan in one account (ec2.DescribeRegions, raises READ_ERRORS)."""
    return regions_from(describe_regions(clients), clients, partition, options)


def describe_regions(clients: AccountClients) -> dict[str, Any]:
    return dict(clients.client("ec2").describe_regions(AllRegions=True))


def regions_from(answer: dict[str, Any], clients: AccountClients, partition: str, options: LiveScanOptions) -> Regions:
    known = set(clients.session.get_available_regions("ec2", partition_name=partition))
    raw = {r["RegionName"]: r.get("OptInStatus") for r in answer.get("Regions", [])}
    status = {name: state or "opt-in-not-required" for name, state in raw.items()}
    status = {name: state for name, state in status.items() if name in known or not known}
    wanted = sorted(status) if options.all_regions else list(dict.fromkeys(options.regions or ()))
    scanned: list[str] = []
    unknown: list[str] = []
    notices: list[str] = []
    for region in wanted:
        state = status.get(region)
        if state is None:
            unknown.append(region)
            notices.append(f"skipped region {region} in account {clients.account} (unknown to the account)")
        elif state not in _ENABLED:
            notices.append(f"skipped opt-in region {region} in account {clients.account} (not enabled)")
        else:
            scanned.append(region)
    everywhere = bool(wanted) and not options.all_regions and all(raw.get(r) == "opt-in-not-required" for r in wanted)
    return Regions(tuple(scanned), tuple(unknown), tuple(notices), enabled_everywhere=everywhere)
