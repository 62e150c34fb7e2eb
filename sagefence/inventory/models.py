"""Typed, frozen views of CloudFormation-shaped resources: what checks read.

One mapping per resource type, shared by both sources. Field values may be markers
(``Opaque`` for unknowable template values, ``ReadError`` / ``Missing`` for live reads);
checks pass them through ``sagefence.values.require`` before deciding anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagefence.inventory.raw import RawResource
from sagefence.status import SourceKind
from sagefence.values import is_marker, require


def as_list(value: Any) -> list[Any]:
    """A list property's items; a scalar is one item. A marker stays one item (the caller decides)."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def listed(value: Any, what: str) -> list[Any]:
    """A list property's items for a check: a malformed, failed or missing list raises (error/unknown)."""
    if is_marker(value):
        require(value, what)
    return as_list(value)


def tags_of(props: Mapping[str, Any]) -> dict[str, Any]:
    tags = props.get("Tags")
    if is_marker(tags):
        require(tags, "Tags")
    if isinstance(tags, Mapping):
        return dict(tags)
    out: dict[str, Any] = {}
    for tag in as_list(tags):
        if isinstance(tag, Mapping) and "Key" in tag:
            out[str(tag["Key"])] = tag.get("Value")
    return out


@dataclass(frozen=True)
class Located:
    """Subclasses that add no fields are plain classes: they inherit the frozen dataclass machinery."""

    raw: RawResource

    @property
    def id(self) -> str:
        return self.raw.id

    @property
    def props(self) -> Mapping[str, Any]:
        return self.raw.properties

    @property
    def live(self) -> bool:
        return self.raw.source is SourceKind.ACCOUNT

    def label(self) -> str:
        return self.raw.id


class Vpc(Located):
    pass


class Subnet(Located):
    @property
    def vpc_id(self) -> Any:
        return self.props.get("VpcId")


@dataclass(frozen=True)
class IngressRule:
    protocol: Any
    cidr_ipv4: Any
    cidr_ipv6: Any
    from_port: Any
    to_port: Any
    origin: str  # where the rule is declared (logical id or group id)


@dataclass(frozen=True)
class SecurityGroup(Located):
    ingress: tuple[IngressRule, ...]


class VpcEndpoint(Located):
    @property
    def vpc_id(self) -> Any:
        return self.props.get("VpcId")

    @property
    def service_name(self) -> Any:
        return self.props.get("ServiceName")

    @property
    def endpoint_type(self) -> Any:
        return self.props.get("VpcEndpointType", "Gateway")

    @property
    def is_interface(self) -> bool:
        return str(self.endpoint_type).lower() == "interface"

    @property
    def private_dns(self) -> Any:
        return self.props.get("PrivateDnsEnabled", False)

    @property
    def policy(self) -> Any:
        return self.props.get("PolicyDocument")

    @property
    def security_group_ids(self) -> list[Any]:
        return listed(self.props.get("SecurityGroupIds"), "SecurityGroupIds")


@dataclass(frozen=True)
class Bucket(Located):
    policy: Any  # document, None when there is no policy, or ReadError
    # Several AWS::S3::BucketPolicy resources on one bucket: CloudFormation may apply either last,
    # so each (resource id, document) is a possible policy.
    alternatives: tuple[tuple[str, Any], ...] = ()

    @property
    def name(self) -> Any:
        return self.props.get("BucketName", self.raw.extra.get("ref") or self.raw.id)

    @property
    def arn(self) -> str:
        return self.raw.arn or f"arn:aws:s3:::{self.name}"

    @property
    def encryption_rules(self) -> list[Any]:
        enc = self.props.get("BucketEncryption")
        if is_marker(enc):
            require(enc, "BucketEncryption")
        if not isinstance(enc, Mapping):
            return []
        return listed(enc.get("ServerSideEncryptionConfiguration"), "ServerSideEncryptionConfiguration")

    @property
    def public_access_block(self) -> Any:
        return self.props.get("PublicAccessBlockConfiguration")

    @property
    def tags(self) -> dict[str, Any]:
        return tags_of(self.props)


class KmsKey(Located):
    @property
    def arn(self) -> str:
        return self.raw.arn or self.raw.id

    @property
    def policy(self) -> Any:
        return self.props.get("KeyPolicy")

    @property
    def rotation(self) -> Any:
        return self.props.get("EnableKeyRotation", False)


@dataclass(frozen=True)
class PolicyDoc:
    """A policy document that applies to a role, with where it comes from."""

    document: Any  # dict/JSON string; None for an AWS managed policy whose content is not known
    source: str  # e.g. "inline policy 'x' of role Y", "managed policy arn:..."
    holder: Located | None  # the resource that holds the statement (IAM-002)
    kind: str = "identity"  # identity | boundary
    arn: str | None = None


@dataclass(frozen=True)
class Role(Located):
    policies: tuple[PolicyDoc, ...]  # identity policies: inline, attached customer and AWS managed
    boundary: PolicyDoc | None

    @property
    def arn(self) -> str:
        return self.raw.arn or self.raw.id

    @property
    def account(self) -> str | None:
        arn = self.arn
        if arn.startswith("arn:aws:iam::"):
            return arn.split(":")[4]
        return self.raw.account

    @property
    def name(self) -> Any:
        return self.props.get("RoleName", self.raw.extra.get("ref") or self.raw.id)

    @property
    def trust_policy(self) -> Any:
        return self.props.get("AssumeRolePolicyDocument")

    @property
    def managed_policy_arns(self) -> list[Any]:
        return listed(self.props.get("ManagedPolicyArns"), "ManagedPolicyArns")


class ManagedPolicy(Located):
    """AWS::IAM::ManagedPolicy and AWS::IAM::Policy (the latter has no ARN)."""

    @property
    def document(self) -> Any:
        return self.props.get("PolicyDocument")

    @property
    def arn(self) -> str | None:
        return self.raw.arn

    @property
    def aws_managed(self) -> bool:
        return bool(self.raw.extra.get("aws_managed"))


class NotebookInstance(Located):
    @property
    def name(self) -> Any:
        return self.props.get("NotebookInstanceName", self.raw.id)

    @property
    def direct_internet_access(self) -> Any:
        return self.props.get("DirectInternetAccess", "Enabled")

    @property
    def root_access(self) -> Any:
        return self.props.get("RootAccess", "Enabled")

    @property
    def subnet_id(self) -> Any:
        return self.props.get("SubnetId")

    @property
    def kms_key_id(self) -> Any:
        return self.props.get("KmsKeyId")

    @property
    def platform(self) -> Any:
        return self.props.get("PlatformIdentifier")

    @property
    def role_arn(self) -> Any:
        return self.props.get("RoleArn")

    @property
    def security_group_ids(self) -> list[Any]:
        return listed(self.props.get("SecurityGroupIds"), "SecurityGroupIds")

    @property
    def lifecycle_config(self) -> Any:
        return self.props.get("LifecycleConfigName")

    @property
    def tags(self) -> dict[str, Any]:
        return tags_of(self.props)


class Domain(Located):
    @property
    def app_network_access_type(self) -> Any:
        return self.props.get("AppNetworkAccessType", "PublicInternetOnly")

    @property
    def vpc_id(self) -> Any:
        return self.props.get("VpcId")


class Workload(Located):
    """A SageMaker model, training job or processing job: what SM-006 reads."""

    @property
    def vpc_config(self) -> Any:
        if self.raw.type == "AWS::SageMaker::ProcessingJob":
            network = self.props.get("NetworkConfig")
            return network.get("VpcConfig") if isinstance(network, Mapping) else None
        return self.props.get("VpcConfig")

    @property
    def role_arn(self) -> Any:
        return self.props.get("ExecutionRoleArn", self.props.get("RoleArn"))


class Generic(Located):
    """Any type no check reads through a typed view (custom JMESPath rules still see it)."""


MODEL_OF_TYPE: dict[str, type[Located]] = {
    "AWS::EC2::VPC": Vpc,
    "AWS::EC2::Subnet": Subnet,
    "AWS::EC2::VPCEndpoint": VpcEndpoint,
    "AWS::KMS::Key": KmsKey,
    "AWS::IAM::ManagedPolicy": ManagedPolicy,
    "AWS::IAM::Policy": ManagedPolicy,
    "AWS::SageMaker::NotebookInstance": NotebookInstance,
    "AWS::SageMaker::Domain": Domain,
    "AWS::SageMaker::Model": Workload,
    "AWS::SageMaker::TrainingJob": Workload,
    "AWS::SageMaker::ProcessingJob": Workload,
}
