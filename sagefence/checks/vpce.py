"""VPCE rules: the endpoints a SageMaker VPC needs, and how they are configured."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.common import service_short_name, truthy
from sagefence.inventory.index import Inventory
from sagefence.inventory.models import Located, SecurityGroup, Subnet, VpcEndpoint, Workload, as_list
from sagefence.status import Status
from sagefence.values import is_marker, is_opaque, require


def _everywhere(cidr: str) -> bool:
    """0.0.0.0/0, ::/0 and their other spellings (::0/0, 0.0.0.0/00, 0:0::/0, 0.0.0.0/0.0.0.0)."""
    _, _, prefix = cidr.partition("/")
    if not prefix or set(prefix.strip()) - set("0.:"):
        return False  # a non-zero prefix or netmask: not the whole address space (cheap, no parsing)
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def _workload_vpcs(inventory: Inventory) -> frozenset[str]:
    """Live scope: VPCs of Studio domains, notebook subnets, model/job VpcConfig subnets, plus config
    (once per inventory: every VPC's checks ask)."""
    vpcs: set[str] = set(inventory.config.scope.vpcs)
    subnets: list[Any] = []
    for domain in inventory.of_type("AWS::SageMaker::Domain"):
        vpcs.add(str(domain.props.get("VpcId")))
    for nb in inventory.of_type("AWS::SageMaker::NotebookInstance"):
        subnets.append(nb.props.get("SubnetId"))
    for wl in inventory.of_type("AWS::SageMaker::Model", "AWS::SageMaker::TrainingJob", "AWS::SageMaker::ProcessingJob"):
        config = wl.vpc_config if isinstance(wl, Workload) else None
        if isinstance(config, Mapping):
            subnets.extend(as_list(config.get("Subnets")))
    for subnet_id in subnets:
        subnet = inventory.lookup(subnet_id, "AWS::EC2::Subnet")
        if isinstance(subnet, Subnet) and isinstance(subnet.vpc_id, str):
            vpcs.add(subnet.vpc_id)
    return frozenset(vpcs)


def _in_scope(vpc: Located, inventory: Inventory) -> bool:
    if not vpc.live:
        return True
    return vpc.id in inventory.derived(_workload_vpcs)


def s3_endpoint(vpc: Located, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    if not _in_scope(vpc, inventory):
        return
    endpoints = inventory.endpoints_of(vpc)
    s3 = [e for e in endpoints if service_short_name(e.service_name) == "s3"]
    if s3:
        yield passed(f"S3 endpoint {s3[0].id} ({s3[0].endpoint_type})", endpoint=s3[0].id)
    elif any(is_opaque(e.service_name) for e in endpoints):
        yield unknown("no S3 endpoint found, but an endpoint's service name is not known before deployment")
    else:
        yield failed(f"VPC {vpc.id} has no S3 endpoint (com.amazonaws.<region>.s3, Gateway or Interface)")


def required_interface_endpoints(vpc: Located, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    if not _in_scope(vpc, inventory):
        return
    required = inventory.config.required_endpoints or tuple(params["required"])
    endpoints = inventory.endpoints_of(vpc)
    present: dict[str, VpcEndpoint] = {}
    wrong_type: dict[str, VpcEndpoint] = {}
    for endpoint in endpoints:
        short = service_short_name(endpoint.service_name)
        if short is None:
            continue
        (present if endpoint.is_interface else wrong_type).setdefault(short, endpoint)
    opaque = [e.id for e in endpoints if is_opaque(e.service_name)]
    missing = [svc for svc in required if svc not in present]
    if not missing:
        yield passed(f"all {len(required)} required interface endpoints present", services=list(required))
        return
    for svc in missing:
        evidence = {"service": svc, "required": list(required)}
        if opaque:
            yield Result(Status.UNKNOWN, f"interface endpoint for {svc} not found; endpoint(s) {', '.join(opaque)} "
                         "have a service name not known before deployment", evidence, key=svc)
        elif svc in wrong_type:
            yield Result(Status.FAIL, f"endpoint {wrong_type[svc].id} for {svc} is not of type Interface "
                         "(VpcEndpointType defaults to Gateway)", evidence, key=svc)
        else:
            yield Result(Status.FAIL, f"VPC {vpc.id} has no interface endpoint for {svc}", evidence, key=svc)


def private_dns(endpoint: VpcEndpoint, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    if not endpoint.is_interface:
        return
    if truthy(endpoint.private_dns, "PrivateDnsEnabled"):
        yield passed("private DNS is enabled")
    else:
        yield failed(f"interface endpoint {endpoint.id} ({service_short_name(endpoint.service_name) or endpoint.service_name}) "
                     "has private DNS off (PrivateDnsEnabled false or absent; the default is false)")


def open_security_groups(endpoint: VpcEndpoint, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    if not endpoint.is_interface:
        return
    group_ids = endpoint.security_group_ids
    open_rules: list[str] = []
    not_found: list[str] = []
    for group_id in group_ids:
        require(group_id, "SecurityGroupIds")
        group = inventory.lookup(group_id, "AWS::EC2::SecurityGroup")
        if not isinstance(group, SecurityGroup):
            not_found.append(str(group_id))
            continue
        for rule in group.ingress:
            for cidr in (rule.cidr_ipv4, rule.cidr_ipv6):
                if is_marker(cidr):
                    require(cidr, f"ingress of {group.id}")
                if is_opaque(cidr):
                    not_found.append(f"{group.id} (a rule's source is not known before deployment)")
                elif isinstance(cidr, str) and _everywhere(cidr):
                    open_rules.append(f"{group.id} allows ingress from {cidr.strip()} "
                                      f"(protocol {rule.protocol}, ports {rule.from_port}-{rule.to_port})")
    if open_rules:
        yield failed("; ".join(open_rules), groups=[str(g) for g in group_ids])
    elif not_found:
        yield unknown(f"security group(s) not in the scan: {', '.join(not_found)}")
    elif not group_ids:
        yield passed("no security group given: the VPC's default group applies (no ingress from anywhere by default)")
    else:
        yield passed(f"no ingress from 0.0.0.0/0 or ::/0 on {', '.join(str(g) for g in group_ids)}")
