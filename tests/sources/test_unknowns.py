"""Pseudo parameters are well-formed unknowns; intrinsics over unknowns give unknowns (rules.md v2 §2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sagefence.policy.patterns import arn_match
from sagefence.sources.intrinsics import IntrinsicError, Resolver
from sagefence.sources.unknowns import OpaqueList, pieces
from sagefence.values import OPAQUE_OPEN, Opaque, is_opaque
from tests.conftest import scan

UUID_SUFFIX = {"Fn::Select": [4, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]}]}


def _resolver(template: dict[str, Any] | None = None, stack: str = "t.yaml") -> Resolver:
    return Resolver(template or {"Resources": {}}, account_id="111122223333", region="eu-west-1",
                    conditions={}, exports={}, stack=stack)


def _resolve(value: Any, template: dict[str, Any] | None = None) -> Any:
    return _resolver(template).resolve(value)


def test_stack_id_is_a_well_formed_arn_with_opaque_name_and_uuid() -> None:
    stack_id = _resolve({"Ref": "AWS::StackId"})
    assert is_opaque(stack_id)
    assert stack_id.startswith("arn:aws:cloudformation:eu-west-1:111122223333:stack/")
    name, uuid = stack_id.split(":stack/", 1)[1].split("/")  # token texts hold no '/' for this label
    assert name == _resolve({"Ref": "AWS::StackName"}) and is_opaque(name) and is_opaque(uuid)
    assert _resolve({"Fn::Select": [5, {"Fn::Split": [":", {"Ref": "AWS::StackId"}]}]}) == stack_id.split(":", 5)[5]


def test_the_stack_id_naming_idiom_gives_an_unknown_not_an_error() -> None:
    suffix = _resolve(UUID_SUFFIX)
    assert isinstance(suffix, Opaque)
    assert _resolve(UUID_SUFFIX) == suffix, "the same expression gives the same token"
    name = _resolve({"Fn::Join": ["-", ["data", UUID_SUFFIX]]})
    assert isinstance(name, Opaque) and name == f"data-{suffix}"
    assert _resolve({"Fn::Sub": ["data-${S}", {"S": UUID_SUFFIX}]}) == name


def test_split_keeps_the_elements_it_can_count() -> None:
    parts = _resolve({"Fn::Split": ["/", {"Ref": "AWS::StackId"}]})
    assert isinstance(parts, list) and len(parts) == 3
    assert _resolve({"Fn::Split": ["/", {"Fn::Sub": "a/${AWS::StackName}-x/b"}]})[1] == \
        f"{_resolve({'Ref': 'AWS::StackName'})}-x"


def test_split_with_a_delimiter_the_unknown_may_contain_has_an_unknown_tail() -> None:
    template = {"Parameters": {"P": {"Type": "String"}}, "Resources": {}}
    source = {"Fn::Sub": "a,b,${P},c"}
    parts = _resolve({"Fn::Split": [",", source]}, template)
    assert isinstance(parts, OpaqueList) and parts.prefix == ("a", "b")
    assert _resolve({"Fn::Select": [1, {"Fn::Split": [",", source]}]}, template) == "b"
    third = _resolve({"Fn::Select": [2, {"Fn::Split": [",", source]}]}, template)
    fourth = _resolve({"Fn::Select": [3, {"Fn::Split": [",", source]}]}, template)
    assert is_opaque(third) and is_opaque(fourth) and third != fourth
    assert is_opaque(_resolve({"Fn::Select": [9, {"Fn::Split": ["-", {"Ref": "AWS::StackName"}]}]}))


def test_derived_tokens_are_distinct_for_distinct_inputs() -> None:
    template = {"Parameters": {"A": {"Type": "CommaDelimitedList"}, "B": {"Type": "CommaDelimitedList"}},
                "Resources": {}}
    a4 = _resolve({"Fn::Select": [4, {"Ref": "A"}]}, template)
    assert a4 != _resolve({"Fn::Select": [4, {"Ref": "B"}]}, template)
    assert a4 != _resolve({"Fn::Select": [3, {"Ref": "A"}]}, template)
    assert a4 == _resolve({"Fn::Select": [4, {"Ref": "A"}]}, template)
    assert _resolver(stack="one.yaml").resolve(UUID_SUFFIX) != _resolver(stack="two.yaml").resolve(UUID_SUFFIX)
    assert _resolve({"Fn::Cidr": [{"Ref": "A"}, 2, 8]}, template) != _resolve({"Fn::Cidr": [{"Ref": "B"}, 2, 8]}, template)


def test_notification_arns_is_an_unknown_list() -> None:
    arns = _resolve({"Ref": "AWS::NotificationARNs"})
    assert isinstance(arns, OpaqueList) and arns.prefix == ()
    assert is_opaque(_resolve({"Fn::Select": [0, {"Ref": "AWS::NotificationARNs"}]}))
    assert is_opaque(_resolve({"Fn::Join": [",", {"Ref": "AWS::NotificationARNs"}]}))
    assert is_opaque(_resolve({"Fn::Length": {"Ref": "AWS::NotificationARNs"}}))


def test_url_suffix_follows_the_partition() -> None:
    assert _resolve({"Fn::Sub": "sagemaker.${AWS::URLSuffix}"}) == "sagemaker.amazonaws.com"


@pytest.mark.parametrize("value", [
    {"Fn::FindInMap": ["M", {"Ref": "AWS::StackName"}, "k"]},
    {"Fn::GetAZs": {"Ref": "P"}},
    {"Fn::Select": [5, {"Fn::GetAZs": ""}]},
    {"Fn::Select": [{"Ref": "P"}, ["a", "b"]]},
    {"Fn::Base64": {"Ref": "AWS::StackName"}},
    {"Fn::Select": [1, {"Fn::Cidr": [{"Ref": "P"}, 4, 8]}]},
    {"Fn::ToJsonString": {"a": {"Ref": "AWS::StackName"}}},
    {"Fn::Length": {"Ref": "P"}},
    {"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-vpc"}},
    {"Fn::Join": ["", {"Ref": "P"}]},
    {"Fn::Split": [{"Ref": "P"}, "a,b"]},
])
def test_intrinsics_over_unknowns_give_unknowns(value: Any) -> None:
    template = {"Parameters": {"P": {"Type": "String"}}, "Mappings": {"M": {"x": {"k": "v"}}}, "Resources": {}}
    assert is_opaque(_resolve(value, template))


@pytest.mark.parametrize(("value", "message"), [
    ({"Fn::Select": [2, ["a", "b"]]}, "out of range"),
    ({"Fn::Select": [-1, ["a", "b"]]}, "out of range"),
    ({"Fn::Select": [3, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}, "out of range"),
    ({"Fn::Select": [4, {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}]}, "out of range"),
    ({"Fn::Select": ["x", ["a"]]}, "not a number"),
    ({"Fn::Split": ["", "a"]}, "empty"),
    ({"Fn::Cidr": ["10.0.0.0/24", 4, 8]}, "cannot cut"),
    ({"Fn::Nope": 1}, "unknown intrinsic"),
    ({"Ref": "Nothing"}, "neither a parameter nor a resource"),
    ({"Fn::Select": [1]}, "takes"),
])
def test_what_cloudformation_rejects_is_still_an_error(value: Any, message: str) -> None:
    with pytest.raises(IntrinsicError, match=message):
        _resolve(value)


def test_cidr_of_known_inputs_is_computed() -> None:
    assert _resolve({"Fn::Cidr": ["10.0.0.0/16", 3, 8]}) == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]


def test_get_azs_keeps_its_placeholders_and_has_an_unknown_tail() -> None:
    assert _resolve({"Fn::Select": [0, {"Fn::GetAZs": ""}]}) == "eu-west-1a"


def test_notebook_arn_lower_cases_only_known_text() -> None:
    template = {"Parameters": {"Name": {"Type": "String"}}, "Resources": {"Nb": {
        "Type": "AWS::SageMaker::NotebookInstance", "Properties": {"NotebookInstanceName": {"Fn::Sub": "Team-${Name}"}}}}}
    arn = _resolver(template).arn_of("Nb")
    token = _resolve({"Ref": "Name"}, template)
    assert arn is not None and arn.endswith(f"notebook-instance/team-{token}")


def test_pieces_keep_nested_tokens_whole() -> None:
    text = f"a/{OPAQUE_OPEN}x{OPAQUE_OPEN}y\u27e9\u27e9/b"
    assert pieces(text) == [(False, "a/"), (True, f"{OPAQUE_OPEN}x{OPAQUE_OPEN}y\u27e9\u27e9"), (False, "/b")]


def test_opaque_names_match_in_arns_only_themselves() -> None:
    name = _resolve({"Fn::Join": ["-", ["data", UUID_SUFFIX]]})
    other = _resolve({"Fn::Join": ["-", ["data", {"Fn::Select": [3, UUID_SUFFIX["Fn::Select"][1]]}]]})
    assert arn_match(f"arn:aws:s3:::{name}/*", f"arn:aws:s3:::{name}/key", {})
    assert not arn_match(f"arn:aws:s3:::{name}/*", f"arn:aws:s3:::{other}/key", {})
    assert arn_match("arn:aws:s3:::data-*/*", f"arn:aws:s3:::{name}/key", {})


IDIOM_BUCKET = """
Resources:
  DataBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Join ['-', [data, !Select [4, !Split ['-', !Select [2, !Split ['/', !Ref AWS::StackId]]]]]]
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: 'aws:kms', KMSMasterKeyID: !GetAtt Key.Arn}
  Key:
    Type: AWS::KMS::Key
    Properties: {KeyPolicy: {Statement: []}}
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref DataBucket
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: '*'
            Action: 's3:*'
            Resource:
              - !Sub
                - 'arn:aws:s3:::data-${Suffix}/*'
                - Suffix: !Select [4, !Split ['-', !Select [2, !Split ['/', !Ref AWS::StackId]]]]
              - !Sub 'arn:aws:s3:::${DataBucket}'
            Condition:
              Bool: {aws:SecureTransport: false}
"""


def test_a_bucket_named_with_the_stack_id_idiom_gets_its_s3_rules_evaluated(tmp_path: Path) -> None:
    path = tmp_path / "idiom.yaml"
    path.write_text(IDIOM_BUCKET)
    doc = scan([path], rules=["S3-001", "S3-003", "S3-004", "S3-005"])
    assert not doc.errors
    statuses = {f.rule_id: f.status.value for f in doc.findings if f.resource.id == "DataBucket"}
    assert statuses == {"S3-001": "fail", "S3-003": "pass", "S3-004": "pass", "S3-005": "pass"}


def test_parameters_and_stacks_of_linked_templates_are_different_unknowns(tmp_path: Path) -> None:
    from sagefence.sources import cloudformation as cfn

    (tmp_path / "a.yaml").write_text("""
Parameters: {Env: {Type: String}}
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
  Data: {Type: AWS::S3::Bucket, Properties: {BucketName: !Sub '${Env}-data', Stack: !Ref AWS::StackName}}
Outputs:
  VpcId: {Value: !Ref Vpc, Export: {Name: net-vpc}}
""")
    (tmp_path / "b.yaml").write_text("""
Parameters: {Env: {Type: String}}
Resources:
  Sg: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !ImportValue net-vpc, Tag: !Sub '${Env}-data', Stack: !Ref AWS::StackName}}
""")
    loaded = cfn.load([str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")])
    (group,) = cfn.group_templates(loaded.templates)
    (variant,) = cfn.variants(group, account_id="111122223333", region="eu-west-1")
    props = {r.id: r.properties for r in variant.resources}
    assert is_opaque(props["Data"]["BucketName"]) and is_opaque(props["Sg"]["Tag"])
    assert props["Data"]["BucketName"] != props["Sg"]["Tag"]
    assert props["Data"]["Stack"] != props["Sg"]["Stack"]
    assert props["Sg"]["VpcId"] == "vpc-a-Vpc", "the templates are linked"


def test_a_macro_may_add_the_resources_a_ref_names() -> None:
    # SAM's transform adds ServerlessDeploymentApplication, <Function>Role, ServerlessRestApi...
    sam = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {}}
    for value in ({"Ref": "ServerlessDeploymentApplication"}, {"Fn::GetAtt": ["FunctionRole", "Arn"]},
                  {"Fn::Sub": "${ServerlessRestApi}.execute-api"}):
        assert is_opaque(_resolve(value, sam))
    assert _resolve({"Ref": "ServerlessDeploymentApplication"}, sam) != _resolve({"Ref": "Other"}, sam)
    with pytest.raises(IntrinsicError, match="neither a parameter nor a resource"):
        _resolve({"Ref": "ServerlessDeploymentApplication"})  # without a macro it is a broken template


def test_values_we_do_not_model_are_unknown_but_still_name_their_resource() -> None:
    template = {"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Repo": {"Type": "AWS::CodeCommit::Repository", "Properties": {"RepositoryName": "ml"}},
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
        "Loop": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::GetAtt": ["Loop", "TopicName"]}}},
    }}
    topic = _resolve({"Ref": "Topic"}, template)  # an SNS topic's Ref is its ARN, which we do not build
    arn = _resolve({"Fn::GetAtt": ["Repo", "Arn"]}, template)
    assert is_opaque(topic) and is_opaque(arn) and topic.logical_id == "Topic" and arn.logical_id == "Repo"
    assert _resolve({"Fn::GetAtt": ["Repo", "RepositoryName"]}, template) == "ml"  # an attribute named like its property
    assert _resolve({"Fn::GetAtt": ["Vpc", "CidrBlock"]}, template) == "10.1.0.0/16"
    with pytest.raises(IntrinsicError, match="circular reference"):
        _resolve({"Fn::GetAtt": ["Loop", "TopicName"]}, template)


def test_dynamic_references_are_unknown(tmp_path: Path) -> None:
    from tests.review._util import key_template

    grant = '- {Effect: Allow, Principal: {AWS: "{{resolve:ssm:LaunchRoleArn:1}}"}, Action: kms:Decrypt, Resource: "*"}'
    (tmp_path / "t.yaml").write_text(key_template(grant))
    doc = scan([tmp_path / "t.yaml"], rules=["KMS-003"])
    (finding,) = doc.findings
    assert not doc.errors and finding.status.value == "unknown", finding  # may be any principal, not malformed
    assert "resolve" in finding.message and "LaunchRoleArn" in finding.message
