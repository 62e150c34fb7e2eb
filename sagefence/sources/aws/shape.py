"""Building CloudFormation-shaped RawResources from API answers."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.inventory.raw import RawResource
from sagefence.status import SourceKind


def resource(
    type_: str,
    id_: str,
    properties: Mapping[str, Any],
    account: str,
    region: str | None,
    *,
    arn: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> RawResource:
    return RawResource(
        type=type_,
        id=id_,
        properties=dict(properties),
        source=SourceKind.ACCOUNT,
        account=account,
        region=region,
        arn=arn if arn is not None else (id_ if id_.startswith("arn:") else None),
        extra=dict(extra or {}),
    )


# The largest page SageMaker list calls accept (their default is 10), and Organizations' (20).
PAGE = {"PageSize": 100}
ORG_PAGE = {"PageSize": 20}


def present(**values: Any) -> dict[str, Any]:
    """The keyword arguments whose value the API returned (None means absent)."""
    return {key: value for key, value in values.items() if value is not None}


def parse_document(document: Any) -> Any:
    """Policy documents arrive as JSON strings from S3, KMS and EC2: parse when well formed,
    keep the string otherwise (the policy parser accepts both and reports the malformed)."""
    if isinstance(document, str):
        try:
            return json.loads(document)
        except ValueError:
            return document
    return document




def items(client: Any, method: str, key: str, **params: Any) -> list[Any]:
    """Every item of a listing, through the paginator when one exists (raises READ_ERRORS)."""
    return [item for page in pages(client, method, **params) for item in page.get(key, [])]


def pages(client: Any, method: str, **params: Any) -> Iterator[dict[str, Any]]:
    if client.can_paginate(method):
        yield from client.get_paginator(method).paginate(**params)
    else:
        yield getattr(client, method)(**params)
