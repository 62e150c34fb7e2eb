"""Review probes for SM-001 (VPC guardrail, simulated) and IAM-005.

rules.md SM-001: fails when "A role SageMaker can assume (trust admits sagemaker.amazonaws.com)
... is allowed any of sagemaker:CreateNotebookInstance, CreateTrainingJob, CreateProcessingJob,
CreateHyperParameterTuningJob, CreateModel in a request that carries neither
sagemaker:VpcSubnets nor sagemaker:VpcSecurityGroupIds. Identity policies (inline, customer
managed, and the AWS managed ones whose content is known), permission boundaries ... all count."
IAM-005: "a role SageMaker can assume has AdministratorAccess attached".
"""

from __future__ import annotations

import pytest

from tests.review._util import SAGEMAKER_TRUST, indent, scan_files, statuses, write

CONFUSED_DEPUTY_TRUST = """\
- Effect: Allow
  Principal: {Service: sagemaker.amazonaws.com}
  Action: sts:AssumeRole
  Condition:
    StringEquals:
      aws:SourceAccount: !Ref AWS::AccountId
    ArnLike:
      aws:SourceArn: !Sub 'arn:aws:sagemaker:${AWS::Region}:${AWS::AccountId}:*'
"""


def role(props: str, trust: str = SAGEMAKER_TRUST, extra: str = "") -> str:
    return """\
Resources:
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
""" + indent(trust, 10) + "\n" + indent(props, 6) + "\n" + extra


def inline(statements: str) -> str:
    return "Policies:\n  - PolicyName: main\n    PolicyDocument:\n      Statement:\n" + indent(statements, 8)


def sm_001(tmp_path, text: str) -> str | None:
    return statuses(tmp_path, text, "SM-001").get("ExecutionRole")


GUARD_NULL_SUBNETS = """\
- Effect: Deny
  Action: "sagemaker:Create*"
  Resource: "*"
  Condition: {"Null": {"sagemaker:VpcSubnets": "true"}}
"""


# --- verified correct ------------------------------------------------------------------------

@pytest.mark.parametrize("arn", [
    "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "!Sub 'arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess'",
])
def test_sm_001_known_managed_policies_fail(tmp_path, arn):
    assert sm_001(tmp_path, role(f"ManagedPolicyArns: [{arn}]")) == "fail"


def test_sm_001_guardrail_in_permission_boundary_passes(tmp_path):
    extra = """\
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: "*", Resource: "*"}
""" + indent(GUARD_NULL_SUBNETS, 10) + "\n"
    props = "ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonSageMakerFullAccess]\nPermissionsBoundary: !Ref Boundary"
    assert sm_001(tmp_path, role(props, extra=extra)) == "pass"


def test_sm_001_guardrail_only_on_security_groups_passes(tmp_path):
    # the probe carries neither key, so a Null check on either one denies it
    guard = GUARD_NULL_SUBNETS.replace("VpcSubnets", "VpcSecurityGroupIds")
    props = "ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonSageMakerFullAccess]\n" + inline(guard)
    assert sm_001(tmp_path, role(props)) == "pass"


def test_sm_001_notaction_deny_guardrail_passes(tmp_path):
    statements = """\
- {Effect: Allow, Action: "sagemaker:*", Resource: "*"}
- Effect: Deny
  NotAction: ["sagemaker:Describe*", "sagemaker:List*"]
  Resource: "*"
  Condition: {"Null": {"sagemaker:VpcSubnets": "true"}}
"""
    assert sm_001(tmp_path, role(inline(statements))) == "pass"


def test_sm_001_for_any_value_not_like_guardrail_fails(tmp_path):
    # "ForAnyValue: ... is false for an absent key": this deny never fires for a request without subnets
    guard = """\
- Effect: Deny
  Action: "sagemaker:Create*"
  Resource: "*"
  Condition: {"ForAnyValue:StringNotLike": {"sagemaker:VpcSubnets": ["subnet-0abc*"]}}
"""
    props = "ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonSageMakerFullAccess]\n" + inline(guard)
    assert sm_001(tmp_path, role(props)) == "fail"


def test_sm_001_for_all_values_allow_fails(tmp_path):
    # "ForAllValues: is true for an absent key": this allow admits requests without subnets
    statements = """\
- Effect: Allow
  Action: "sagemaker:Create*"
  Resource: "*"
  Condition: {"ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["subnet-0abc"]}}
"""
    assert sm_001(tmp_path, role(inline(statements))) == "fail"


def test_sm_001_policy_attached_by_roles_fails(tmp_path):
    extra = """\
  Extra:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [!Ref ExecutionRole]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: "sagemaker:*", Resource: "*"}
"""
    assert sm_001(tmp_path, role("Description: x", extra=extra)) == "fail"


def test_sm_001_trust_as_json_string_and_service_list(tmp_path):
    text = """\
Resources:
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: '{"Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","sagemaker.amazonaws.com"]},"Action":"sts:AssumeRole"}]}'
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonSageMakerFullAccess]
"""
    assert sm_001(tmp_path, text) == "fail"


# --- bugs ------------------------------------------------------------------------------------

# Review finding, fixed upstream (regression test): was a bug: a SageMaker role whose trust carries the
#   AWS-recommended confused-deputy conditions (aws:SourceAccount/aws:SourceArn) is not seen as assumable by
#   SageMaker: SM-001 is silently skipped
def test_sm_001_confused_deputy_trust_is_still_sagemaker_role(tmp_path):
    text = role("ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonSageMakerFullAccess]", trust=CONFUSED_DEPUTY_TRUST)
    assert sm_001(tmp_path, text) == "fail"


# Review finding, fixed upstream (regression test): was a bug: same cause: IAM-005 silently skips an
#   AdministratorAccess SageMaker role whose trust has aws:SourceAccount/aws:SourceArn conditions
def test_iam_005_confused_deputy_trust_admin_fails(tmp_path):
    text = role("ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]", trust=CONFUSED_DEPUTY_TRUST)
    assert statuses(tmp_path, text, "IAM-005") == {"ExecutionRole": "fail"}


def test_iam_005_plain_trust_admin_fails(tmp_path):
    text = role("ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]")
    assert statuses(tmp_path, text, "IAM-005") == {"ExecutionRole": "fail"}


# Review finding, fixed upstream (regression test): was a bug: the probe uses a fixed resource name
#   (training-job/sagefence-probe); an allow scoped by name prefix (training-job/ml-*) without any VPC condition
#   passes
def test_sm_001_name_prefixed_resource_allow_fails(tmp_path):
    statements = """\
- Effect: Allow
  Action: ["sagemaker:CreateTrainingJob", "sagemaker:CreateModel"]
  Resource:
    - !Sub "arn:aws:sagemaker:${AWS::Region}:${AWS::AccountId}:training-job/ml-*"
    - !Sub "arn:aws:sagemaker:${AWS::Region}:${AWS::AccountId}:model/ml-*"
"""
    assert sm_001(tmp_path, role(inline(statements))) == "fail"


# Review finding, fixed upstream (regression test): was a bug: the probe uses only the scan region; an allow for
#   another region (arn:aws:sagemaker:eu-west-1:*:*) without any VPC condition passes
def test_sm_001_other_region_allow_fails(tmp_path):
    statements = """\
- Effect: Allow
  Action: sagemaker:CreateTrainingJob
  Resource: "arn:aws:sagemaker:eu-west-1:*:*"
"""
    assert sm_001(tmp_path, role(inline(statements))) == "fail"


# Review finding, fixed upstream (regression test): was a bug: an inline allow of sagemaker:* plus an AWS managed
#   BOUNDARY whose content is not shipped gives unknown ('not allowed by the known policies'), not fail
def test_sm_001_unshipped_boundary_does_not_hide_known_allow(tmp_path):
    # rules.md: an unshipped AWS managed policy "is taken to possibly allow anything and never deny: a simulated
    # rule that fails on the known policies still fails".
    props = ("PermissionsBoundary: arn:aws:iam::aws:policy/job-function/DataScientist\n"
             + inline('- {Effect: Allow, Action: "sagemaker:*", Resource: "*"}\n'))
    assert sm_001(tmp_path, role(props)) == "fail"


def test_sm_001_unshipped_identity_policy_with_known_allow_fails(tmp_path):
    props = ("ManagedPolicyArns: [arn:aws:iam::aws:policy/job-function/DataScientist]\n"
             + inline('- {Effect: Allow, Action: "sagemaker:*", Resource: "*"}\n'))
    assert sm_001(tmp_path, role(props)) == "fail"


# Was a bug (spec gap): allow sagemaker:* guarded only by aws:RequestedRegion passes SM-001; every real
# CreateTrainingJob carries aws:RequestedRegion, the probe does not (fixed; kept as a regression test)
def test_sm_001_region_guard_does_not_hide_open_create(tmp_path):
    statements = """\
- Effect: Allow
  Action: "sagemaker:*"
  Resource: "*"
  Condition: {StringEquals: {aws:RequestedRegion: !Ref "AWS::Region"}}
"""
    assert sm_001(tmp_path, role(inline(statements))) == "fail"


# Review finding, fixed upstream (regression test): was a bug: ManagedPolicyArns from a parameter without default
#   (could be AdministratorAccess) gives IAM-005 pass instead of unknown
def test_iam_005_opaque_managed_policy_arn_is_unknown(tmp_path):
    # rules.md: "A rule that reads such a value directly as a setting ... reports unknown";
    # "A check that could not run is never reported as pass".
    head = "Parameters:\n  ExtraPolicyArn: {Type: String}\n"
    assert statuses(tmp_path, head + role("ManagedPolicyArns: [!Ref ExtraPolicyArn]"), "IAM-005") == {
        "ExecutionRole": "unknown"}


def test_sm_001_opaque_managed_policy_arn_is_unknown(tmp_path):
    head = "Parameters:\n  ExtraPolicyArn: {Type: String}\n"
    assert sm_001(tmp_path, head + role("ManagedPolicyArns: [!Ref ExtraPolicyArn]")) == "unknown"


# Review finding, fixed upstream (regression test): was a bug: an AWS::IAM::Policy attached by Roles that cannot
#   be resolved (broken resource) is silently dropped from the role: SM-001 passes although the policy grants
#   sagemaker:*
def test_sm_001_unreadable_attached_policy_is_not_pass(tmp_path):
    # rules.md: "A check that could not run is never reported as pass."
    text = "Mappings:\n  RegionMap:\n    eu-west-1: {Bucket: ml-eu}\n" + role("Description: exec", extra="""\
  Extra:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [!Ref ExecutionRole]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: "sagemaker:*", Resource: "*"}
          - {Effect: Allow, Action: "s3:GetObject", Resource: !Sub ["arn:aws:s3:::${B}/*", {B: !FindInMap [RegionMap, !Ref "AWS::Region", Bucket]}]}
""")
    doc = scan_files([write(tmp_path, text)], "SM-001")
    assert [f.status.value for f in doc.findings] == ["unknown"]
    assert any("Extra (AWS::IAM::Policy) could not be read" in e.message for e in doc.errors)  # exit 3
