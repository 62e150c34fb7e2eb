"""What a live scan is asked to do, and what it hands back. No boto3 here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sagefence.inventory.raw import ListingFailure, RawResource


class LiveScanSetupError(Exception):
    """The scan cannot start: no credentials, bad options, no account reachable.

    The message is one line meant for the user. ``usage`` is True for a bad option
    (exit 2) and False when AWS could not be reached or read (exit 3).
    """

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class LiveScanOptions:
    profile: str | None = None
    regions: tuple[str, ...] | None = None  # None or ("all",): every enabled region
    accounts: tuple[str, ...] = ()  # AssumeRole into each with role_name
    organization: bool = False
    role_name: str | None = None
    external_id: str | None = None
    max_workers: int = 8
    recent_jobs: int = 20  # SM-006: most recent N training and processing jobs per region
    progress: bool = False  # rich progress bar on stderr

    @property
    def all_regions(self) -> bool:
        return self.regions is None or tuple(r.lower() for r in self.regions) == ("all",)


@dataclass(frozen=True)
class LiveScanResult:
    resources: tuple[RawResource, ...]
    failures: tuple[ListingFailure, ...]
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    # {"total", "retries", "by_operation", "retries_by_operation", "by_account_region"}
    api_calls: dict[str, Any] = field(default_factory=dict)
    notices: tuple[str, ...] = ()
