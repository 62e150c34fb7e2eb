"""NB rules: notebook instance platforms and their support dates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.common import could_be, unknowable, why_unknown
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import NotebookInstance

AL1 = "notebook-al1-v1"


def _platform(nb: NotebookInstance) -> Any:
    """The platform: None when absent, else a plain string or an unknown value (opaque, Missing)."""
    value = nb.platform
    return value if value is None or unknowable(value, "PlatformIdentifier") else str(value)


def amazon_linux_1(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    """A platform that is partly a parameter (notebook-al2-${Version}) that cannot be AL1 passes."""
    platform = _platform(nb)
    if platform is None:
        yield passed("PlatformIdentifier not set: a new instance gets the current default platform "
                     "(notebook-al2023-v1 today)", platform=None)
    elif platform == AL1:
        yield failed(f"notebook instance {nb.name} runs Amazon Linux 1 ({AL1}), out of support since 2024-03-31; "
                     "it cannot be restarted and must be migrated to a new instance", platform=platform)
    elif could_be(platform, AL1) or not isinstance(platform, str):
        yield unknown(why_unknown(platform, "PlatformIdentifier") + f"; it may be {AL1}", platform=str(platform))
    else:
        yield passed(f"platform {platform}", platform=platform)


def platform_table(params: Mapping[str, Any], inventory: Inventory) -> dict[str, date | None]:
    table: dict[str, date | None] = {}
    for name, end in params["platforms"].items():
        table[name] = end if isinstance(end, date) or end is None else date.fromisoformat(str(end))
    for name, entry in inventory.config.platforms.items():
        table[name] = entry.end_of_support
    return table


def supported_platform(nb: NotebookInstance, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    platform = _platform(nb)
    if platform is None:
        yield passed("PlatformIdentifier not set: a new instance gets the current default platform "
                     "(notebook-al2023-v1 today)", platform=None)
        return
    if unknowable(platform, "PlatformIdentifier"):
        yield unknown(why_unknown(platform, "PlatformIdentifier"), platform=str(platform))
        return
    table = platform_table(params, inventory)
    if platform not in table:
        yield unknown(f"platform {platform!r} is not in the platform table; its support date is not known",
                      platform=platform)
        return
    end = table[platform]
    if end is None:
        yield passed(f"platform {platform} is supported (no end of support announced)", platform=platform)
    elif end < inventory.scan_date:
        yield failed(f"notebook instance {nb.name} runs {platform}, past its end of standard support ({end.isoformat()})",
                     platform=platform, end_of_support=end.isoformat())
    else:
        yield passed(f"platform {platform} is supported until {end.isoformat()}", platform=platform,
                     end_of_support=end.isoformat())
