"""The CloudFormation types of the properties rules read, and what a value of another type becomes.

A value CloudFormation would reject for its property (``PlatformIdentifier: [notebook-al1-v1]``,
``KmsKeyId: []``, ``CidrIp: ["0.0.0.0/0"]``, ``ManagedPolicyArns`` written as a map, a ``null``)
must never read as absent or as some other setting: it becomes a ``Malformed`` marker, and the
rules that read that property report `error` naming it. Types follow the CloudFormation resource
specification; only the properties some rule reads are listed, so a property nobody reads costs
nothing. Unknowns (opaque template tokens, failed or missing live reads) pass unchanged: an
unknown value is not a malformed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagefence.values import Malformed, is_marker, is_opaque

# A spec is a primitive name, ("List", item spec) or ("Map", {property: spec}).
Spec = str | tuple[str, Any]

STRING, BOOLEAN, INTEGER, JSON = "String", "Boolean", "Integer", "Json"
STRINGS: Spec = ("List", STRING)
TAGS: Spec = ("List", ("Map", {"Key": STRING, "Value": STRING}))
INGRESS: Spec = ("Map", {"CidrIp": STRING, "CidrIpv6": STRING, "IpProtocol": STRING, "FromPort": INTEGER,
                         "ToPort": INTEGER})
VPC_CONFIG: Spec = ("Map", {"SecurityGroupIds": STRINGS, "Subnets": STRINGS})

PROPERTY_TYPES: dict[str, dict[str, Spec]] = {
    "AWS::SageMaker::NotebookInstance": {
        "DirectInternetAccess": STRING, "RootAccess": STRING, "SubnetId": STRING, "KmsKeyId": STRING,
        "PlatformIdentifier": STRING, "RoleArn": STRING, "SecurityGroupIds": STRINGS,
        "LifecycleConfigName": STRING, "NotebookInstanceName": STRING, "InstanceType": STRING,
        "VolumeSizeInGB": INTEGER, "Tags": TAGS,
    },
    "AWS::SageMaker::Domain": {"AppNetworkAccessType": STRING, "VpcId": STRING, "SubnetIds": STRINGS,
                               "DomainName": STRING},
    "AWS::SageMaker::Model": {"VpcConfig": VPC_CONFIG, "ExecutionRoleArn": STRING, "ModelName": STRING},
    "AWS::EC2::VPCEndpoint": {
        "VpcId": STRING, "ServiceName": STRING, "VpcEndpointType": STRING, "PrivateDnsEnabled": BOOLEAN,
        "PolicyDocument": JSON, "SecurityGroupIds": STRINGS, "SubnetIds": STRINGS, "RouteTableIds": STRINGS,
    },
    "AWS::EC2::SecurityGroup": {"SecurityGroupIngress": ("List", INGRESS), "VpcId": STRING},
    "AWS::EC2::SecurityGroupIngress": {"GroupId": STRING, "CidrIp": STRING, "CidrIpv6": STRING,
                                       "IpProtocol": STRING, "FromPort": INTEGER, "ToPort": INTEGER},
    "AWS::EC2::Subnet": {"VpcId": STRING},
    "AWS::S3::Bucket": {
        "BucketName": STRING, "Tags": TAGS,
        "BucketEncryption": ("Map", {"ServerSideEncryptionConfiguration": ("List", ("Map", {
            "ServerSideEncryptionByDefault": ("Map", {"SSEAlgorithm": STRING, "KMSMasterKeyID": STRING}),
            "BucketKeyEnabled": BOOLEAN}))}),
        "PublicAccessBlockConfiguration": ("Map", {flag: BOOLEAN for flag in (
            "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")}),
    },
    "AWS::S3::BucketPolicy": {"Bucket": STRING, "PolicyDocument": JSON},
    "AWS::KMS::Key": {"KeyPolicy": JSON, "EnableKeyRotation": BOOLEAN, "KeySpec": STRING},
    "AWS::IAM::Role": {
        "AssumeRolePolicyDocument": JSON, "ManagedPolicyArns": STRINGS, "PermissionsBoundary": STRING,
        "RoleName": STRING, "Path": STRING,
        "Policies": ("List", ("Map", {"PolicyName": STRING, "PolicyDocument": JSON})),
    },
    "AWS::IAM::Policy": {"PolicyDocument": JSON, "Roles": STRINGS, "PolicyName": STRING},
    "AWS::IAM::ManagedPolicy": {"PolicyDocument": JSON, "Roles": STRINGS, "ManagedPolicyName": STRING,
                                "Path": STRING},
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a map"
    return type(value).__name__


def _primitive_problem(spec: str, value: Any) -> str | None:
    if spec == STRING:
        # CloudFormation turns a number into its digits for a String property; a boolean, list or map it rejects.
        ok = isinstance(value, str) or isinstance(value, (int, float)) and not isinstance(value, bool)
    elif spec == BOOLEAN:
        ok = isinstance(value, bool) or isinstance(value, str) and value.strip().lower() in ("true", "false")
    elif spec == INTEGER:
        ok = (isinstance(value, int) and not isinstance(value, bool)
              or isinstance(value, str) and value.strip().lstrip("-").isdigit())
    else:  # JSON: a policy document is an object, or the same written as a JSON string
        ok = isinstance(value, (str, Mapping))
    return None if ok else f"{_kind(value)} where CloudFormation expects {spec.lower()}"


def problem_of(spec: Spec, value: Any, path: str) -> str | None:
    """Why a value does not have the type (naming where inside it), or None."""
    if is_marker(value) or is_opaque(value):
        return None
    if value is None:
        return f"{path} is null (CloudFormation rejects null values)"
    if isinstance(spec, str):
        problem = _primitive_problem(spec, value)
        return f"{path} is {problem}" if problem else None
    shape, inner = spec
    if shape == "List":
        if not isinstance(value, (list, tuple)):
            return f"{path} is {_kind(value)} where CloudFormation expects a list"
        for index, item in enumerate(value):
            found = problem_of(inner, item, f"{path}[{index}]")
            if found:
                return found
        return None
    if not isinstance(value, Mapping):
        return f"{path} is {_kind(value)} where CloudFormation expects a map"
    for name, item_spec in inner.items():
        if name in value:
            found = problem_of(item_spec, value[name], f"{path}.{name}")
            if found:
                return found
    return None


def checked_properties(resource_type: str, properties: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The properties with every ill-typed value the rules read replaced by a ``Malformed`` marker,
    or None when all of them are well-typed (the common case: nothing is copied)."""
    specs = PROPERTY_TYPES.get(resource_type)
    if not specs:
        return None
    out: dict[str, Any] | None = None
    for name, spec in specs.items():
        if name not in properties:
            continue
        problem = problem_of(spec, properties[name], name)
        if problem is not None:
            if out is None:
                out = dict(properties)
            out[name] = Malformed(name, problem)
    return out
