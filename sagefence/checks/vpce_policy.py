"""Simulated VPCE-004: the S3 endpoint must not let data leave to any bucket."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.common import could_serve, service_short_name
from sagefence.checks.probes import OUTSIDE_ACCOUNT, account_of_resource, probe
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import VpcEndpoint
from sagefence.policy import condition_values, evaluate
from sagefence.status import Status
from sagefence.values import require_document

UNRELATED_OBJECT = "arn:aws:s3:::some-unrelated-bucket/x"


def s3_endpoint_policy(endpoint: VpcEndpoint, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    if not could_serve(endpoint.service_name, "s3"):
        return
    for result in _verdict(endpoint, inventory):
        if result.status is Status.FAIL and service_short_name(endpoint.service_name) != "s3":
            result = unknown(f"if the endpoint's service, not known before deployment, is S3: {result.message}",
                             **result.evidence)
        yield result


def _verdict(endpoint: VpcEndpoint, inventory: Inventory) -> Iterator[Result]:
    document = require_document(endpoint.policy, "PolicyDocument")
    if document is None:
        yield failed(f"S3 endpoint {endpoint.id} has no policy: the default allows any principal any S3 action "
                     "on any bucket, so data can leave to any bucket")
        return
    policy = inventory.policy(document, f"endpoint policy of {endpoint.id}", "endpoint")
    # The unrelated bucket is in another account; the probe principal belongs to our organization.
    context = {"aws:SourceVpce": str(endpoint.raw.extra.get("ref") or endpoint.id),
               "aws:SourceVpc": str(endpoint.vpc_id), "aws:VpcSourceIp": "10.0.0.10",
               "aws:ResourceAccount": OUTSIDE_ACCOUNT, "s3:ResourceAccount": OUTSIDE_ACCOUNT}
    org_ids = condition_values(policy, "aws:PrincipalOrgID")
    if org_ids:
        context["aws:PrincipalOrgID"] = org_ids[0]
    result = evaluate(probe("s3:PutObject", UNRELATED_OBJECT, account_of_resource(endpoint), context),
                      resource=policy)
    if result.allowed:
        yield failed(f"s3:PutObject to {UNRELATED_OBJECT} through the endpoint is allowed by "
                     f"{', '.join(r.label for r in result.deciding)}: data can leave to any bucket",
                     policy=policy.source)
    else:
        yield passed(f"s3:PutObject to an unrelated bucket is {result.describe()}", policy=policy.source)
