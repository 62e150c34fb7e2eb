"""Review probes for IAM-001 .. IAM-004.

rules.md IAM-001: fails when "a role's trust policy lets *, or any account other than its own
and config trusted_accounts, assume it with no condition on sts:ExternalId, aws:PrincipalOrgID,
aws:PrincipalArn, aws:SourceAccount or aws:SourceArn".
IAM-002: "a policy allows iam:PassRole on * (or a wildcard that matches every role) without an
iam:PassedToService condition".
IAM-003: "Role A is allowed sts:AssumeRole on role B, B is in the scan, and B's trust policy
admits neither A, nor A's account root".
IAM-004 (b): "a PassRole grant scoped by iam:PassedToService to a service that the target
role's trust policy does not admit".
"""

from __future__ import annotations

import pytest

from tests.review._util import scan_files, statuses, trust_template, write


def trust(principal: str, condition: str = "", action: str = "sts:AssumeRole") -> str:
    text = f"- Effect: Allow\n  Principal: {principal}\n  Action: {action}\n"
    if condition:
        text += "  Condition:\n" + "\n".join("    " + line for line in condition.strip("\n").splitlines()) + "\n"
    return text


def iam_001(tmp_path, statements: str, head: str = "", config=None) -> str:
    return statuses(tmp_path, trust_template(statements, head), "IAM-001", config)["R"]


# --- IAM-001 verified ------------------------------------------------------------------------

@pytest.mark.parametrize("principal", [
    '{AWS: "444455556666"}',
    '{AWS: "arn:aws:iam::444455556666:user/x"}',
    '{AWS: "arn:aws:sts::444455556666:assumed-role/Admin/alice"}',
    '{AWS: ["123456789012", "arn:aws:iam::444455556666:root"]}',
    '{AWS: "*"}',
    '"*"',
])
def test_iam_001_foreign_or_everyone_fails(tmp_path, principal):
    assert iam_001(tmp_path, trust(principal)) == "fail"


def test_iam_001_action_list_and_wildcard_still_fail(tmp_path):
    assert iam_001(tmp_path, trust('{AWS: "arn:aws:iam::444455556666:root"}', action="[sts:AssumeRole, sts:TagSession]")) == "fail"
    assert iam_001(tmp_path, trust('{AWS: "arn:aws:iam::444455556666:root"}', action="'sts:*'")) == "fail"


def test_iam_001_org_condition_on_another_statement_does_not_help(tmp_path):
    statements = trust('{AWS: "arn:aws:iam::444455556666:root"}') + trust('{AWS: "*"}', "StringEquals: {aws:PrincipalOrgID: o-abc123}")
    assert iam_001(tmp_path, statements) == "fail"


def test_iam_001_principal_arn_star_is_not_a_restriction(tmp_path):
    # sagefence simulates: StringLike aws:PrincipalArn "*" admits the probe -> fail (see report: spec ambiguity)
    assert iam_001(tmp_path, trust('{AWS: "*"}', "StringLike: {aws:PrincipalArn: '*'}")) == "fail"


def test_iam_001_trusted_accounts_config(tmp_path):
    assert iam_001(tmp_path, trust('{AWS: "444455556666"}'), config={"trusted_accounts": ["444455556666"]}) == "pass"


def test_iam_001_opaque_account_unknown(tmp_path):
    head = "Parameters:\n  ToolsAccount: {Type: String}\n"
    assert iam_001(tmp_path, trust("{AWS: !Ref ToolsAccount}"), head) == "unknown"


# --- IAM-001 bugs ----------------------------------------------------------------------------

# Review finding, fixed upstream (regression test): was a bug: a foreign account id in a principal ARN whose role
#   NAME is a parameter is unknown ('account not known') instead of fail
def test_iam_001_foreign_account_with_opaque_role_name_fails(tmp_path):
    head = "Parameters:\n  RoleNameP: {Type: String}\n"
    assert iam_001(tmp_path, trust("{AWS: !Sub 'arn:aws:iam::444455556666:role/${RoleNameP}'}"), head) == "fail"


# Review finding, fixed upstream (regression test): was a bug: own-account principal ARN whose role NAME is a
#   parameter is unknown instead of pass
def test_iam_001_own_account_with_opaque_role_name_passes(tmp_path):
    head = "Parameters:\n  RoleNameP: {Type: String}\n"
    assert iam_001(tmp_path, trust("{AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:role/${RoleNameP}'}"), head) == "pass"


# Was a bug (spec-ambiguous, insecure): aws:PrincipalArn pattern with a wildcard ACCOUNT
# (arn:aws:iam::*:role/deployer) admits every account but passes (fixed; kept as a regression test)
def test_iam_001_principal_arn_any_account_fails(tmp_path):
    # Anyone can create a role named 'deployer' in their own account and assume R.
    assert iam_001(tmp_path, trust('{AWS: "*"}', "ArnLike: {aws:PrincipalArn: 'arn:aws:iam::*:role/deployer'}")) == "fail"


# Was a bug (spec-ambiguous, insecure): sts:ExternalId 'StringLike *' restricts nothing (the caller picks the
# id) but passes; inconsistent with PrincipalArn '*' failing (fixed; kept as a regression test)
def test_iam_001_external_id_wildcard_fails(tmp_path):
    assert iam_001(tmp_path, trust('{AWS: "*"}', "StringLike: {sts:ExternalId: '*'}")) == "fail"


# Review finding, fixed upstream (regression test): was a bug: unquoted YAML account id (int) in a trust Principal
#   makes IAM-001 an error; the account id is readable
def test_iam_001_unquoted_numeric_account_id(tmp_path):
    assert iam_001(tmp_path, trust("{AWS: 444455556666}")) == "fail"


# --- IAM-002 ---------------------------------------------------------------------------------

def deployer(statement: str) -> str:
    return """\
Resources:
  Deployer:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: codebuild.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: deploy
          PolicyDocument:
            Statement:
""" + "\n".join("              " + line for line in statement.strip("\n").splitlines()) + "\n"


def iam_002(tmp_path, statement: str) -> str:
    return statuses(tmp_path, deployer(statement), "IAM-002")["Deployer"]


@pytest.mark.parametrize("statement", [
    "- {Effect: Allow, NotAction: iam:CreateUser, Resource: '*'}",
    "- {Effect: Allow, Action: iam:PassRole, Resource: !Sub 'arn:aws:iam::${AWS::AccountId}:role/*'}",
    "- {Effect: Allow, Action: 'iam:Pass*', Resource: 'arn:aws:iam::*:*'}",
])
def test_iam_002_every_role_fails(tmp_path, statement):
    assert iam_002(tmp_path, statement) == "fail"


def test_iam_002_service_role_path_is_not_every_role(tmp_path):
    # arn:aws:iam::*:role/service-role/* matches only roles under /service-role/, not "every role"
    assert iam_002(tmp_path, "- {Effect: Allow, Action: iam:PassRole, Resource: 'arn:aws:iam::*:role/service-role/*'}") == "pass"


def test_iam_002_policy_resource_attached_by_roles(tmp_path):
    text = """\
Resources:
  Deployer:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: codebuild.amazonaws.com}, Action: sts:AssumeRole}
  DeployPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: deploy
      Roles: [!Ref Deployer]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: iam:PassRole, Resource: "*"}
"""
    assert statuses(tmp_path, text, "IAM-002") == {"DeployPolicy": "fail"}


# Review finding, fixed upstream (regression test): was a bug: PassRole on * WITH an iam:PassedToService condition
#   (StringEqualsIfExists) fails: the probe omits iam:PassedToService, which every real PassRole request carries
def test_iam_002_passed_to_service_if_exists_passes(tmp_path):
    statement = """\
- Effect: Allow
  Action: iam:PassRole
  Resource: "*"
  Condition: {StringEqualsIfExists: {iam:PassedToService: sagemaker.amazonaws.com}}
"""
    assert iam_002(tmp_path, statement) == "pass"


# Review finding, fixed upstream (regression test): was a bug (spec-ambiguous, insecure): iam:PassedToService
#   StringLike '*' restricts nothing yet passes (the probe carries no iam:PassedToService)
def test_iam_002_passed_to_service_wildcard_fails(tmp_path):
    statement = """\
- Effect: Allow
  Action: iam:PassRole
  Resource: "*"
  Condition: {StringLike: {iam:PassedToService: "*"}}
"""
    assert iam_002(tmp_path, statement) == "fail"


# --- IAM-003 ---------------------------------------------------------------------------------

CALLER = """\
Resources:
  Pipeline:
    Type: AWS::IAM::Role
    Properties:
      RoleName: pipeline
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: codebuild.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sts:AssumeRole
                Resource: !Sub "arn:aws:iam::${AWS::AccountId}:role/deploy-target"
"""
TARGET_NOT_TRUSTING = """\
Resources:
  Target:
    Type: AWS::IAM::Role
    Properties:
      RoleName: deploy-target
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: cloudformation.amazonaws.com}, Action: sts:AssumeRole}
"""


def _chain(tmp_path, caller_first: bool) -> dict[str, str]:
    a = write(tmp_path, CALLER, "caller.yaml")
    b = write(tmp_path, TARGET_NOT_TRUSTING, "target.yaml")
    doc = scan_files([a, b] if caller_first else [b, a], "IAM-003")
    assert not doc.errors
    return {f.resource.id: f.status.value for f in doc.findings}


def test_iam_003_unlinked_templates_target_first(tmp_path):
    assert _chain(tmp_path, caller_first=False) == {"Pipeline": "fail"}


# Review finding, fixed upstream (regression test): was a bug: broken chain across two unlinked templates is
#   missed when the caller's file comes first (extra_roles is copied before later groups add their roles)
def test_iam_003_unlinked_templates_caller_first(tmp_path):
    # "B is in the scan" does not depend on the order of the files.
    assert _chain(tmp_path, caller_first=True) == {"Pipeline": "fail"}


def test_iam_003_linked_by_import_value(tmp_path):
    a = write(tmp_path, """\
Resources:
  Pipeline:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: codebuild.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: sts:AssumeRole, Resource: !ImportValue ml-target-role-arn}
Outputs:
  P: {Value: !GetAtt Pipeline.Arn, Export: {Name: ml-pipeline-role-arn}}
""", "caller.yaml")
    b = write(tmp_path, """\
Resources:
  Target:
    Type: AWS::IAM::Role
    Properties:
      Path: /deploy/
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: !ImportValue ml-pipeline-role-arn}, Action: sts:AssumeRole}
Outputs:
  T: {Value: !GetAtt Target.Arn, Export: {Name: ml-target-role-arn}}
""", "target.yaml")
    doc = scan_files([a, b], "IAM-003")
    assert {f.resource.id: f.status.value for f in doc.findings} == {"Pipeline": "pass"}


def _same_template_chain(condition: str) -> str:
    return """\
Resources:
  Pipeline:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: codebuild.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: sts:AssumeRole, Resource: !GetAtt Target.Arn}
  Target:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: !GetAtt Pipeline.Arn}
            Action: sts:AssumeRole
""" + condition


def test_iam_003_trust_names_caller_passes(tmp_path):
    assert statuses(tmp_path, _same_template_chain(""), "IAM-003") == {"Pipeline": "pass"}


# Review finding, fixed upstream (regression test): was a bug: B's trust names A explicitly but with an
#   sts:ExternalId condition; trust.admits() treats the unset key as 'not admitted' -> false broken chain
def test_iam_003_trust_with_external_id_admits_caller(tmp_path):
    condition = "            Condition: {StringEquals: {sts:ExternalId: deploy-123}}\n"
    assert statuses(tmp_path, _same_template_chain(condition), "IAM-003") == {"Pipeline": "pass"}


# --- IAM-004 (b) -----------------------------------------------------------------------------

def _passrole_b(exec_trust_condition: str) -> str:
    return """\
Resources:
  Deployer:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: codebuild.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: iam:PassRole
                Resource: !GetAtt Exec.Arn
                Condition: {StringEquals: {iam:PassedToService: sagemaker.amazonaws.com}}
  Exec:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: sagemaker.amazonaws.com}
            Action: sts:AssumeRole
""" + exec_trust_condition


def test_iam_004_b_matching_trust_passes(tmp_path):
    assert statuses(tmp_path, _passrole_b(""), "IAM-004")["Deployer"] == "pass"


# Review finding, fixed upstream (regression test): was a bug: target trust admits sagemaker with the recommended
#   confused-deputy condition (aws:SourceAccount); admits() sends no aws:SourceAccount -> false fail
def test_iam_004_b_confused_deputy_trust_passes(tmp_path):
    condition = "            Condition: {StringEquals: {aws:SourceAccount: !Ref 'AWS::AccountId'}}\n"
    assert statuses(tmp_path, _passrole_b(condition), "IAM-004")["Deployer"] == "pass"


# Review finding, fixed upstream (regression test): was a bug: Allow * on * guarded only by aws:RequestedRegion
#   (no iam:PassedToService) passes IAM-002: the probe carries no aws:RequestedRegion
def test_iam_002_region_guard_is_not_passed_to_service(tmp_path):
    statement = """\
- Effect: Allow
  Action: "*"
  Resource: "*"
  Condition: {StringEquals: {aws:RequestedRegion: [us-east-1, eu-west-1]}}
"""
    assert iam_002(tmp_path, statement) == "fail"


# Review finding, fixed upstream (regression test): was a bug: PassRole on * guarded only by aws:SourceIp passes
#   IAM-002
def test_iam_002_source_ip_guard_is_not_passed_to_service(tmp_path):
    statement = """\
- Effect: Allow
  Action: iam:PassRole
  Resource: "*"
  Condition: {IpAddress: {aws:SourceIp: 10.0.0.0/8}}
"""
    assert iam_002(tmp_path, statement) == "fail"


def test_iam_001_source_ip_lookalike_and_region_fail(tmp_path):
    # IAM-001's decision: "a condition on another key (aws:SourceIp) does not hide an open trust"
    assert iam_001(tmp_path, trust('{AWS: "444455556666"}', "StringEquals: {aws:RequestedRegion: us-east-1}")) == "fail"


# --- second round (after the upstream fixes of 8c80adb) ---------------------------------------

# Was a bug (regression in 8c80adb): PassRole on * scoped by a Deny 'StringNotEquals iam:PassedToService
# sagemaker' now fails: _unscoped_statements() evaluates the Allow without the policy's Deny statements (fixed; kept as a regression test)
def test_iam_002_deny_based_passed_to_service_scoping_passes(tmp_path):
    # The policy restricts PassRole to sagemaker.amazonaws.com with an iam:PassedToService condition (in a Deny).
    statement = """\
- {Effect: Allow, Action: iam:PassRole, Resource: "*"}
- Effect: Deny
  Action: iam:PassRole
  Resource: "*"
  Condition: {StringNotEquals: {iam:PassedToService: sagemaker.amazonaws.com}}
"""
    assert iam_002(tmp_path, statement) == "pass"


def test_iam_001_time_window_is_no_restriction(tmp_path):
    assert iam_001(tmp_path, trust('{AWS: "*"}', "DateLessThan: {aws:CurrentTime: '2099-01-01T00:00:00Z'}")) == "fail"


# Was a bug (low, from 8c80adb's int fix): unquoted 011122223333 is a YAML 1.1 octal int and is read as
# account 001229530843, so a trusted account fails with a made-up account id (fixed; kept as a regression test)
def test_iam_001_unquoted_account_id_with_leading_zero(tmp_path):
    # the digits as written are the account id CloudFormation users mean; never invent another account
    assert iam_001(tmp_path, trust("{AWS: 011122223333}"), config={"trusted_accounts": ["011122223333"]}) in (
        "pass", "unknown")
