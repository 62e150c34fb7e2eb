from __future__ import annotations

from pathlib import Path

from sagefence.config import Config
from sagefence.inventory.index import Inventory
from sagefence.sources import cloudformation as cfn
from sagefence.sources.intrinsics import RefToken
from sagefence.status import SourceKind
from sagefence.values import Opaque, is_opaque


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _variants(*paths: Path, account_id: str = "123456789012", region: str = "us-east-1"):
    loaded = cfn.load([str(p) for p in paths])
    assert not loaded.errors, loaded.errors
    out = []
    for group in cfn.group_templates(loaded.templates):
        out.extend(cfn.variants(group, account_id=account_id, region=region))
    return out


def _by_id(variant):
    return {r.id: r for r in variant.resources}


def test_parameters_pseudo_parameters_and_names(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.yaml", """
Parameters:
  Env: {Type: String, Default: prod}
  Subnets: {Type: CommaDelimitedList, Default: "subnet-a, subnet-b"}
  Secret: {Type: String}
Resources:
  Data:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${Env}-data-${AWS::AccountId}-${AWS::Region}'
  Role:
    Type: AWS::IAM::Role
    Properties:
      Path: /ml/
      RoleName: exec
      AssumeRolePolicyDocument: {Statement: []}
  Thing:
    Type: AWS::SageMaker::Model
    Properties:
      Arn: !GetAtt Data.Arn
      RoleArn: !GetAtt Role.Arn
      Subnets: !Ref Subnets
      Hidden: !Ref Secret
      Mixed: !Sub 'arn:aws:iam::${Secret}:root'
      Partition: !Ref AWS::Partition
""")
    (variant,) = _variants(path, account_id="111122223333", region="eu-west-1")
    props = _by_id(variant)["Thing"].properties
    assert props["Arn"] == "arn:aws:s3:::prod-data-111122223333-eu-west-1"
    assert props["RoleArn"] == "arn:aws:iam::111122223333:role/ml/exec"
    assert isinstance(props["RoleArn"], RefToken) and props["RoleArn"].logical_id == "Role"
    assert props["Subnets"] == ["subnet-a", "subnet-b"]
    assert isinstance(props["Hidden"], Opaque) and isinstance(props["Mixed"], Opaque)
    assert props["Mixed"] != "arn:aws:iam::111122223333:root"
    assert props["Partition"] == "aws"


def test_if_both_branches_and_resource_conditions(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.yaml", """
Parameters:
  ExistingVpcId: {Type: String}
Conditions:
  CreateVpc: !Equals [!Ref ExistingVpcId, ""]
  NotCreate: !Not [!Condition CreateVpc]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Condition: CreateVpc
    Properties: {CidrBlock: 10.0.0.0/16}
  Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !If [CreateVpc, !Ref Vpc, !Ref ExistingVpcId]
      ServiceName: com.amazonaws.us-east-1.s3
      Extra: !If [NotCreate, present, !Ref AWS::NoValue]
""")
    variants = _variants(path)
    assert [v.assignment for v in variants] == [{"CreateVpc": True}, {"CreateVpc": False}]
    with_vpc, without = (_by_id(v) for v in variants)
    assert set(with_vpc) == {"Vpc", "Endpoint"} and set(without) == {"Endpoint"}
    assert with_vpc["Endpoint"].properties["VpcId"] == "vpc-Vpc"
    assert "Extra" not in with_vpc["Endpoint"].properties
    assert isinstance(without["Endpoint"].properties["VpcId"], Opaque)
    assert without["Endpoint"].properties["Extra"] == "present"
    inv = Inventory(variants[0].resources, config=Config(), source=SourceKind.TEMPLATES)
    (vpc,) = inv.of_type("AWS::EC2::VPC")
    assert [e.id for e in inv.endpoints_of(vpc)] == ["Endpoint"]


def test_many_conditions_are_taken_independently(tmp_path: Path) -> None:
    conds = "\n".join(f"  C{i}: !Equals [!Ref AWS::Region, r{i}]" for i in range(14))
    props = "\n".join(f"      P{i}: !If [C{i}, a, b]" for i in range(14))
    path = _write(tmp_path, "t.yaml", f"Conditions:\n{conds}\nResources:\n  M:\n    Type: AWS::SageMaker::Model\n"
                  f"    Properties:\n{props}\n")
    variants = _variants(path)
    assert len(variants) == 2 + 2 * 14
    assert all(v.independent for v in variants)
    assert "branches taken independently" in (variants[0].describe() or "")


def test_policies_attach_to_buckets_and_roles(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.yaml", """
Resources:
  Data:
    Type: AWS::S3::Bucket
  DataPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Data
      PolicyDocument: '{"Statement": []}'
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: []}
      Policies: [{PolicyName: inline, PolicyDocument: {Statement: []}}]
      ManagedPolicyArns: [!Ref Managed, arn:aws:iam::aws:policy/AdministratorAccess, arn:aws:iam::aws:policy/Unknown]
  Managed:
    Type: AWS::IAM::ManagedPolicy
    Properties: {PolicyDocument: {Statement: []}}
  Attached:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: attached
      Roles: [!Ref Role]
      PolicyDocument: {Statement: []}
""")
    (variant,) = _variants(path)
    inv = Inventory(variant.resources, config=Config(), source=SourceKind.TEMPLATES)
    (bucket,) = inv.of_type("AWS::S3::Bucket")
    assert bucket.policy == '{"Statement": []}'
    (role,) = inv.of_type("AWS::IAM::Role")
    sources = [p.source for p in role.policies]
    assert sources == ["inline policy 'inline' of role Role", "managed policy Managed",
                       "AWS managed policy AdministratorAccess",
                       "managed policy arn:aws:iam::aws:policy/Unknown (content not known)", "policy Attached"]
    assert role.policies[2].document["Statement"][0]["Action"] == "*"
    assert role.policies[3].document is None


def test_import_value_links_templates(tmp_path: Path) -> None:
    network = _write(tmp_path, "network.yaml", """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
Outputs:
  VpcId:
    Value: !Ref Vpc
    Export: {Name: shared-vpc-id}
""")
    endpoints = _write(tmp_path, "endpoints.yaml", """
Resources:
  S3:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !ImportValue shared-vpc-id
      ServiceName: com.amazonaws.us-east-1.s3
  Dangling:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !ImportValue not-exported-here
      ServiceName: com.amazonaws.us-east-1.s3
""")
    loaded = cfn.load([str(endpoints), str(network)])
    groups = cfn.group_templates(loaded.templates)
    assert len(groups) == 1
    (variant,) = cfn.variants(groups[0], account_id="123456789012", region="us-east-1")
    by_id = _by_id(variant)
    assert by_id["S3"].properties["VpcId"] == "vpc-network-Vpc"
    assert isinstance(by_id["Dangling"].properties["VpcId"], Opaque)


def test_circular_ref_and_unknown_function_break_one_resource(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.yaml", """
Resources:
  A:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Ref B}
  B:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Ref A}
  C:
    Type: AWS::S3::Bucket
    Properties: {Tags: [{Key: k, Value: {"Fn::Frobnicate": x}}]}
  D:
    Type: AWS::S3::Bucket
""")
    (variant,) = _variants(path)
    by_id = _by_id(variant)
    assert "circular reference: B -> A -> B" in by_id["A"].extra["broken"]
    assert "unknown intrinsic function Fn::Frobnicate" in by_id["C"].extra["broken"]
    assert by_id["C"].extra["broken"].startswith("line 9:")
    assert "broken" not in by_id["D"].extra


def test_walk_skips_non_templates_and_config(tmp_path: Path) -> None:
    _write(tmp_path, "sagefence.yaml", "account_id: '123456789012'\n")
    _write(tmp_path, "list.yaml", "- a\n- b\n")
    _write(tmp_path, "empty.yml", "")
    _write(tmp_path, "settings.yaml", "base: &b {x: 1}\nother: *b\n")
    _write(tmp_path, "notes.txt", "Resources: {}")
    _write(tmp_path, "t.template", '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}')
    loaded = cfn.load([str(tmp_path)])
    assert [t.path.name for t in loaded.templates] == ["t.template"]
    reasons = {Path(t).name: r for t, r in loaded.skipped}
    assert set(reasons) == {"list.yaml", "empty.yml", "settings.yaml"}
    assert "empty file" in reasons["empty.yml"]
    assert not loaded.errors


def test_explicit_non_template_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "list.yaml", "- a\n")
    loaded = cfn.load([str(path)])
    assert loaded.errors == [(path.as_posix(), "not a CloudFormation template: top level is a list, not a mapping")]


def test_export_names_built_with_sub_link_templates(tmp_path: Path) -> None:
    network = _write(tmp_path, "network.yaml", """
Parameters:
  Team: {Type: String, Default: ml}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
Outputs:
  VpcId:
    Value: !Ref Vpc
    Export: {Name: !Sub '${Team}-vpc-${AWS::Region}'}
""")
    endpoints = _write(tmp_path, "endpoints.yaml", """
Parameters:
  Network: {Type: String, Default: ml-vpc}
Resources:
  S3:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !ImportValue
        Fn::Sub: '${Network}-${AWS::Region}'
      ServiceName: com.amazonaws.us-east-1.s3
""")
    loaded = cfn.load([str(network), str(endpoints)])
    (group,) = cfn.group_templates(loaded.templates)
    (variant,) = cfn.variants(group, account_id="123456789012", region="us-east-1")
    assert _by_id(variant)["S3"].properties["VpcId"] == "vpc-network-Vpc"


def test_a_null_anywhere_in_a_property_makes_that_property_malformed(tmp_path: Path) -> None:
    from sagefence.values import Malformed

    path = _write(tmp_path, "t.yaml", """
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::123456789012:role/m
      VpcConfig: {SecurityGroupIds: [sg-1], Subnets: [subnet-1, null]}
      Containers: [{Image: x, Environment: {MODE: }}]
""")
    (variant,) = _variants(path)
    props = _by_id(variant)["Model"].properties
    assert props["ExecutionRoleArn"] == "arn:aws:iam::123456789012:role/m"
    for name, where in (("VpcConfig", "VpcConfig.Subnets[1]"), ("Containers", "Containers[0].Environment.MODE")):
        assert isinstance(props[name], Malformed) and props[name].problem.startswith(f"{where} is null"), props[name]


def test_a_condition_taken_against_the_defaults_leaves_its_parameters_unknown(tmp_path: Path) -> None:
    # The optional-parameter idiom: when RoleArn is '' (its default) the condition is true; where the
    # condition is taken false, RoleArn holds something else, so it is unknown, never ''.
    path = _write(tmp_path, "t.yaml", """
Parameters:
  RoleArn: {Type: String, Default: ''}
  Stage: {Type: String, Default: dev}
Conditions:
  NoRoleArn: !Equals [!Ref RoleArn, '']
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Action: sts:AssumeRole
            Principal: {AWS: !If [NoRoleArn, !Sub 'arn:aws:iam::${AWS::AccountId}:root', !Ref RoleArn]}
      Description: !Ref Stage
""")
    seen = {}
    for variant in _variants(path):
        props = _by_id(variant)["Role"].properties
        principal = props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]
        seen[variant.describe()] = principal
        assert props["Description"] == "dev"  # a parameter no taken test names keeps its default
    assert seen["NoRoleArn=true"] == "arn:aws:iam::123456789012:root"
    assert is_opaque(seen["NoRoleArn=false"]) and seen["NoRoleArn=false"] != ""
