"""Review probes for KMS-001 and KMS-003.

rules.md KMS-003 (critical, simulated): fails when "the key policy allows kms:Decrypt to a
principal of another account (not in config trusted_accounts) or to *, with no condition that
restricts it". "An account id or a whole principal ARN that is an opaque token ... may be any
account: IAM-001 and KMS-003 report unknown for a grant to it without a restricting condition".
"""

from __future__ import annotations

import pytest

from tests.review._util import key_template, scan_files, statuses, write


def kms_003(tmp_path, statements: str, head: str = "", config=None) -> str:
    return statuses(tmp_path, key_template(statements, head), "KMS-003", config)["DataKey"]


def grant(principal: str, condition: str = "", action: str = "Action: kms:Decrypt") -> str:
    text = f"- Effect: Allow\n  Principal: {principal}\n  {action}\n  Resource: '*'\n"
    if condition:
        text += "  Condition:\n" + "\n".join("    " + line for line in condition.strip("\n").splitlines()) + "\n"
    return text


# --- verified correct ------------------------------------------------------------------------

@pytest.mark.parametrize("principal", [
    '{AWS: "444455556666"}',                                    # bare account id
    '{AWS: "arn:aws:iam::444455556666:user/x"}',                # a user of another account
    '{AWS: ["123456789012", "arn:aws:iam::444455556666:role/r"]}',  # own + foreign in one list
    '"*"',
    '{AWS: "*"}',
])
def test_kms_003_foreign_or_everyone_fails(tmp_path, principal):
    assert kms_003(tmp_path, grant(principal)) == "fail"


def test_kms_003_notaction_grant_fails(tmp_path):
    assert kms_003(tmp_path, grant('{AWS: "arn:aws:iam::444455556666:root"}',
                                   action="NotAction: kms:ScheduleKeyDeletion")) == "fail"


def test_kms_003_org_condition_on_another_statement_does_not_help(tmp_path):
    statements = grant('{AWS: "444455556666"}') + grant('"*"', "StringEquals: {aws:PrincipalOrgID: o-abc123}")
    assert kms_003(tmp_path, statements) == "fail"


def test_kms_003_principal_arn_star_restricts_nothing(tmp_path):
    # a condition that every probe satisfies is not "a condition that restricts it"
    assert kms_003(tmp_path, grant('{AWS: "*"}', "StringLike: {aws:PrincipalArn: '*'}")) == "fail"


def test_kms_003_trusted_account_passes(tmp_path):
    assert kms_003(tmp_path, grant('{AWS: "444455556666"}'), config={"trusted_accounts": ["444455556666"]}) == "pass"


def test_kms_003_opaque_account_unknown(tmp_path):
    head = "Parameters:\n  PartnerAccount: {Type: String}\n"
    assert kms_003(tmp_path, grant("{AWS: !Sub 'arn:aws:iam::${PartnerAccount}:root'}"), head) == "unknown"


def test_kms_003_own_principal_account_condition_passes(tmp_path):
    assert kms_003(tmp_path, grant('"*"', "StringEquals: {aws:PrincipalAccount: !Ref 'AWS::AccountId'}")) == "pass"


# --- bugs ------------------------------------------------------------------------------------

# Review finding, fixed upstream (regression test): was a bug: a grant to an STS assumed-role session ARN of
#   another account is probed as an unrelated role of that account and passes
def test_kms_003_foreign_assumed_role_session_fails(tmp_path):
    # arn:aws:sts::<acct>:assumed-role/... is a principal of another account, no condition.
    assert kms_003(tmp_path, grant('{AWS: "arn:aws:sts::444455556666:assumed-role/Admin/alice"}')) == "fail"


# Review finding, fixed upstream (regression test): was a bug: Principal * restricted to a FOREIGN account by
#   aws:PrincipalAccount passes: the probe for * comes from 999999999999, which the condition excludes
def test_kms_003_star_with_foreign_principal_account_fails(tmp_path):
    # Equivalent to Principal {AWS: 444455556666}, which fails; the condition restricts to an untrusted account.
    assert kms_003(tmp_path, grant('"*"', "StringEquals: {aws:PrincipalAccount: '444455556666'}")) == "fail"


# Review finding, fixed upstream (regression test): was a bug: Principal * with kms:CallerAccount = a foreign
#   account passes (same cause: probe account fixed, kms:CallerAccount never set)
def test_kms_003_star_with_foreign_caller_account_fails(tmp_path):
    assert kms_003(tmp_path, grant('{AWS: "*"}', "StringEquals: {kms:CallerAccount: '444455556666'}")) == "fail"


# Review finding, fixed upstream (regression test): was a bug: a foreign account id in a principal ARN whose role
#   NAME is a parameter is reported unknown ('account not known') instead of fail
def test_kms_003_foreign_account_with_opaque_role_name_fails(tmp_path):
    # Only "an account id or a whole principal ARN that is an opaque token" is unknown; the account is 444455556666.
    head = "Parameters:\n  RoleNameP: {Type: String}\n"
    assert kms_003(tmp_path, grant("{AWS: !Sub 'arn:aws:iam::444455556666:role/${RoleNameP}'}"), head) == "fail"


# Review finding, fixed upstream (regression test): was a bug: own-account principal ARN whose role NAME is a
#   parameter is reported unknown instead of pass
def test_kms_003_own_account_with_opaque_role_name_passes(tmp_path):
    head = "Parameters:\n  RoleNameP: {Type: String}\n"
    assert kms_003(tmp_path, grant("{AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:role/${RoleNameP}'}"), head) == "pass"


# Review finding, fixed upstream (regression test): was a bug: unquoted YAML account id (int) in Principal makes
#   KMS-003 an error; the id is readable (str of the int)
def test_kms_003_unquoted_numeric_account_id(tmp_path):
    # rules.md: `error` is for input that could not be read. `AWS: 444455556666` is a readable account id.
    assert kms_003(tmp_path, grant("{AWS: 444455556666}")) == "fail"


# --- KMS-001 ---------------------------------------------------------------------------------

KMS_DENY = """\
- Sid: DenyNoVPC
  Effect: Deny
  Principal: "*"
  Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
  Resource: "*"
  Condition:
    StringNotEquals:
      aws:SourceVpce: !ImportValue kms-endpoint-id
"""


def test_kms_001_deny_with_service_exemptions_passes(tmp_path):
    # KMS-001 decision: the probe carries aws:ViaAWSService=false / aws:PrincipalIsAWSService=false
    statements = KMS_DENY + "    Bool:\n      aws:ViaAWSService: 'false'\n      aws:PrincipalIsAWSService: 'false'\n"
    assert statuses(tmp_path, key_template(statements), "KMS-001")["DataKey"] == "pass"


def test_kms_001_typo_action_reencrypt_fails(tmp_path):
    # aws-facts: kms:ReEncrypt does not exist and matches nothing
    statements = KMS_DENY.replace('"kms:ReEncrypt*"', '"kms:ReEncrypt"')
    assert statuses(tmp_path, key_template(statements), "KMS-001")["DataKey"] == "fail"


def test_kms_json_template_with_nested_stack_output_unknown(tmp_path):
    # JSON long forms; GetAtt of a nested stack output is unknowable -> opaque principal -> unknown
    path = write(tmp_path, """{
  "Resources": {
    "Nested": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://example.com/t.yaml"}},
    "DataKey": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "Properties": {"EnableKeyRotation": true,
      "KeyPolicy": {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": {"Fn::GetAtt": ["Nested", "Outputs.RoleArn"]}},
         "Action": "kms:Decrypt", "Resource": "*"}]}}}
  }
}
""", "key.json")
    doc = scan_files([path], "KMS-003")
    assert not doc.errors
    assert {f.resource.id: f.status.value for f in doc.findings} == {"DataKey": "unknown"}


# Review finding, fixed upstream (regression test): was a bug: a DenyNoVPC written with a wildcard endpoint
#   (StringNotLike vpce-0abc*) masks a cross-account Decrypt grant: the KMS-003 probe is not from the designated
#   endpoint
def test_kms_003_not_masked_by_wildcard_deny_no_vpc(tmp_path):
    # rules.md: "From the designated endpoint" (KMS-003) "so that a DenyNoVPC does not mask what the rule is about".
    statements = grant('{AWS: "arn:aws:iam::444455556666:root"}') + """\
- Sid: DenyNoVPC
  Effect: Deny
  Principal: "*"
  Action: kms:*
  Resource: "*"
  Condition:
    StringNotLike:
      aws:SourceVpce: "vpce-0abc*"
"""
    assert kms_003(tmp_path, statements) == "fail"


def test_kms_003_not_masked_by_exact_deny_no_vpc(tmp_path):
    statements = grant('{AWS: "arn:aws:iam::444455556666:root"}') + """\
- Sid: DenyNoVPC
  Effect: Deny
  Principal: "*"
  Action: kms:*
  Resource: "*"
  Condition:
    StringNotEquals:
      aws:SourceVpce: vpce-0123456789abcdef0
"""
    assert kms_003(tmp_path, statements) == "fail"


# Was a bug (minor): a key without KeyPolicy (CloudFormation then applies the default policy: own account root
# only) gets no KMS-003 finding at all instead of pass (fixed; kept as a regression test)
def test_kms_003_default_key_policy_passes(tmp_path):
    text = "Resources:\n  DataKey:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
    assert statuses(tmp_path, text, "KMS-003") == {"DataKey": "pass"}


# --- conditions on keys every real request carries, but the probe does not -------------------

# Review finding, fixed upstream (regression test): was a bug: Principal * with 'IpAddress aws:SourceIp 0.0.0.0/0'
#   (matches every internet caller) passes KMS-003: the designated-endpoint probe has no aws:SourceIp and there is
#   no IAM-001-style restricting-key fallback
def test_kms_003_source_ip_everywhere_is_no_restriction(tmp_path):
    assert kms_003(tmp_path, grant('"*"', "IpAddress: {aws:SourceIp: 0.0.0.0/0}")) == "fail"


# Review finding, fixed upstream (regression test): was a bug: a foreign-account Decrypt grant conditioned only on
#   aws:RequestedRegion passes (the probe carries no aws:RequestedRegion)
def test_kms_003_requested_region_is_no_restriction(tmp_path):
    assert kms_003(tmp_path, grant('{AWS: "arn:aws:iam::444455556666:root"}',
                                   "StringEquals: {aws:RequestedRegion: us-east-1}")) == "fail"


# --- second round (after the upstream fixes of 8c80adb) ---------------------------------------

# Was a bug: Principal * with only a time window (DateLessThan aws:CurrentTime 2099) passes KMS-003: the probe
# carries no aws:CurrentTime and KMS-003 has no restricting-key fallback (fixed; kept as a regression test)
def test_kms_003_time_window_is_no_restriction(tmp_path):
    assert kms_003(tmp_path, grant('"*"', "DateLessThan: {aws:CurrentTime: '2099-01-01T00:00:00Z'}")) == "fail"


# Was a bug: Principal * with StringLike aws:userid '*' (true for every caller) passes KMS-003: the probe
# carries no aws:userid (fixed; kept as a regression test)
def test_kms_003_userid_wildcard_is_no_restriction(tmp_path):
    assert kms_003(tmp_path, grant('"*"', "StringLike: {aws:userid: '*'}")) == "fail"


# Was a bug (spec-ambiguous, insecure): aws:PrincipalArn with a wildcard ACCOUNT
# (arn:aws:iam::*:role/deployer) lets every account decrypt but passes KMS-003 (fixed; kept as a regression test)
def test_kms_003_principal_arn_any_account_fails(tmp_path):
    assert kms_003(tmp_path, grant('"*"', "ArnLike: {aws:PrincipalArn: 'arn:aws:iam::*:role/deployer'}")) == "fail"


def test_kms_003_any_vpc_endpoint_is_no_restriction(tmp_path):
    # StringLike aws:SourceVpce vpce-* admits callers through any endpoint, an attacker's own included
    assert kms_003(tmp_path, grant('"*"', "StringLike: {aws:SourceVpce: 'vpce-*'}")) == "fail"


# Was a bug (spec-ambiguous): 'first value the policy names' comes from an Allow for an admin endpoint, so the
# DenyNoVPC (another endpoint) masks the foreign grant; each named endpoint should be tried (fixed; kept as a regression test)
def test_kms_003_not_masked_when_first_named_endpoint_is_not_the_deny_no_vpc_one(tmp_path):
    statements = """\
- Effect: Allow
  Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:role/admin'}
  Action: kms:*
  Resource: "*"
  Condition: {StringEquals: {aws:SourceVpce: vpce-0adm1n0000000000a}}
""" + grant('{AWS: "arn:aws:iam::444455556666:root"}') + """\
- Sid: DenyNoVPC
  Effect: Deny
  Principal: "*"
  Action: kms:*
  Resource: "*"
  Condition: {StringNotEquals: {aws:SourceVpce: vpce-0main000000000000}}
"""
    assert kms_003(tmp_path, statements) == "fail"
