"""Resolving CloudFormation intrinsic functions as far as a template allows.

One resolver per (template, condition assignment). Values that cannot be known become
``Opaque`` tokens; references to resources become ``RefToken`` strings that remember the
resource they name, so the inventory can link an endpoint to its VPC or a policy to its
role whatever the source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from sagefence.sources import unknowns
from sagefence.sources.unknowns import derived
from sagefence.values import Opaque, is_opaque


class NoValue:
    """``AWS::NoValue``: the key or list item disappears."""

    _instance: NoValue | None = None

    def __new__(cls) -> NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NoValue"


NO_VALUE = NoValue()


class RefToken(str):
    """The value of ``Ref``/``GetAtt`` of a resource of the scanned templates."""

    logical_id: str
    resource_type: str
    attribute: str | None

    def __new__(cls, text: str, logical_id: str, resource_type: str, attribute: str | None = None) -> RefToken:
        token = super().__new__(cls, text)
        token.logical_id = logical_id
        token.resource_type = resource_type
        token.attribute = attribute
        return token


class IntrinsicError(Exception):
    """An intrinsic that cannot be evaluated at all: unknown function, circular reference, bad shape."""


KNOWN_FUNCTIONS = frozenset({
    "Ref", "Condition", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select", "Fn::FindInMap",
    "Fn::ImportValue", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Base64", "Fn::Split", "Fn::Cidr",
    "Fn::GetAZs", "Fn::Transform", "Fn::Length", "Fn::ToJsonString",
})

CUSTOM_TYPES = ("Custom::", "AWS::CloudFormation::CustomResource", "AWS::CloudFormation::Stack")

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")

# How a resource names itself: (property, prefix for Ref when not self-named).
_ID_PREFIX = {
    "AWS::EC2::VPC": "vpc-", "AWS::EC2::Subnet": "subnet-", "AWS::EC2::SecurityGroup": "sg-",
    "AWS::EC2::VPCEndpoint": "vpce-", "AWS::EC2::RouteTable": "rtb-", "AWS::SageMaker::Domain": "d-",
}


# Types whose Ref is modelled as the name the resource gives itself (else its logical id).
_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName", "AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::KMS::Alias": "AliasName", "AWS::SageMaker::NotebookInstance": "NotebookInstanceName",
    "AWS::SageMaker::Model": "ModelName",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig": "NotebookInstanceLifecycleConfigName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}


def _plain(value: Any) -> str | None:
    return value if isinstance(value, str) and not is_opaque(value) else None


class Resolver:
    """Resolves the intrinsic functions of one template under one condition assignment."""

    def __init__(self, template: Mapping[str, Any], *, account_id: str, region: str,
                 conditions: Mapping[str, bool], exports: Mapping[str, Any],
                 stack: str = "stack", scope: str | None = None, unpinned: frozenset[str] = frozenset()) -> None:
        self.template = template
        self.unpinned = unpinned  # parameters the condition assignment rules out holding their default
        self.account_id = account_id
        self.region = region
        self.conditions = conditions
        self.exports = exports
        self.stack = stack  # who the stack is (the template's label): its name and id tokens say so
        params = template.get("Parameters")
        self.parameters: Mapping[str, Any] = params if isinstance(params, Mapping) else {}
        resources = template.get("Resources")
        self.resources: Mapping[str, Any] = resources if isinstance(resources, Mapping) else {}
        mappings = template.get("Mappings")
        self.mappings: Mapping[str, Any] = mappings if isinstance(mappings, Mapping) else {}
        self._names: dict[str, str] = {}
        self._refs: dict[str, Any] = {}
        self._pseudo_values: dict[str, Any] | None = None
        self._naming: list[str] = []
        self.used_conditions: set[str] = set()
        self.scope = scope  # set when several templates are resolved together: keeps placeholders apart
        # A macro (SAM's AWS::Serverless-2016-10-31 among them) adds resources we do not see: a name
        # no resource or parameter has may be one of them, so it is unknown rather than an error.
        self.transformed = "Transform" in template

    def _local(self, logical_id: str) -> str:
        return f"{self.scope}-{logical_id}" if self.scope else logical_id

    # -- entry points -------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                (key, arg), = value.items()
                if key == "Ref" or key.startswith("Fn::") or key == "Condition" and not isinstance(arg, dict):
                    return self._function(key, arg)
            out = {}
            resolve = self.resolve
            for k, v in value.items():
                r = resolve(v) if isinstance(v, (dict, list)) else v
                if r is not NO_VALUE:
                    out[k] = r
            return out
        if isinstance(value, list):
            resolve = self.resolve
            return [r for r in (resolve(item) if isinstance(item, (dict, list)) else item for item in value)
                    if r is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise IntrinsicError(f"condition {name!r} is not defined in Conditions")
        self.used_conditions.add(name)
        return self.conditions[name]

    # -- functions ------------------------------------------------------------------------

    def _function(self, name: str, arg: Any) -> Any:
        handler = _HANDLERS.get(name)
        if handler is None:
            raise IntrinsicError(f"unknown intrinsic function {name}")
        try:
            return handler(self, arg)
        except unknowns.IntrinsicArgumentError as exc:
            raise IntrinsicError(str(exc)) from None

    def _ref(self, arg: Any) -> Any:
        if not isinstance(arg, str):
            raise IntrinsicError(f"Ref takes a name, not {type(arg).__name__}")
        pseudo = self._pseudo(arg)
        if pseudo is not None:
            return pseudo
        if arg in self.parameters:
            return self._parameter(arg)
        if arg in self.resources:
            return self._resource_ref(arg)
        if self.transformed:
            return Opaque.token("Ref", self._local(arg))
        raise IntrinsicError(f"Ref to {arg!r}, which is neither a parameter nor a resource")

    def _pseudo(self, name: str) -> Any:
        if not name.startswith("AWS::"):
            return None
        values = self._pseudo_values
        if values is None:
            values = self._pseudo_values = {**unknowns.pseudo_parameters(self.stack, self.account_id, self.region),
                                            "AWS::NoValue": NO_VALUE}
        if name not in values:
            raise IntrinsicError(f"unknown pseudo parameter {name}")
        return values[name]

    def _parameter(self, name: str) -> Any:
        spec = self.parameters[name]
        if not isinstance(spec, Mapping) or "Default" not in spec or name in self.unpinned:
            return Opaque.token("Ref", self._local(name))
        default = spec["Default"]
        ptype = str(spec.get("Type", "String"))
        if isinstance(default, bool):
            default = "true" if default else "false"
        elif isinstance(default, (int, float)):
            default = str(default)
        if isinstance(default, str) and (ptype == "CommaDelimitedList" or ptype.startswith("List<")):
            return [part.strip() for part in default.split(",")] if default else []
        return default

    def resource_name(self, logical_id: str) -> str:
        """The name a resource gives itself, else its logical id (stable placeholders)."""
        if logical_id in self._names:
            return self._names[logical_id]
        if logical_id in self._naming:
            cycle = " -> ".join([*self._naming[self._naming.index(logical_id):], logical_id])
            raise IntrinsicError(f"circular reference: {cycle}")
        self._naming.append(logical_id)
        try:
            body = self.resources[logical_id]
            rtype = body.get("Type", "") if isinstance(body, dict) else ""
            props = body.get("Properties") if isinstance(body, dict) else None
            props = props if isinstance(props, dict) else {}
            name_prop = _NAME_PROPERTY.get(rtype)
            name: Any = None
            if name_prop and name_prop in props:
                name = self.resolve(props[name_prop])
            if not isinstance(name, str):
                name = self._local(logical_id).lower() if rtype == "AWS::S3::Bucket" else self._local(logical_id)
            self._names[logical_id] = name
            return name
        finally:
            self._naming.pop()

    def _resource_type(self, logical_id: str) -> str:
        body = self.resources.get(logical_id)
        return str(body.get("Type", "")) if isinstance(body, dict) else ""

    def _path(self, logical_id: str) -> str:
        body = self.resources[logical_id]
        props = body.get("Properties") if isinstance(body, Mapping) else None
        path = self.resolve(props.get("Path", "/")) if isinstance(props, Mapping) else "/"
        return path if isinstance(path, str) and path.startswith("/") and path.endswith("/") else "/"

    def arn_of(self, logical_id: str) -> str | None:
        rtype = self._resource_type(logical_id)
        acct, region = self.account_id, self.region
        name = self.resource_name(logical_id)
        if rtype == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        if rtype == "AWS::IAM::Role":
            return f"arn:aws:iam::{acct}:role{self._path(logical_id)}{name}"
        if rtype == "AWS::IAM::ManagedPolicy":
            return f"arn:aws:iam::{acct}:policy{self._path(logical_id)}{name}"
        if rtype == "AWS::KMS::Key":
            return f"arn:aws:kms:{region}:{acct}:key/{self._local(logical_id)}"
        if rtype == "AWS::SageMaker::NotebookInstance":
            return f"arn:aws:sagemaker:{region}:{acct}:notebook-instance/{unknowns.lower_known(name)}"
        if rtype == "AWS::SageMaker::Domain":
            return f"arn:aws:sagemaker:{region}:{acct}:domain/d-{self._local(logical_id)}"
        if rtype == "AWS::SageMaker::Model":
            return f"arn:aws:sagemaker:{region}:{acct}:model/{unknowns.lower_known(name)}"
        return None

    def _resource_ref(self, logical_id: str) -> Any:
        """Ref of a resource: the same (immutable) token for every Ref of it under this resolver."""
        found = self._refs.get(logical_id)
        if found is None:
            found = self._refs[logical_id] = self._make_resource_ref(logical_id)
        return found

    def _make_resource_ref(self, logical_id: str) -> Any:
        rtype = self._resource_type(logical_id)
        if rtype.startswith(CUSTOM_TYPES):
            return Opaque.token("Ref", self._local(logical_id))
        if rtype in _ID_PREFIX:
            text = f"{_ID_PREFIX[rtype]}{self._local(logical_id)}"
        elif rtype == "AWS::IAM::ManagedPolicy":
            arn = self.arn_of(logical_id)
            text = arn if arn is not None else logical_id
        elif rtype == "AWS::KMS::Key":
            text = self._local(logical_id)
        elif rtype in _NAME_PROPERTY:
            text = self.resource_name(logical_id)
        else:  # what Ref gives for this type (an ARN, a URL, an id) is not modelled: unknown, still linked
            return RefToken(Opaque.token("Ref", self._local(logical_id)), logical_id, rtype)
        if is_opaque(text):
            return text
        return RefToken(text, logical_id, rtype)

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not isinstance(arg, list) or len(arg) != 2:
            raise IntrinsicError("Fn::GetAtt takes [resource, attribute]")
        logical_id, attribute = arg[0], self.resolve(arg[1])
        if not isinstance(logical_id, str):
            raise IntrinsicError(f"Fn::GetAtt names a resource by a string, not {type(logical_id).__name__}")
        if logical_id not in self.resources:
            if self.transformed and isinstance(logical_id, str):
                return derived("GetAtt", self._local(logical_id), attribute)
            raise IntrinsicError(f"Fn::GetAtt of {logical_id!r}, which is not a resource")
        rtype = self._resource_type(logical_id)
        if not isinstance(attribute, str) or is_opaque(attribute):
            return derived("GetAtt", self._local(logical_id), attribute)
        if rtype.startswith(CUSTOM_TYPES):
            return Opaque.token("GetAtt", f"{self._local(logical_id)}.{attribute}")
        if attribute == "Arn" or attribute.endswith("Arn") and rtype != "AWS::SageMaker::Domain":
            arn = self.arn_of(logical_id)
            if arn is not None:
                return arn if is_opaque(arn) else RefToken(arn, logical_id, rtype, attribute)
        if attribute in ("VpcId", "GroupId", "Id", "DomainId", "KeyId", "RoleId", "SubnetId"):
            ref = self._resource_ref(logical_id)
            if attribute == "RoleId" or attribute == "KeyId" and rtype == "AWS::KMS::Key":
                return RefToken(f"{self._local(logical_id)}-{attribute}", logical_id, rtype, attribute)
            return ref
        if attribute == "DomainArn":
            arn = self.arn_of(logical_id)
            return arn if arn is not None else Opaque.token("GetAtt", f"{self._local(logical_id)}.{attribute}")
        declared = self._declared(logical_id, attribute)
        if declared is not None:
            return declared
        # An attribute whose value is not modelled (a DomainName, an ARN of a type we do not build) is
        # unknown: made-up text would read as a real value (a Resource that is "not an ARN").
        return RefToken(Opaque.token("GetAtt", f"{self._local(logical_id)}.{attribute}"), logical_id, rtype, attribute)

    def _declared(self, logical_id: str, attribute: str) -> Any:
        """An attribute named like a property the template sets (a VPC's CidrBlock) returns that value."""
        body = self.resources.get(logical_id)
        props = body.get("Properties") if isinstance(body, Mapping) else None
        if not isinstance(props, Mapping) or attribute not in props:
            return None
        key = f"{logical_id}.{attribute}"
        if key in self._naming:
            raise IntrinsicError(f"circular reference: Fn::GetAtt {key} inside {logical_id}")
        self._naming.append(key)
        try:
            value = self.resolve(props[attribute])
        finally:
            self._naming.pop()
        return value if isinstance(value, str) else None

    def _sub(self, arg: Any) -> Any:
        variables: Mapping[str, Any] = {}
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], Mapping):
                raise IntrinsicError("Fn::Sub takes a string or [string, {variables}]")
            arg, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        if not isinstance(arg, str):
            raise IntrinsicError("Fn::Sub takes a string")
        opaque = False

        def replace(match: re.Match[str]) -> str:
            nonlocal opaque
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                value = self._get_att(name.split(".", 1))
            else:
                value = self._ref(name)
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            if not isinstance(value, str):
                value = derived("Sub", name, value) if value is NO_VALUE or isinstance(value, dict) else str(value)
            opaque = opaque or is_opaque(value)
            return value

        text = _SUB_VAR.sub(replace, arg)
        return Opaque(text) if opaque else text

    def _join(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise IntrinsicError("Fn::Join takes [delimiter, list]")
        return unknowns.join(self.resolve(arg[0]), self.resolve(arg[1]))

    def _select(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise IntrinsicError("Fn::Select takes [index, list]")
        return unknowns.select(self.resolve(arg[0]), self.resolve(arg[1]))

    def _split(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise IntrinsicError("Fn::Split takes [delimiter, string]")
        return unknowns.split(self.resolve(arg[0]), self.resolve(arg[1]))

    def _find_in_map(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) not in (3, 4):
            raise IntrinsicError("Fn::FindInMap takes [map, top key, second key]")
        keys = [self.resolve(a) for a in arg[:3]]
        if any(is_opaque(k) or not isinstance(k, (str, int)) for k in keys):
            return derived("FindInMap", *keys)
        try:
            return self.resolve(self.mappings[keys[0]][keys[1]][keys[2]])
        except (KeyError, TypeError):
            if len(arg) == 4 and isinstance(arg[3], Mapping) and "DefaultValue" in arg[3]:
                return self.resolve(arg[3]["DefaultValue"])
            raise IntrinsicError(f"Fn::FindInMap: no entry {keys[0]}.{keys[1]}.{keys[2]}") from None

    def _if(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 3 or not isinstance(arg[0], str):
            raise IntrinsicError("Fn::If takes [condition, value if true, value if false]")
        return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])

    def _import(self, arg: Any) -> Any:
        name = self.resolve(arg)
        if isinstance(name, str) and name in self.exports:
            return self.exports[name]
        if isinstance(name, str) and not is_opaque(name):
            return Opaque.token("ImportValue", name)
        return derived("ImportValue", name)

    def _condition_value(self, arg: Any) -> Any:
        if not isinstance(arg, str):
            raise IntrinsicError("Condition takes a condition name")
        return self.condition(arg)

    def _to_json(self, arg: Any) -> Any:
        value = self.resolve(arg)
        return unknowns.as_text(json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=False))

    def _length(self, arg: Any) -> Any:
        return unknowns.length(self.resolve(arg))


_HANDLERS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": Resolver._ref,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Sub": Resolver._sub,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::FindInMap": Resolver._find_in_map,
    "Fn::If": Resolver._if,
    "Fn::ImportValue": Resolver._import,
    "Fn::GetAZs": lambda r, a: unknowns.get_azs(r.resolve(a), r.region),
    "Fn::Base64": lambda r, a: r.resolve(a),
    "Fn::Cidr": lambda r, a: unknowns.cidr(r.resolve(a)),
    "Fn::Transform": lambda r, a: derived("Transform", a),
    "Fn::ToJsonString": Resolver._to_json,
    "Fn::Length": Resolver._length,
    "Condition": Resolver._condition_value,
    "Fn::Equals": lambda r, a: derived("Equals", a),
    "Fn::Not": lambda r, a: derived("Not", a),
    "Fn::And": lambda r, a: derived("And", a),
    "Fn::Or": lambda r, a: derived("Or", a),
}
assert set(_HANDLERS) == KNOWN_FUNCTIONS
