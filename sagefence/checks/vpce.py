"""VPCE rules: the endpoints a SageMaker VPC needs, and how they are configured."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from sagefence.checks import Result, failed, passed, unknown
from sagefence.checks.common import boolean, could_serve, service_short_name, unknowable, why_unknown
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


def interface(endpoint: VpcEndpoint) -> bool | None:
    """Whether the endpoint is of type Interface (VpcEndpointType defaults to Gateway); None when not known."""
    return None if unknowable(endpoint.endpoint_type, "VpcEndpointType") else endpoint.is_interface


def s3_endpoint(vpc: Located, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    if not _in_scope(vpc, inventory):
        return
    endpoints = inventory.endpoints_of(vpc)
    s3 = [e for e in endpoints if service_short_name(e.service_name) == "s3"]
    maybe = [e.id for e in endpoints if service_short_name(e.service_name) is None and could_serve(e.service_name, "s3")]
    if s3:
        yield passed(f"S3 endpoint {s3[0].id} ({s3[0].endpoint_type})", endpoint=s3[0].id)
    elif maybe:
        yield unknown(f"no S3 endpoint found, but endpoint(s) {', '.join(maybe)} have a service name not known "
                      "before deployment that may be S3", endpoints=maybe)
    else:
        yield failed(f"VPC {vpc.id} has no S3 endpoint (com.amazonaws.<region>.s3, Gateway or Interface)")


def _unknown_endpoints(endpoints: list[VpcEndpoint], missing: list[str]) -> dict[str, list[str]]:
    """Endpoints that may be the interface endpoint of a missing service (service name or type not
    known): endpoint id -> the missing services it may serve."""
    out: dict[str, list[str]] = {}
    for endpoint in endpoints:
        known = service_short_name(endpoint.service_name) is not None
        if interface(endpoint) is False or known and interface(endpoint):
            continue
        services = [svc for svc in missing if could_serve(endpoint.service_name, svc)]
        if services:
            out[endpoint.id] = services
    return out


def required_interface_endpoints(vpc: Located, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    """One finding per missing service. k endpoints whose service (or type) is not known cover at most k of
    the services they may serve: with more of those missing than k, each is a fail saying "at least n"."""
    if not _in_scope(vpc, inventory):
        return
    required = inventory.config.required_endpoints or tuple(params["required"])
    endpoints = inventory.endpoints_of(vpc)
    present = {service_short_name(e.service_name) for e in endpoints if interface(e)}
    wrong_type = {service_short_name(e.service_name): e for e in endpoints if interface(e) is False}
    missing = [svc for svc in required if svc not in present]
    if not missing:
        yield passed(f"all {len(required)} required interface endpoints present", services=list(required))
        return
    unknown_endpoints = _unknown_endpoints(endpoints, missing)
    coverable = [svc for svc in missing if any(svc in s for s in unknown_endpoints.values())]
    at_least = len(coverable) - len(unknown_endpoints)
    for svc in missing:
        evidence: dict[str, Any] = {"service": svc, "required": list(required)}
        note = (f"endpoint {wrong_type[svc].id} for {svc} is not of type Interface (VpcEndpointType defaults to "
                "Gateway)") if svc in wrong_type else f"VPC {vpc.id} has no interface endpoint for {svc}"
        if svc not in coverable:
            yield Result(Status.FAIL, note, evidence, key=svc)
            continue
        ids, k = ", ".join(unknown_endpoints), len(unknown_endpoints)
        head = f"VPC {vpc.id}: no endpoint is known to be the interface endpoint for {svc}"
        evidence.update(unknown_endpoints=list(unknown_endpoints), may_be_missing=coverable)
        if at_least > 0:
            yield Result(Status.FAIL, f"{head}; endpoint(s) {ids}, whose service is not known before deployment, "
                         f"can cover at most {k} of {', '.join(coverable)}, so at least {at_least} of these services "
                         "are missing", {**evidence, "at_least_missing": at_least}, key=svc)
        else:
            yield Result(Status.UNKNOWN, f"{head}; endpoint(s) {ids} have a service name or type not known before "
                         "deployment and may be it", evidence, key=svc)


def private_dns(endpoint: VpcEndpoint, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    kind = interface(endpoint)
    if kind is False:
        return
    dns = boolean(endpoint.private_dns, "PrivateDnsEnabled")
    if dns:
        yield passed("private DNS is enabled")
    elif dns is None:
        yield unknown(why_unknown(endpoint.private_dns, "PrivateDnsEnabled"))
    elif kind is None:
        yield unknown(f"private DNS is off; {why_unknown(endpoint.endpoint_type, 'VpcEndpointType')}, and only an "
                      "interface endpoint needs it")
    else:
        yield failed(f"interface endpoint {endpoint.id} ({service_short_name(endpoint.service_name) or endpoint.service_name}) "
                     "has private DNS off (PrivateDnsEnabled false or absent; the default is false)")


def open_security_groups(endpoint: VpcEndpoint, inventory: Inventory, params: Mapping[str, Any]) -> Iterator[Result]:
    if interface(endpoint) is False:
        return  # a type not known before deployment is evaluated: only an interface endpoint has groups
    group_ids = endpoint.security_group_ids
    open_rules: list[str] = []
    not_found: list[str] = []
    for group_id in group_ids:
        group = None if unknowable(group_id, "SecurityGroupIds") else inventory.lookup(group_id, "AWS::EC2::SecurityGroup")
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
