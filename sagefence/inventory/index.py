"""The inventory: typed resources of one evaluation, with their relationships resolved once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sagefence.inventory.models import (
    MODEL_OF_TYPE,
    Bucket,
    Generic,
    IngressRule,
    Located,
    ManagedPolicy,
    PolicyDoc,
    Role,
    SecurityGroup,
    VpcEndpoint,
    as_list,
)
from sagefence.inventory.raw import RawResource
from sagefence.inventory.schema import checked_properties
from sagefence.status import SourceKind
from sagefence.values import Malformed, is_marker, require

if TYPE_CHECKING:
    from sagefence.config import Config

T = TypeVar("T")

AWS_MANAGED_DATA = Path(__file__).resolve().parent.parent / "data" / "aws_managed_policies.json"


@lru_cache(maxsize=1)
def shipped_aws_managed_policies() -> Mapping[str, Any]:
    return json.loads(AWS_MANAGED_DATA.read_text(encoding="utf-8"))["policies"]


@lru_cache(maxsize=64)
def _parsed_shipped(arn: str, kind: str) -> Any:
    """Shipped AWS managed policies are parsed once per process, not once per inventory."""
    from sagefence import policy as policy_engine

    shipped = shipped_aws_managed_policies()[arn]
    return policy_engine.parse_policy(shipped["document"], f"AWS managed policy {shipped['name']}", kind)


def _unreadable(value: Any) -> bool:
    from sagefence.values import ReadError, is_opaque

    return isinstance(value, ReadError) or is_opaque(value)


def _is_scp(scp: Located) -> bool:
    kind = scp.props.get("Type", "SERVICE_CONTROL_POLICY")
    return not isinstance(kind, str) or _unreadable(kind) or kind == "SERVICE_CONTROL_POLICY"


def _scp_targets(scp: Located) -> list[str] | None:
    """The ids an SCP is attached to, or None when they could not be read (it may be attached anywhere)."""
    targets = scp.props.get("TargetIds")
    if isinstance(targets, str) and not _unreadable(targets):
        return [targets]
    if targets is None:
        return []
    if not isinstance(targets, list | tuple) or any(_unreadable(t) or not isinstance(t, str) for t in targets):
        return None
    return list(targets)


def _scp_statements(scp: Located) -> list[Any] | None:
    """An SCP's statements, or None when its content could not be read (not JSON, not a policy)."""
    content = scp.props.get("Content")
    if isinstance(content, str) and not _unreadable(content):
        try:
            content = json.loads(content)
        except ValueError:
            return None
    if not isinstance(content, Mapping) or "Statement" not in content:
        return None
    return as_list(content.get("Statement"))


def _keys(raw: RawResource) -> Iterable[str]:
    yield raw.id
    if raw.arn:
        yield raw.arn
    ref = raw.extra.get("ref")
    if isinstance(ref, str):
        yield ref
    for prop in ("BucketName", "RoleName", "ManagedPolicyName", "NotebookInstanceName", "AliasName",
                 "ModelName", "NotebookInstanceLifecycleConfigName", "DomainName"):
        value = raw.properties.get(prop)
        if isinstance(value, str):
            yield value


def _endpoints_by_vpc(inventory: Inventory) -> dict[str, list[tuple[int, VpcEndpoint]]]:
    """VpcId -> (inventory position, endpoint) of every endpoint naming it."""
    by_vpc: dict[str, list[tuple[int, VpcEndpoint]]] = {}
    for position, endpoint in enumerate(inventory.of_type("AWS::EC2::VPCEndpoint")):
        if isinstance(endpoint, VpcEndpoint) and isinstance(endpoint.vpc_id, str):
            by_vpc.setdefault(endpoint.vpc_id, []).append((position, endpoint))
    return by_vpc


class Inventory:
    """What checks see. ``extra_roles`` are roles of other template groups, known by ARN only."""

    def __init__(self, resources: Sequence[RawResource], *, config: Config, source: SourceKind,
                 scan_date: date | None = None, known_ids: frozenset[str] = frozenset(),
                 extra_roles: Mapping[str, Role] | None = None) -> None:
        self.config = config
        self.source = source
        self.scan_date = scan_date or date.today()
        self.known_ids = known_ids
        checked = [_well_typed(r) for r in resources]
        self._raw = [r for r in checked if "broken" not in r.extra]
        self.broken = [r for r in checked if "broken" in r.extra]
        self._by_key: dict[str, list[RawResource]] = {}
        for raw in self._raw:
            for key in _keys(raw):
                self._by_key.setdefault(key, []).append(raw)
        self._typed: dict[int, Located] = {}
        self._by_type: dict[str, list[Located]] = {}
        self._policy_cache: dict[tuple[int, str], Any] = {}
        self._extra_roles = extra_roles if extra_roles is not None else {}  # shared: filled as groups load
        self._scp_cache: dict[str, list[Any]] = {}
        self._derived: dict[Callable[[Inventory], Any], Any] = {}
        self._build()

    # -- lookups --------------------------------------------------------------------------

    def of_type(self, *types: str) -> list[Located]:
        out: list[Located] = []
        for t in types:
            out.extend(self._by_type.get(t, ()))
        return out

    def all(self) -> list[Located]:
        return [self._typed[id(r)] for r in self._raw]

    def lookup(self, value: Any, *types: str) -> Located | None:
        """The resource a value refers to (Ref token, id, ARN or name), optionally of given types."""
        if not isinstance(value, str):
            return None
        for raw in self._by_key.get(value, ()):
            if not types or raw.type in types:
                return self._typed[id(raw)]
        return None

    def role_by_arn(self, arn: Any) -> Role | None:
        found = self.lookup(arn, "AWS::IAM::Role")
        if isinstance(found, Role):
            return found
        return self._extra_roles.get(arn) if isinstance(arn, str) else None

    def extra_roles(self) -> Mapping[str, Role]:
        return self._extra_roles

    def scps_for(self, account: str | None) -> list[Any]:
        """The SCPs that apply to an account, one merged policy per level (root, OUs, account).

        An SCP whose content could not be read makes its level's policy unknown (it may allow
        or deny anything: `unknown_policy(may_deny=True)` around the readable statements); one
        whose targets could not be read does so at every level, and an unreadable parent chain
        adds one unknown level for the parents."""
        from sagefence import policy as policy_engine

        if account is None or not self._by_type.get("AWS::Organizations::Policy"):
            return []
        if account in self._scp_cache:
            return self._scp_cache[account]
        record = next((a for a in self._by_type.get("AWS::Organizations::Account", ())
                       if a.props.get("Id") == account), None)
        parents = record.props.get("ParentIds") if record is not None else None
        readable = not _unreadable(parents) and not any(_unreadable(p) for p in as_list(parents))
        levels: list[str | None] = [*(as_list(parents) if readable else [None]), account]
        scps = [scp for scp in self._by_type["AWS::Organizations::Policy"] if _is_scp(scp)]
        merged = []
        for level in levels:
            statements: list[Any] = []
            unknown = level is None
            for scp in scps:
                targets = _scp_targets(scp)
                if targets is not None and level not in targets:
                    continue
                content = _scp_statements(scp)
                unknown = unknown or content is None or targets is None
                statements.extend(content if content is not None and targets is not None else [])
            source = f"SCPs attached to {level or f'the parents of {account} (not readable)'}"
            known = self.policy({"Version": "2012-10-17", "Statement": statements}, source, "scp") \
                if statements else None
            if unknown:
                merged.append(policy_engine.unknown_policy(source, "scp", may_deny=True, known=known))
            elif known is not None:
                merged.append(known)
        self._scp_cache[account] = merged
        return merged

    def derived(self, build: Callable[[Inventory], T]) -> T:
        """``build(self)``, computed once: a fact about the whole inventory that checks ask for
        resource by resource (it must not be changed by the caller)."""
        if build not in self._derived:
            self._derived[build] = build(self)
        return cast(T, self._derived[build])

    def endpoints_of(self, vpc: Located) -> list[VpcEndpoint]:
        """Endpoints whose VpcId names the VPC by any of its keys, in inventory order (indexed once)."""
        by_vpc = self.derived(_endpoints_by_vpc)
        found: dict[int, VpcEndpoint] = {}
        for key in _keys(vpc.raw):
            found.update(by_vpc.get(key, ()))
        return [found[position] for position in sorted(found)]

    def exists(self, value: str) -> bool:
        return value in self._by_key or value in self.known_ids

    def policy(self, doc: PolicyDoc | Any, source: str | None = None, kind: str = "identity") -> Any:
        """Parse a policy document once per inventory (raises sagefence.policy.PolicyError)."""
        from sagefence import policy as policy_engine

        if isinstance(doc, PolicyDoc):
            source, kind, document = doc.source, doc.kind, doc.document
            if document is None:
                return policy_engine.unknown_policy(source)
            if doc.holder is None and doc.arn in shipped_aws_managed_policies():
                return _parsed_shipped(doc.arn, kind)
        else:
            document = doc
        if is_marker(document):
            require(document, source or "policy")  # raises: a failed read is an error, a missing one unknown
        key = (id(document), kind)
        if key not in self._policy_cache:
            self._policy_cache[key] = (document, policy_engine.parse_policy(document, source or "policy", kind))
        return self._policy_cache[key][1]

    # -- building ---------------------------------------------------------------------------

    def _add(self, model: Located) -> None:
        self._typed[id(model.raw)] = model
        self._by_type.setdefault(model.raw.type, []).append(model)

    def _build(self) -> None:
        bucket_policies: dict[int, list[tuple[str, Any]]] = {}
        ingress_extra: dict[int, list[IngressRule]] = {}
        attached: dict[int, list[PolicyDoc]] = {}
        pending_roles: list[RawResource] = []
        pending_buckets: list[RawResource] = []
        pending_groups: list[RawResource] = []
        for raw in self._raw:
            rtype = raw.type
            if rtype == "AWS::S3::Bucket":
                pending_buckets.append(raw)
            elif rtype == "AWS::IAM::Role":
                pending_roles.append(raw)
            elif rtype == "AWS::EC2::SecurityGroup":
                pending_groups.append(raw)
            else:
                self._add(MODEL_OF_TYPE.get(rtype, Generic)(raw))
        for policy_raw in self._raws_of("AWS::S3::BucketPolicy"):
            target = self._find_raw(policy_raw.properties.get("Bucket"), "AWS::S3::Bucket")
            if target is not None:
                bucket_policies.setdefault(id(target), []).append(
                    (policy_raw.id, policy_raw.properties.get("PolicyDocument")))
        for ingress in self._raws_of("AWS::EC2::SecurityGroupIngress"):
            target = self._find_raw(ingress.properties.get("GroupId"), "AWS::EC2::SecurityGroup")
            if target is not None:
                ingress_extra.setdefault(id(target), []).append(_ingress_rule(ingress.properties, ingress.id))
        for model in self.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            assert isinstance(model, ManagedPolicy)
            for role_ref in as_list(model.props.get("Roles")):
                target = self._find_raw(role_ref, "AWS::IAM::Role")
                if target is not None and not (model.arn and _holds(target.properties.get("ManagedPolicyArns"),
                                                                    model.arn)):
                    attached.setdefault(id(target), []).append(self._policy_doc(model))
        for raw in pending_buckets:
            found = bucket_policies.get(id(raw), [])
            policy = raw.extra.get("policy_error") or (found[-1][1] if found else None)
            self._add(Bucket(raw, policy, tuple(found) if len(found) > 1 else ()))
        for raw in pending_groups:
            declared = raw.properties.get("SecurityGroupIngress")
            if is_marker(declared):  # every rule of the group is unreadable: checks meet the marker itself
                declared = [{"IpProtocol": declared, "CidrIp": declared, "CidrIpv6": declared}]
            rules = [_ingress_rule(r, raw.id) for r in as_list(declared) if isinstance(r, Mapping)]
            self._add(SecurityGroup(raw, tuple(rules + ingress_extra.get(id(raw), []))))
        for raw in pending_roles:
            self._add(self._role(raw, attached.get(id(raw), [])))

    def _raws_of(self, rtype: str) -> list[RawResource]:
        return [r for r in self._raw if r.type == rtype]

    def _find_raw(self, value: Any, rtype: str) -> RawResource | None:
        if not isinstance(value, str):
            return None
        for raw in self._by_key.get(value, ()):
            if raw.type == rtype:
                return raw
        return None

    def _policy_doc(self, model: ManagedPolicy, kind: str = "identity") -> PolicyDoc:
        what = "managed policy" if model.raw.type == "AWS::IAM::ManagedPolicy" else "policy"
        label = model.arn if model.live and model.arn else model.id
        return PolicyDoc(model.document, f"{what} {label}", model, kind, model.arn)

    def _managed(self, arn: Any, role: RawResource, kind: str) -> PolicyDoc:
        if is_marker(arn):  # a malformed ManagedPolicyArns / PermissionsBoundary: reading it raises
            what = "permissions boundary" if kind == "boundary" else "managed policies"
            return PolicyDoc(arn, f"{what} of role {role.id}", None, kind)
        found = self.lookup(arn, "AWS::IAM::ManagedPolicy")
        if isinstance(found, ManagedPolicy):
            return self._policy_doc(found, kind)
        shipped = shipped_aws_managed_policies().get(arn) if isinstance(arn, str) else None
        if shipped is not None:
            return PolicyDoc(shipped["document"], f"AWS managed policy {shipped['name']}", None, kind, arn)
        return PolicyDoc(None, f"managed policy {arn} (content not known)", None, kind, str(arn))

    def _role(self, raw: RawResource, attached: list[PolicyDoc]) -> Role:
        docs: list[PolicyDoc] = []
        role_label = raw.id
        for i, inline in enumerate(as_list(raw.properties.get("Policies"))):
            if is_marker(inline):
                docs.append(PolicyDoc(inline, f"inline policies of role {role_label}", None, "identity"))
            elif isinstance(inline, Mapping):
                name = inline.get("PolicyName", f"#{i}")
                docs.append(PolicyDoc(inline.get("PolicyDocument"), f"inline policy '{name}' of role {role_label}",
                                      None, "identity"))
        for arn in as_list(raw.properties.get("ManagedPolicyArns")):
            docs.append(self._managed(arn, raw, "identity"))
        docs.extend(attached)
        boundary_arn = raw.properties.get("PermissionsBoundary")
        boundary = self._managed(boundary_arn, raw, "boundary") if boundary_arn else None
        role = Role(raw, (), None)
        docs = [d if d.holder is not None or d.arn else PolicyDoc(d.document, d.source, role, d.kind, d.arn)
                for d in docs]
        return Role(raw, tuple(docs), boundary)


def _holds(listed: Any, value: str) -> bool:
    """Whether a list property names the value (a malformed list names nothing we can read)."""
    return not is_marker(listed) and any(not is_marker(item) and item == value for item in as_list(listed))


def _well_typed(raw: RawResource) -> RawResource:
    """The resource with ill-typed properties replaced by ``Malformed`` markers (see inventory.schema)."""
    checked = checked_properties(raw.type, raw.properties)
    if checked is None:
        return raw
    link = _LINKS.get(raw.type)
    if link is not None and is_marker(checked.get(link)):
        # What it attaches to cannot be read: it may attach to anything, so it is unreadable as a whole.
        problem = checked[link].problem if isinstance(checked[link], Malformed) else repr(checked[link])
        where = f"line {raw.line}: " if raw.line else ""
        return replace(raw, properties={}, extra={**raw.extra, "broken": f"{where}{problem}"})
    return replace(raw, properties=checked)


# The property through which a resource attaches to the one it changes.
_LINKS = {"AWS::IAM::Policy": "Roles", "AWS::IAM::ManagedPolicy": "Roles", "AWS::S3::BucketPolicy": "Bucket",
          "AWS::EC2::SecurityGroupIngress": "GroupId"}


def _ingress_rule(rule: Mapping[str, Any], origin: str) -> IngressRule:
    return IngressRule(rule.get("IpProtocol"), rule.get("CidrIp"), rule.get("CidrIpv6"),
                       rule.get("FromPort"), rule.get("ToPort"), origin)
