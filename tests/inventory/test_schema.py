"""Values of the wrong type for the properties rules read become Malformed markers."""

from __future__ import annotations

import pytest

from sagefence.inventory.schema import checked_properties
from sagefence.values import Malformed, Missing, Opaque, ReadError

NB = "AWS::SageMaker::NotebookInstance"


@pytest.mark.parametrize(("rtype", "name", "value", "problem"), [
    (NB, "PlatformIdentifier", ["notebook-al1-v1"], "a list where CloudFormation expects string"),
    (NB, "KmsKeyId", [], "a list where CloudFormation expects string"),
    (NB, "KmsKeyId", False, "a boolean where CloudFormation expects string"),
    (NB, "DirectInternetAccess", None, "null"),
    (NB, "SecurityGroupIds", "sg-1", "a string where CloudFormation expects a list"),
    (NB, "SecurityGroupIds", ["sg-1", None], "SecurityGroupIds[1] is null"),
    (NB, "Tags", {"Key": "a"}, "a map where CloudFormation expects a list"),
    ("AWS::EC2::SecurityGroup", "SecurityGroupIngress", [{"CidrIp": ["0.0.0.0/0"]}],
     "SecurityGroupIngress[0].CidrIp is a list"),
    ("AWS::EC2::SecurityGroup", "SecurityGroupIngress", [{"FromPort": "all"}], "FromPort is a string"),
    ("AWS::IAM::Role", "ManagedPolicyArns", {"Admin": "arn:aws:iam::aws:policy/AdministratorAccess"},
     "a map where CloudFormation expects a list"),
    ("AWS::IAM::Role", "Policies", [{"PolicyName": "p", "PolicyDocument": ["x"]}], "PolicyDocument is a list"),
    ("AWS::EC2::VPCEndpoint", "PrivateDnsEnabled", "yes", "a string where CloudFormation expects boolean"),
    ("AWS::KMS::Key", "EnableKeyRotation", 1, "a number where CloudFormation expects boolean"),
    ("AWS::S3::Bucket", "BucketEncryption",
     {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": ["aws:kms"]}}]},
     "SSEAlgorithm is a list"),
    ("AWS::S3::Bucket", "PublicAccessBlockConfiguration", {"BlockPublicAcls": None}, "BlockPublicAcls is null"),
])
def test_ill_typed_values_become_malformed(rtype: str, name: str, value: object, problem: str) -> None:
    checked = checked_properties(rtype, {name: value, "Other": "kept"})
    assert checked is not None and checked["Other"] == "kept"
    marker = checked[name]
    assert isinstance(marker, Malformed) and problem in marker.problem and marker.field == name


@pytest.mark.parametrize(("rtype", "properties"), [
    (NB, {"PlatformIdentifier": "notebook-al2-v3", "VolumeSizeInGB": 5, "KmsKeyId": Opaque.token("Ref", "K")}),
    (NB, {"SecurityGroupIds": Opaque.token("Ref", "ListParam"), "SubnetId": Opaque.token("ImportValue", "x")}),
    (NB, {"PlatformIdentifier": Missing("PlatformIdentifier"), "Tags": ReadError("sagemaker.ListTags", "denied")}),
    ("AWS::EC2::VPCEndpoint", {"PrivateDnsEnabled": "TRUE", "PolicyDocument": '{"Statement": []}'}),
    ("AWS::EC2::SecurityGroup", {"SecurityGroupIngress": [{"CidrIp": "10.0.0.0/8", "FromPort": "443"}]}),
    ("AWS::KMS::Key", {"EnableKeyRotation": "true", "KeyPolicy": {"Statement": []}}),
    ("AWS::S3::Bucket", {"BucketName": 12345}),  # CloudFormation turns a number into its digits
    ("AWS::Custom::Thing", {"Anything": None}),  # types no rule reads are not checked
])
def test_well_typed_and_unknown_values_are_kept(rtype: str, properties: dict) -> None:
    assert checked_properties(rtype, properties) is None
