"""EC2 networking: VPCs, subnets, security groups and VPC endpoints (one listing each, run as
four independent tasks)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sagefence.sources.aws.calls import TaskClients
from sagefence.sources.aws.errors import READ_ERRORS, Batch
from sagefence.sources.aws.options import LiveScanOptions
from sagefence.sources.aws.shape import items, parse_document, present, resource

VPC = "AWS::EC2::VPC"
SUBNET = "AWS::EC2::Subnet"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
ENDPOINT = "AWS::EC2::VPCEndpoint"
TYPES = (VPC, SUBNET, SECURITY_GROUP, ENDPOINT)
# Endpoint states that mean the endpoint does not carry traffic (and will disappear).
_GONE = frozenset({"deleting", "deleted", "rejected", "failed", "expired"})


_LISTINGS = (
    (VPC, "describe_vpcs", "DescribeVpcs", "Vpcs"),
    (SUBNET, "describe_subnets", "DescribeSubnets", "Subnets"),
    (SECURITY_GROUP, "describe_security_groups", "DescribeSecurityGroups", "SecurityGroups"),
    (ENDPOINT, "describe_vpc_endpoints", "DescribeVpcEndpoints", "VpcEndpoints"),
)


def collect(clients: TaskClients, region: str, options: LiveScanOptions) -> Batch:
    """The four listings are independent: each is a follow-up task of its own."""
    batch = Batch()
    for listing in _LISTINGS:
        batch.later(partial(_listing, clients.fresh(), region, *listing))
    return batch


def _listing(clients: TaskClients, region: str, type_: str, method: str, operation: str, key: str) -> Batch:
    batch = Batch()
    account = clients.account
    try:
        found = items(clients("ec2"), method, key)
    except READ_ERRORS as err:
        batch.fail(account, region, type_, f"ec2.{operation}", err)
        return batch
    shape, kind = _SHAPES[type_]
    for item in found:
        if str(item.get("State", "")).lower() in _GONE:
            continue
        id_, properties = shape(item)
        arn = f"arn:aws:ec2:{region}:{account}:{kind}/{id_}"
        batch.resources.append(resource(type_, id_, properties, account, region, arn=arn))
    return batch


def _tags(item: dict[str, Any]) -> list[dict[str, str]] | None:
    tags = item.get("Tags")
    return [{"Key": t["Key"], "Value": t.get("Value", "")} for t in tags] if tags else None


def _vpc(vpc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return vpc["VpcId"], present(CidrBlock=vpc.get("CidrBlock"), Tags=_tags(vpc))


def _subnet(subnet: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    properties = present(
        VpcId=subnet.get("VpcId"),
        CidrBlock=subnet.get("CidrBlock"),
        AvailabilityZone=subnet.get("AvailabilityZone"),
        Tags=_tags(subnet),
    )
    return subnet["SubnetId"], properties


def _group(group: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    properties = present(
        GroupName=group.get("GroupName"),
        GroupDescription=group.get("Description"),
        VpcId=group.get("VpcId"),
        SecurityGroupIngress=_rules(group.get("IpPermissions", []), "Source"),
        SecurityGroupEgress=_rules(group.get("IpPermissionsEgress", []), "Destination"),
        Tags=_tags(group),
    )
    return group["GroupId"], properties


def _rules(permissions: list[dict[str, Any]], direction: str) -> list[dict[str, Any]]:
    """API permissions to CloudFormation rules: one rule per range, group or prefix list."""
    rules: list[dict[str, Any]] = []
    for permission in permissions:
        base = present(
            IpProtocol=permission.get("IpProtocol"),
            FromPort=permission.get("FromPort"),
            ToPort=permission.get("ToPort"),
        )
        for ip_range in permission.get("IpRanges", []):
            rules.append({**base, "CidrIp": ip_range["CidrIp"]})
        for ip_range in permission.get("Ipv6Ranges", []):
            rules.append({**base, "CidrIpv6": ip_range["CidrIpv6"]})
        for pair in permission.get("UserIdGroupPairs", []):
            rules.append({**base, f"{direction}SecurityGroupId": pair.get("GroupId")})
        for prefix in permission.get("PrefixListIds", []):
            rules.append({**base, f"{direction}PrefixListId": prefix.get("PrefixListId")})
    return rules


def _endpoint(endpoint: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kind = endpoint.get("VpcEndpointType") or "Gateway"  # AWS default; moto answers None
    properties = present(
        VpcId=endpoint.get("VpcId"),
        ServiceName=endpoint.get("ServiceName"),
        VpcEndpointType=kind,
        PolicyDocument=parse_document(endpoint.get("PolicyDocument")),
        RouteTableIds=endpoint.get("RouteTableIds") or None,
        SubnetIds=endpoint.get("SubnetIds") or None,
        SecurityGroupIds=[g["GroupId"] for g in endpoint.get("Groups", [])] or None,
        Tags=_tags(endpoint),
    )
    if kind == "Interface":  # gateway endpoints have no private DNS
        properties["PrivateDnsEnabled"] = bool(endpoint.get("PrivateDnsEnabled", False))
    return endpoint["VpcEndpointId"], properties


# Resource type -> (API item to id and properties, ARN resource kind).
_SHAPES: dict[str, tuple[Callable[[dict[str, Any]], tuple[str, dict[str, Any]]], str]] = {
    VPC: (_vpc, "vpc"),
    SUBNET: (_subnet, "subnet"),
    SECURITY_GROUP: (_group, "security-group"),
    ENDPOINT: (_endpoint, "vpc-endpoint"),
}
