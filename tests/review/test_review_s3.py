"""Review probes for the S3 rules (S3-001 DenyNoVPC, S3-002, S3-004).

rules.md, "Semantic policy checks": simulated rules "build concrete requests and evaluate the
policy with IAM's evaluation logic ... So a DenyNoVPC written with s3:Get*, NotAction,
StringNotEqualsIfExists, aws:SourceVpce in other case, or split over several statements is
recognised, and a look-alike that does not actually deny ... is caught."
S3-001: "The bucket policy does not deny, for the probe principal, every one of ... in both
outside-endpoint contexts" (internet: no aws:SourceVpce; another endpoint: vpce-0a0a...).
"""

from __future__ import annotations

import pytest

from tests.review._util import NETWORK, bucket_template, scan_files, statuses, write

RESOURCES = "Resource: [!GetAtt DataBucket.Arn, !Sub '${DataBucket.Arn}/*']"


def deny(condition: str, *, principal: str = '"*"', resource: str = RESOURCES, action: str = '"s3:*"') -> str:
    return f"""\
- Sid: DenyNoVPC
  Effect: Deny
  Principal: {principal}
  Action: {action}
  {resource}
  Condition:
""" + "\n".join("    " + line for line in condition.strip("\n").splitlines()) + "\n"


def s3_001(tmp_path, statements: str, head: str = "", **kw) -> str:
    return statuses(tmp_path, bucket_template(statements, head, **kw), "S3-001")["DataBucket"]


# --- equivalents that do deny in both contexts: pass ------------------------------------------

PASSING_DENIES = {
    # several keys in one operator are AND: both absent (internet) or both different (other endpoint) -> deny
    "vpce_and_vpc_same_block": "StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n  aws:SourceVpc: !Ref Vpc\n",
    # a deny that exempts one admin role still denies the probe principal
    "principalarn_admin_exemption": (
        "StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n"
        "ArnNotEquals:\n  aws:PrincipalArn: !Sub 'arn:aws:iam::${AWS::AccountId}:role/admin'\n"),
    # aws:SourceArn is absent from the probe: ArnNotEquals is true for an absent key
    "sourcearn_not_equals": (
        "StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n"
        "ArnNotEquals:\n  aws:SourceArn: !Sub 'arn:aws:sagemaker:${AWS::Region}:${AWS::AccountId}:*'\n"),
    # exemption of calls made by AWS services (the probe carries aws:ViaAWSService=false)
    "via_aws_service_exemption": "StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\nBool:\n  aws:ViaAWSService: 'false'\n",
    # "Null: aws:CalledVia: true": true for the probe, which carries no aws:CalledVia
    "called_via_null_exemption": "StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n'Null':\n  aws:CalledVia: true\n",
    # aws:SourceVpce as a list (OR of values; negated: none may match)
    "vpce_list": "StringNotEquals:\n  aws:SourceVpce: [!Ref S3Endpoint, vpce-11112222333344445]\n",
    # ForAllValues on a single-valued key: true when absent, true when the value is not listed
    "forallvalues_not_equals": "ForAllValues:StringNotEquals:\n  aws:SourceVpce: [!Ref S3Endpoint]\n",
    # an endpoint id imported from a template that is not scanned: opaque, "different from every probe value"
    "unresolved_import": "StringNotEquals:\n  aws:SourceVpce: !ImportValue shared-s3-endpoint-id\n",
}


@pytest.mark.parametrize("name", sorted(PASSING_DENIES))
def test_s3_001_equivalent_denies_pass(tmp_path, name):
    assert s3_001(tmp_path, deny(PASSING_DENIES[name])) == "pass"


def test_s3_001_principal_aws_star_equals_star(tmp_path):
    # IAM documents {"AWS": "*"} and "*" as the same "all principals"
    assert s3_001(tmp_path, deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n", principal='{AWS: "*"}')) == "pass"


def test_s3_001_not_resource_deny_pass(tmp_path):
    # Deny with NotResource naming another bucket covers ml-data and ml-data/*
    statement = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n",
                     resource='NotResource: "arn:aws:s3:::other-bucket/*"')
    assert s3_001(tmp_path, statement) == "pass"


def test_s3_001_prefix_resource_covers_objects(tmp_path):
    # "a trailing * in a segment crosses colons" and '/': arn:aws:s3:::ml-* matches ml-data and ml-data/x
    statement = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n", resource='Resource: "arn:aws:s3:::ml-*"')
    assert s3_001(tmp_path, statement) == "pass"


def test_s3_001_notprincipal_exception_role_still_denies_probe(tmp_path):
    # NotPrincipal exempting an admin role (with its account) does not exempt the probe role
    statement = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n",
                     principal="{AWS: [!Sub 'arn:aws:iam::${AWS::AccountId}:role/admin', !Ref 'AWS::AccountId']}"
                     ).replace("Principal:", "NotPrincipal:")
    assert s3_001(tmp_path, statement) == "pass"


def test_s3_001_version_2008_pass(tmp_path):
    text = bucket_template(deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n")).replace(
        '"2012-10-17"', '"2008-10-17"')
    assert statuses(tmp_path, text, "S3-001")["DataBucket"] == "pass"


def test_s3_001_join_built_arns_pass(tmp_path):
    statement = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n", resource=(
        "Resource:\n    - !Join ['', ['arn:aws:s3:::', !Ref DataBucket]]\n"
        "    - !Join ['', ['arn:aws:s3:::', !Ref DataBucket, '/*']]"))
    assert s3_001(tmp_path, statement) == "pass"


def test_s3_001_policy_as_sub_json_string_pass(tmp_path):
    # "Properties typed Json ... may be a mapping or a JSON string"
    text = bucket_template("- {}\n").split("      PolicyDocument:")[0] + """\
      PolicyDocument: !Sub |
        {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
          "Resource": ["${DataBucket.Arn}", "${DataBucket.Arn}/*"],
          "Condition": {"StringNotEquals": {"aws:SourceVpce": "${S3Endpoint}"}}}]}
"""
    assert statuses(tmp_path, text, "S3-001")["DataBucket"] == "pass"


def test_s3_001_policy_by_literal_bucket_name_pass(tmp_path):
    # BucketPolicy naming the bucket by its literal BucketName instead of !Ref
    text = bucket_template(deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n")).replace(
        "Bucket: !Ref DataBucket", "Bucket: ml-data")
    assert statuses(tmp_path, text, "S3-001")["DataBucket"] == "pass"


def test_s3_001_bucket_name_parameter_without_default(tmp_path):
    # opaque bucket name: the ARNs built from it are equal to themselves, so the deny still covers the bucket
    head = "Parameters:\n  BucketNameP: {Type: String}\n"
    statement = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n", resource=(
        "Resource: [!Sub 'arn:aws:s3:::${BucketNameP}', !Sub 'arn:aws:s3:::${BucketNameP}/*']"))
    assert s3_001(tmp_path, statement, head, bucket_props="{BucketName: !Ref BucketNameP}") == "pass"


# --- look-alikes that do not deny in both contexts: fail ------------------------------------

FAILING_DENIES = {
    # the other-endpoint probe (vpce-0a0a...) matches vpce-*: not denied through another endpoint
    "string_not_like_wildcard": "StringNotLike:\n  aws:SourceVpce: 'vpce-*'\n",
    # exempting every role of the account exempts the probe role
    "principalarn_all_roles_exempt": (
        "StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n"
        "ArnNotLike:\n  aws:PrincipalArn: !Sub 'arn:aws:iam::${AWS::AccountId}:role/*'\n"),
    # applies only to calls made through AWS services: the probe is not one
    "via_aws_service_true": "StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\nBool:\n  aws:ViaAWSService: 'true'\n",
    # applies only to IAM users: the probe is an assumed role
    "principal_type_user": "StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\nStringEquals:\n  aws:PrincipalType: User\n",
}


@pytest.mark.parametrize("name", sorted(FAILING_DENIES))
def test_s3_001_lookalike_denies_fail(tmp_path, name):
    assert s3_001(tmp_path, deny(FAILING_DENIES[name])) == "fail"


def test_s3_001_resource_case_differs_fail(tmp_path):
    # "ARNs are case-sensitive"
    statement = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n",
                     resource='Resource: ["arn:aws:s3:::ML-DATA", "arn:aws:s3:::ML-DATA/*"]')
    assert s3_001(tmp_path, statement) == "fail"


def test_s3_001_policy_under_false_condition_fail(tmp_path):
    # rules.md Conditions: "An insecure state is reachable when some assignment of the conditions produces it"
    head = "Parameters:\n  Lock: {Type: String, Default: 'yes'}\nConditions:\n  Locked: !Equals [!Ref Lock, 'yes']\n"
    text = bucket_template(deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n"), head).replace(
        "    Type: AWS::S3::BucketPolicy\n", "    Type: AWS::S3::BucketPolicy\n    Condition: Locked\n")
    assert statuses(tmp_path, text, "S3-001")["DataBucket"] == "fail"


# --- S3-002 / S3-004 ------------------------------------------------------------------------

def test_s3_002_getatt_id_and_sub_pass(tmp_path):
    # "a value that resolves to an AWS::EC2::VPCEndpoint ... passes"
    text = bucket_template(deny("StringNotEquals:\n  aws:SourceVpce: [!GetAtt S3Endpoint.Id, !Sub '${S3Endpoint}']\n"))
    assert statuses(tmp_path, text, "S3-002")["DataBucket"] == "pass"


def test_s3_002_value_naming_a_bucket_fails(tmp_path):
    # "one that resolves to another resource type fails"
    text = bucket_template(deny("StringNotEquals:\n  aws:SourceVpce: [!Ref S3Endpoint, !Ref DataBucket]\n"))
    assert statuses(tmp_path, text, "S3-002")["DataBucket"] == "fail"


def test_s3_004_unquoted_yaml_false_pass(tmp_path):
    # aws-facts: unquoted YAML booleans are the strings "true"/"false" for IAM
    statements = deny("Bool:\n  aws:SecureTransport: false\n")
    assert statuses(tmp_path, bucket_template(statements), "S3-004")["DataBucket"] == "pass"


# Review finding, fixed upstream (regression test): was a bug: unquoted YAML timestamp in a condition value makes
#   the whole policy an error (PolicyError: unsupported type datetime) instead of the string IAM sees
def test_s3_001_unquoted_yaml_date_in_other_statement(tmp_path):
    # rules.md: `error` is for input that "could not be read"; CloudFormation hands IAM the string.
    statements = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n") + """\
- Effect: Allow
  Principal: {AWS: !Ref AWS::AccountId}
  Action: s3:GetObject
  Resource: !Sub '${DataBucket.Arn}/*'
  Condition:
    DateLessThan:
      aws:CurrentTime: 2027-01-01T00:00:00Z
"""
    assert s3_001(tmp_path, statements) == "pass"


# --- templates linked by ImportValue: resources with the same logical id --------------------

NETWORK_A = "Resources:\n" + NETWORK + """\
  DataBucket:
    Type: AWS::S3::Bucket
  DataBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref DataBucket
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt DataBucket.Arn, !Sub '${DataBucket.Arn}/*']
            Condition:
              StringNotEquals:
                aws:SourceVpce: !Ref S3Endpoint
Outputs:
  Endpoint:
    Value: !Ref S3Endpoint
    Export: {Name: shared-s3-endpoint}
"""
# B has its own VPC (no endpoint at all) and its own bucket (no policy at all); it imports A's export.
APP_B = """\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.1.0.0/16}
  DataBucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: endpoint, Value: !ImportValue shared-s3-endpoint}]
"""


def _linked(tmp_path, rule, app_first=False):
    a = write(tmp_path, NETWORK_A, "network.yaml")
    b = write(tmp_path, APP_B, "app.yaml")
    doc = scan_files([b, a] if app_first else [a, b], rule)
    assert not doc.errors
    return {(f.resource.file.rsplit("/", 1)[-1], f.resource.id): f.status.value for f in doc.findings}


def test_s3_001_linked_templates_network_first_is_right(tmp_path):
    assert _linked(tmp_path, "S3-001") == {("network.yaml", "DataBucket"): "pass", ("app.yaml", "DataBucket"): "fail"}


# Review finding, fixed upstream (regression test): was a bug: in a template group, B's bucket with no policy is
#   given A's bucket policy (same logical id => same Ref placeholder), depending on file order
def test_s3_001_linked_templates_same_logical_id_bucket(tmp_path):
    # "No policy at all fails." B's DataBucket has none; A's has a correct DenyNoVPC.
    got = _linked(tmp_path, "S3-001", app_first=True)
    assert got == {("network.yaml", "DataBucket"): "pass", ("app.yaml", "DataBucket"): "fail"}


# Review finding, fixed upstream (regression test): was a bug: a VPC with no endpoint passes VPCE-001 because an
#   endpoint of another template in the group uses !Ref Vpc (same logical id)
def test_vpce_001_linked_templates_same_logical_id_vpc(tmp_path):
    # VPCE-001 fails when "the VPC has no S3 endpoint"; B's VPC has none.
    got = _linked(tmp_path, "VPCE-001")
    assert got[("app.yaml", "Vpc")] == "fail"
    assert got[("network.yaml", "Vpc")] == "pass"


# --- "from the designated endpoint": a DenyNoVPC must not mask S3-004 ------------------------

WILDCARD_DENY_NO_VPC = deny("StringNotLike:\n  aws:SourceVpce: 'vpce-0abc*'\n")


def test_s3_001_wildcard_endpoint_deny_passes(tmp_path):
    # internet: absent key -> StringNotLike true; other endpoint vpce-0a0a... does not match vpce-0abc*
    assert s3_001(tmp_path, WILDCARD_DENY_NO_VPC) == "pass"


# Review finding, fixed upstream (regression test): was a bug: designated_endpoint() skips wildcard values, so the
#   probe comes from 'another endpoint' and the DenyNoVPC itself denies it: S3-004 passes with no TLS deny
def test_s3_004_not_masked_by_wildcard_deny_no_vpc(tmp_path):
    # rules.md: the designated endpoint is used "so that a DenyNoVPC does not mask what the rule is about".
    # There is no aws:SecureTransport deny at all: S3-004 must fail.
    assert statuses(tmp_path, bucket_template(WILDCARD_DENY_NO_VPC), "S3-004")["DataBucket"] == "fail"


# Review finding, fixed upstream (regression test): was a bug: the designated-endpoint context keeps
#   aws:VpcSourceIp=10.255.0.10, so a DenyNoVPC on aws:VpcSourceIp masks the missing TLS deny: S3-004 passes
def test_s3_004_not_masked_by_vpc_source_ip_deny(tmp_path):
    statements = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n") + deny(
        "NotIpAddress:\n  aws:VpcSourceIp: 10.0.0.0/16\n").replace("DenyNoVPC", "DenyOutsideCidr")
    assert statuses(tmp_path, bucket_template(statements), "S3-004")["DataBucket"] == "fail"


def test_s3_004_with_tls_deny_and_deny_no_vpc_passes(tmp_path):
    statements = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n") + deny(
        "Bool:\n  aws:SecureTransport: 'false'\n").replace("DenyNoVPC", "DenyHttp")
    assert statuses(tmp_path, bucket_template(statements), "S3-004")["DataBucket"] == "pass"


def test_s3_004_tls_version_only_is_not_a_secure_transport_deny(tmp_path):
    # the S3-004 probe is aws:SecureTransport=false; a deny on s3:TlsVersion alone does not deny it
    statements = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n") + deny(
        "NumericLessThan:\n  s3:TlsVersion: '1.2'\n").replace("DenyNoVPC", "DenyOldTls")
    assert statuses(tmp_path, bucket_template(statements), "S3-004")["DataBucket"] == "fail"


# Review finding, fixed upstream (regression test): was a bug: with two AWS::S3::BucketPolicy resources on one
#   bucket only the last in the file is evaluated; CloudFormation may apply either last (no dependency)
def test_s3_001_two_bucket_policies_reachable_insecure(tmp_path):
    # The permissive policy, listed first, can be the one left in place: an insecure state is reachable.
    text = bucket_template(deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n")).replace(
        "  DataBucketPolicy:\n", """\
  ReadAccessPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref DataBucket
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: "arn:aws:iam::444455556666:root"}, Action: "s3:GetObject", Resource: !Sub '${DataBucket.Arn}/*'}
  DataBucketPolicy:
""")
    assert statuses(tmp_path, text, "S3-001")["DataBucket"] == "fail"


def test_s3_001_if_novalue_condition_block_is_unconditional_deny(tmp_path):
    # Condition: !If [Locked, {...}, AWS::NoValue] -> when Locked is false the deny has no condition at all:
    # it still denies both outside contexts (and everyone else), so S3-001 passes in every assignment.
    head = "Parameters:\n  Lock: {Type: String, Default: 'yes'}\nConditions:\n  Locked: !Equals [!Ref Lock, 'yes']\n"
    statement = """\
- Effect: Deny
  Principal: "*"
  Action: "s3:*"
  Resource: [!GetAtt DataBucket.Arn, !Sub '${DataBucket.Arn}/*']
  Condition: !If
    - Locked
    - StringNotEquals: {aws:SourceVpce: !Ref S3Endpoint}
    - !Ref AWS::NoValue
"""
    assert s3_001(tmp_path, statement, head) == "pass"


def test_s3_001_sub_list_form_and_getatt_in_sub(tmp_path):
    statement = deny("StringNotEquals:\n  aws:SourceVpce: !Ref S3Endpoint\n", resource=(
        "Resource:\n    - !Sub ['arn:aws:s3:::${Name}', {Name: !Ref DataBucket}]\n"
        "    - !Sub '${DataBucket.Arn}/*'"))
    assert s3_001(tmp_path, statement) == "pass"


@pytest.mark.parametrize("policy_first", [False, True])
def test_s3_001_bucket_policy_in_another_template_by_import_value(tmp_path, policy_first):
    bucket = write(tmp_path, """\
Resources:
  DataBucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: ml-data}
Outputs:
  B: {Value: !Ref DataBucket, Export: {Name: ml-data-bucket}}
  BA: {Value: !GetAtt DataBucket.Arn, Export: {Name: ml-data-bucket-arn}}
""", "bucket.yaml")
    policy = write(tmp_path, "Resources:\n" + NETWORK_A.split("Resources:\n")[1].split("  DataBucket:\n")[0] + """\
  DataBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !ImportValue ml-data-bucket
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!ImportValue ml-data-bucket-arn, !Sub ['${A}/*', {A: !ImportValue ml-data-bucket-arn}]]
            Condition:
              StringNotEquals:
                aws:SourceVpce: !Ref S3Endpoint
""", "policy.yaml")
    doc = scan_files([policy, bucket] if policy_first else [bucket, policy], "S3-001")
    assert not doc.errors
    assert {(f.resource.file.rsplit("/", 1)[-1], f.resource.id): f.status.value for f in doc.findings} == {
        ("bucket.yaml", "DataBucket"): "pass"}
