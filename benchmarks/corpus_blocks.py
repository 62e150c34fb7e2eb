"""Building blocks of the benchmark corpus: CloudFormation short forms and one ML environment unit.

Each block adds one kind of resource to a ``Unit`` with a secure or insecure variant
drawn from the unit's posture; ``build_unit`` fits the blocks into a resource budget.
Used by ``corpus.py``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

INTERFACE_SERVICES = ("sagemaker.api", "sagemaker.runtime", "sts", "logs", "monitoring", "kms",
                      "ecr.api", "ecr.dkr", "sagemaker.featurestore-runtime", "servicecatalog")
PLATFORMS = ("notebook-al2-v3", "notebook-al2-v3", "notebook-al2023-v1", "notebook-al2-v2", "notebook-al1-v1")


class Tag:
    """A CloudFormation short-form intrinsic such as ``!Ref Vpc``."""

    def __init__(self, tag: str, value: Any, quoted: bool = False) -> None:
        self.tag, self.value, self.quoted = tag, value, quoted


def ref(name: str) -> Tag:
    return Tag("!Ref", name)


def getatt(name: str) -> Tag:
    return Tag("!GetAtt", name)


def sub(text: str) -> Tag:
    return Tag("!Sub", text, quoted=True)


def if_(cond: str, yes: Any, no: Any) -> Tag:
    return Tag("!If", [cond, yes, no])


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@dataclass
class Unit:
    """One ML environment inside a template; names what it already defined."""

    rng: random.Random
    name: str
    secure: float
    conditional: bool
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    used_condition: bool = False

    def ok(self) -> bool:
        return self.rng.random() < self.secure

    def add(self, suffix: str, rtype: str, props: dict[str, Any], **extra: Any) -> str:
        logical = f"{self.name}{suffix}"
        self.resources[logical] = {"Type": rtype, **extra, "Properties": props}
        return logical

    def has(self, suffix: str) -> bool:
        return f"{self.name}{suffix}" in self.resources

    def ref_or(self, suffix: str, fallback: Any) -> Any:
        return ref(f"{self.name}{suffix}") if self.has(suffix) else fallback

    def choose(self, secure: Any, insecure: Any) -> Any:
        return secure if self.ok() else insecure

    def pick(self, secure: Any, insecure: Any) -> Any:
        """Like ``choose``, but an insecure leaf value may sit behind ``!If [IsProduction, ...]``."""
        value = self.choose(secure, insecure)
        if self.conditional and value is not None and value != secure and self.rng.random() < 0.5:
            self.used_condition = True
            return if_("IsProduction", secure, value)
        return value


def tags(unit: Unit, purpose: str) -> list[dict[str, Any]]:
    return [{"Key": "team", "Value": unit.name.lower()}, {"Key": "purpose", "Value": purpose},
            {"Key": "environment", "Value": ref("Environment")}]


def network(u: Unit) -> None:
    if u.rng.random() < 0.05:
        return
    octet = u.rng.randrange(0, 250)
    u.add("Vpc", "AWS::EC2::VPC", {"CidrBlock": f"10.{octet}.0.0/16", "EnableDnsSupport": True,
                                   "EnableDnsHostnames": True, "Tags": tags(u, "network")})
    for i in (1, 2):
        u.add(f"PrivateSubnet{i}", "AWS::EC2::Subnet", {
            "VpcId": ref(f"{u.name}Vpc"), "CidrBlock": f"10.{octet}.{i * 16}.0/20",
            "AvailabilityZone": Tag("!Select", [i - 1, Tag("!GetAZs", "", quoted=True)]),
            "MapPublicIpOnLaunch": False, "Tags": tags(u, "private-subnet")})
    u.add("PrivateRouteTable", "AWS::EC2::RouteTable", {"VpcId": ref(f"{u.name}Vpc"), "Tags": tags(u, "routes")})
    source = u.pick(getatt(f"{u.name}Vpc.CidrBlock"), "0.0.0.0/0")
    u.add("EndpointSecurityGroup", "AWS::EC2::SecurityGroup", {
        "GroupDescription": "HTTPS from inside the VPC to the interface endpoints",
        "VpcId": ref(f"{u.name}Vpc"),
        "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": source}],
        "Tags": tags(u, "endpoints")})


def vpc_id(u: Unit) -> Any:
    return u.ref_or("Vpc", Tag("!ImportValue", "shared-network-VpcId"))


def subnets(u: Unit) -> list[Any]:
    if u.has("PrivateSubnet1"):
        return [ref(f"{u.name}PrivateSubnet1"), ref(f"{u.name}PrivateSubnet2")]
    return [Tag("!ImportValue", "shared-network-PrivateSubnet1"), ref("ExistingSubnetId")]


def s3_endpoint(u: Unit) -> None:
    props: dict[str, Any] = {"ServiceName": sub("com.amazonaws.${AWS::Region}.s3"), "VpcEndpointType": "Gateway",
                             "VpcId": vpc_id(u), "RouteTableIds": [u.ref_or("PrivateRouteTable", ref("ExistingRouteTableId"))]}
    if u.ok():
        props["PolicyDocument"] = doc({
            "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
            "Resource": [sub("arn:${AWS::Partition}:s3:::${AWS::AccountId}-*"),
                         sub("arn:${AWS::Partition}:s3:::${AWS::AccountId}-*/*")]})
    elif u.rng.random() < 0.5:
        props["PolicyDocument"] = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    u.add("S3Endpoint", "AWS::EC2::VPCEndpoint", props)


def interface_endpoints(u: Unit, budget: int) -> int:
    wanted = [s for s in INTERFACE_SERVICES[:6] if u.ok() or u.rng.random() < 0.5]
    wanted += [s for s in INTERFACE_SERVICES[6:] if u.rng.random() < 0.3]
    for service in wanted[:budget]:
        props: dict[str, Any] = {"ServiceName": sub("com.amazonaws.${AWS::Region}." + service),
                                 "VpcEndpointType": "Interface", "VpcId": vpc_id(u), "SubnetIds": subnets(u),
                                 "SecurityGroupIds": [u.ref_or("EndpointSecurityGroup", ref("ExistingSecurityGroupId"))]}
        dns = u.pick(True, u.rng.choice([False, None]))
        if dns is not None:
            props["PrivateDnsEnabled"] = dns
        suffix = "".join(part.capitalize() for part in service.replace("-", ".").split("."))
        u.add(f"{suffix}Endpoint", "AWS::EC2::VPCEndpoint", props)
    return min(len(wanted), budget)


def kms(u: Unit) -> None:
    statements: list[dict[str, Any]] = [{
        "Sid": "EnableRootPermissions", "Effect": "Allow",
        "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
        "Action": "kms:*", "Resource": "*"}]
    if u.ok():
        statements.append({
            "Sid": "DenyOutsideVpc", "Effect": "Deny", "Principal": "*",
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": u.ref_or("KmsEndpoint", ref("KmsEndpointId"))},
                          "ArnNotLike": {"aws:PrincipalArn": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/Admin*")}}})
    if not u.ok():
        statements.append({"Sid": "PartnerDecrypt", "Effect": "Allow",
                           "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${PartnerAccountId}:root")},
                           "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"})
    props: dict[str, Any] = {"Description": f"{u.name} data key", "KeyPolicy": doc(*statements),
                             "Tags": tags(u, "encryption")}
    rotation = u.pick(True, u.rng.choice([False, None]))
    if rotation is not None:
        props["EnableKeyRotation"] = rotation
    u.add("DataKey", "AWS::KMS::Key", props, DeletionPolicy="Retain", UpdateReplacePolicy="Retain")
    u.add("DataKeyAlias", "AWS::KMS::Alias", {"AliasName": f"alias/{u.name.lower()}-data",
                                              "TargetKeyId": ref(f"{u.name}DataKey")})


def bucket(u: Unit, suffix: str) -> None:
    encryption = u.choose("kms", u.rng.choice(["AES256", "aws/s3", None]))
    props: dict[str, Any] = {"BucketName": sub("${AWS::AccountId}-" + f"{u.name.lower()}-{suffix.lower()}"),
                             "VersioningConfiguration": {"Status": "Enabled"}, "Tags": tags(u, suffix.lower())}
    if encryption is not None:
        default: dict[str, Any] = {"SSEAlgorithm": "AES256"}
        if encryption == "kms":
            default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": u.ref_or("DataKey", ref("SharedKeyArn"))}
        elif encryption == "aws/s3":
            default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/aws/s3"}
        props["BucketEncryption"] = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": default}]}
    flags = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    if u.ok() or u.rng.random() < 0.5:
        props["PublicAccessBlockConfiguration"] = {flag: u.ok() or u.rng.random() < 0.7 for flag in flags}
    u.add(f"{suffix}Bucket", "AWS::S3::Bucket", props, DeletionPolicy="Retain", UpdateReplacePolicy="Retain")


def bucket_policy(u: Unit, suffix: str) -> None:
    name = f"{u.name}{suffix}Bucket"
    arns = [getatt(f"{name}.Arn"), sub("${" + name + ".Arn}/*")]
    vpce = u.ref_or("S3Endpoint", ref("S3EndpointId"))
    variants = {
        "deny": {"Effect": "Deny", "Action": "s3:*", "Resource": arns,
                 "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}},
        "ifexists": {"Effect": "Deny", "Action": ["s3:Get*", "s3:Put*", "s3:List*"], "Resource": arns,
                     "Condition": {"StringNotEqualsIfExists": {"aws:sourceVpce": [vpce, ref("BackupEndpointId")]}}},
        "allow": {"Effect": "Allow", "Action": "s3:*", "Resource": arns,
                  "Condition": {"StringEquals": {"aws:SourceVpce": vpce}}},
        "bucket_only": {"Effect": "Deny", "Action": "s3:*", "Resource": arns[0],
                        "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}},
    }
    kind = u.choose(u.rng.choice(["deny", "deny", "ifexists"]), u.rng.choice(["allow", "bucket_only", None]))
    statements = []
    if isinstance(kind, str):
        effect, *rest = variants[kind].items()
        statements.append({"Sid": "DenyNoVPC", effect[0]: effect[1], "Principal": "*", **dict(rest)})
    if u.ok():
        statements.append({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                           "Resource": arns, "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    if not statements:
        statements.append({"Sid": "ReadForAnalytics", "Effect": "Allow", "Action": "s3:GetObject",
                           "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                           "Resource": arns[1]})
    u.add(f"{suffix}BucketPolicy", "AWS::S3::BucketPolicy",
          {"Bucket": ref(name), "PolicyDocument": doc(*statements)})


def execution_role(u: Unit) -> None:
    managed = [sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSageMakerFullAccess")]
    if not u.ok() and u.rng.random() < 0.3:
        managed.append(sub("arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess"))
    role_arn = sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" + f"{u.name}-sagemaker-execution")
    passrole = u.pick({"Effect": "Allow", "Action": "iam:PassRole", "Resource": role_arn,
                       "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
                      {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})
    data = [getatt(f"{u.name}DataBucket.Arn"), sub("${" + u.name + "DataBucket.Arn}/*")] \
        if u.has("DataBucket") else [sub("arn:${AWS::Partition}:s3:::${AWS::AccountId}-shared-data/*")]
    u.add("ExecutionRole", "AWS::IAM::Role", {
        "RoleName": f"{u.name}-sagemaker-execution",
        "AssumeRolePolicyDocument": doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                         "Action": "sts:AssumeRole"}),
        "ManagedPolicyArns": managed,
        "Policies": [{"PolicyName": "data-access", "PolicyDocument": doc(
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], "Resource": data},
            passrole)}],
        "Tags": tags(u, "execution")})


def deployer_role(u: Unit) -> None:
    principal: Any = {"AWS": sub("arn:${AWS::Partition}:iam::${CiAccountId}:root")}
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if u.ok():
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": ref("DeployerExternalId")}}
    elif u.rng.random() < 0.1:
        statement["Principal"] = {"AWS": "*"}
    u.add("DeployerRole", "AWS::IAM::Role", {
        "AssumeRolePolicyDocument": doc(statement), "Path": "/deploy/",
        "Policies": [{"PolicyName": "deploy", "PolicyDocument": doc(
            {"Effect": "Allow", "Action": ["sagemaker:Create*", "sagemaker:Describe*", "cloudformation:*"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole",
             "Resource": getatt(f"{u.name}ExecutionRole.Arn") if u.has("ExecutionRole") else "*"})}]})


def guardrail(u: Unit) -> None:
    operator = u.choose("Null", u.rng.choice(["StringEquals", "Null"]))
    u.add("VpcGuardrail", "AWS::IAM::ManagedPolicy", {
        "Description": "SageMaker jobs and notebooks must run inside the VPC",
        "Roles": [u.ref_or("ExecutionRole", ref("ExistingRoleName"))],
        "PolicyDocument": doc({
            "Sid": "DenyWithoutVpc", "Effect": "Deny",
            "Action": ["sagemaker:CreateNotebookInstance", "sagemaker:CreateTrainingJob",
                       "sagemaker:CreateProcessingJob", "sagemaker:CreateModel", "sagemaker:CreateDomain"],
            "Resource": "*", "Condition": {operator: {"sagemaker:VpcSubnets": "true"}}})})


def role_arn(u: Unit) -> Any:
    return getatt(f"{u.name}ExecutionRole.Arn") if u.has("ExecutionRole") else ref("ExistingRoleArn")


def notebook(u: Unit) -> None:
    props: dict[str, Any] = {"InstanceType": u.rng.choice(["ml.t3.medium", "ml.m5.xlarge", "ml.g4dn.xlarge"]),
                             "RoleArn": role_arn(u), "VolumeSizeInGB": u.rng.choice([5, 20, 50]),
                             "PlatformIdentifier": u.rng.choice(PLATFORMS), "Tags": tags(u, "notebook")}
    if u.ok() or u.rng.random() < 0.5:
        props["SubnetId"] = subnets(u)[0]
        props["SecurityGroupIds"] = [u.ref_or("EndpointSecurityGroup", ref("ExistingSecurityGroupId"))]
    for key in ("DirectInternetAccess", "RootAccess"):
        value = u.pick("Disabled", u.rng.choice(["Enabled", None]))
        if value is not None:
            props[key] = value
    if u.ok():
        props["KmsKeyId"] = u.ref_or("DataKey", ref("SharedKeyArn"))
    extra: dict[str, Any] = {}
    if u.rng.random() < 0.05:
        extra["Metadata"] = {"sagefence": {"suppress": [{"rule": "SM-003", "reason": "lab notebook, ticket ML-1234"}]}}
    u.add("Notebook", "AWS::SageMaker::NotebookInstance", props, **extra)


def domain(u: Unit) -> None:
    props: dict[str, Any] = {"DomainName": f"{u.name.lower()}-studio", "AuthMode": "IAM",
                             "DefaultUserSettings": {"ExecutionRole": role_arn(u)},
                             "VpcId": vpc_id(u), "SubnetIds": subnets(u)}
    access = u.pick("VpcOnly", u.rng.choice(["PublicInternetOnly", None]))
    if access is not None:
        props["AppNetworkAccessType"] = access
    if u.ok():
        props["KmsKeyId"] = u.ref_or("DataKey", ref("SharedKeyArn"))
    u.add("StudioDomain", "AWS::SageMaker::Domain", props)


def model(u: Unit) -> None:
    bucket_ref = u.ref_or("ModelBucket", "shared-models")
    props: dict[str, Any] = {"ExecutionRoleArn": role_arn(u), "PrimaryContainer": {
        "Image": sub("${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/" + f"{u.name.lower()}:latest"),
        "ModelDataUrl": Tag("!Join", ["", ["s3://", bucket_ref, "/model.tar.gz"]])}}
    if u.ok():
        props["VpcConfig"] = {"Subnets": subnets(u),
                              "SecurityGroupIds": [u.ref_or("EndpointSecurityGroup", ref("ExistingSecurityGroupId"))]}
        props["EnableNetworkIsolation"] = True
    u.add("Model", "AWS::SageMaker::Model", props)


BLOCKS: list[tuple[int, Callable[[Unit], None]]] = [
    (5, network), (1, s3_endpoint), (2, kms),
    (1, lambda u: bucket(u, "Data")), (1, lambda u: bucket_policy(u, "Data")),
    (1, lambda u: bucket(u, "Model")), (1, lambda u: bucket_policy(u, "Model")),
    (1, execution_role), (1, deployer_role), (1, guardrail), (1, notebook), (1, domain), (1, model),
]


def build_unit(u: Unit, budget: int) -> int:
    """Add the blocks that fit into ``budget`` resources; the endpoints take what the rest leaves."""
    fixed = sum(size for size, _ in BLOCKS)
    used = 0
    for index, (size, block) in enumerate(BLOCKS):
        if used + size > budget:
            continue
        before = len(u.resources)
        block(u)
        used += len(u.resources) - before
        if index == 1:
            used += interface_endpoints(u, max(0, min(8, budget - fixed)))
    return used
