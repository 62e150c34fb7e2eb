"""Review probes for template resolution: conditions, Fn::If, security groups.

rules.md "Where findings sit": "Conditions: each named condition of a template is a boolean that
holds the same value everywhere in that template; parameter defaults do not fix it. An insecure
state is reachable when some assignment of the conditions produces it ... When more than 12
conditions bear on one evaluation, branches are taken independently and the finding says so."
"""

from __future__ import annotations

from tests.review._util import NETWORK, findings, scan_files, statuses, write

DENY = """\
              Effect: Deny
              Principal: "*"
              Action: "s3:*"
              Resource: [!GetAtt DataBucket.Arn, !Sub '${DataBucket.Arn}/*']
              Condition:
                StringNotEquals:
                  aws:SourceVpce: !Ref S3Endpoint
"""


def four_condition_template(unrelated: int) -> str:
    """Bucket and policy exist under CD = C and D; two redundant DenyNoVPC statements under A and B.
    Insecure exactly when A=false, B=false, C=true, D=true. `unrelated` more conditions gate SNS topics."""
    n = 4 + unrelated
    params = "Parameters:\n" + "".join(f"  P{i}: {{Type: String, Default: 'yes'}}\n" for i in range(n))
    conds = ("Conditions:\n  A: !Equals [!Ref P0, 'yes']\n  B: !Equals [!Ref P1, 'yes']\n"
             "  C: !Equals [!Ref P2, 'yes']\n  D: !Equals [!Ref P3, 'yes']\n  CD: !And [!Condition C, !Condition D]\n")
    conds += "".join(f"  X{i}: !Equals [!Ref P{4 + i}, 'yes']\n" for i in range(unrelated))
    topics = "".join(f"  Topic{i}:\n    Type: AWS::SNS::Topic\n    Condition: X{i}\n" for i in range(unrelated))
    return params + conds + "Resources:\n" + NETWORK + """\
  DataBucket:
    Type: AWS::S3::Bucket
    Condition: CD
    Properties: {BucketName: ml-data}
  DataBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Condition: CD
    Properties:
      Bucket: !Ref DataBucket
      PolicyDocument:
        Statement:
          - !If
            - A
            - """ + DENY.lstrip() + """\
            - !Ref AWS::NoValue
          - !If
            - B
            - """ + DENY.lstrip() + """\
            - !Ref AWS::NoValue
""" + topics


def test_conditions_exact_when_few(tmp_path):
    [finding] = findings(tmp_path, four_condition_template(0), "S3-001")
    assert finding.status.value == "fail"
    assert finding.evidence["conditions"] == "A=false, B=false, C=true, D=true"


# Review finding, fixed upstream (regression test): was a bug: conditions are counted per template (not per
#   evaluation): 10 unrelated conditions switch to 'independent branches', which miss A=F,B=F,C=T,D=T -> false
#   pass
def test_unrelated_conditions_do_not_hide_reachable_insecure_state(tmp_path):
    # Only A, B, C, D bear on the bucket's evaluation (4 <= 12): the assignment search must stay exact.
    assert statuses(tmp_path, four_condition_template(10), "S3-001") == {"DataBucket": "fail"}


MIXED_DERIVED = """\
Parameters:
  UseVpcP: {Type: String, Default: 'yes'}
  CreateP: {Type: String, Default: 'yes'}
Conditions:
  UseVpc: !Equals [!Ref UseVpcP, 'yes']
  CreateBucket: !And [!Condition UseVpc, !Equals [!Ref CreateP, 'yes']]
Resources:
""" + NETWORK + """\
  DataBucket:
    Type: AWS::S3::Bucket
    Condition: CreateBucket
    Properties: {BucketName: ml-data}
  DataBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Condition: CreateBucket
    Properties:
      Bucket: !Ref DataBucket
      PolicyDocument:
        Statement:
          - !If
            - UseVpc
            - """ + DENY.lstrip() + """\
            - !Ref AWS::NoValue
"""


# Review finding, fixed upstream (regression test): was a bug: a condition built from !Condition AND a parameter
#   test is treated as a free boolean, so the impossible CreateBucket=true, UseVpc=false is reported
def test_mixed_derived_condition_keeps_its_implication(tmp_path):
    # CreateBucket = UseVpc AND <param test>: whenever the bucket exists, UseVpc is true and the deny is there.
    assert statuses(tmp_path, MIXED_DERIVED, "S3-001") == {"DataBucket": "pass"}


def test_vpc_under_condition_keeps_its_endpoints(tmp_path):
    # the rules.md example: VpcId: !If [CreateVpc, !Ref Vpc, !Ref ExistingVpcId]
    text = """\
Parameters:
  CreateVpcP: {Type: String, Default: 'true'}
  ExistingVpcId: {Type: String}
Conditions:
  CreateVpc: !Equals [!Ref CreateVpcP, 'true']
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Condition: CreateVpc
    Properties: {CidrBlock: 10.0.0.0/16}
  S3Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !If [CreateVpc, !Ref Vpc, !Ref ExistingVpcId]
      ServiceName: !Sub 'com.amazonaws.${AWS::Region}.s3'
"""
    assert statuses(tmp_path, text, "VPCE-001") == {"Vpc": "pass"}


def test_if_in_service_name_reaches_the_insecure_branch(tmp_path):
    text = """\
Parameters:
  UseGw: {Type: String, Default: 'true'}
Conditions:
  Gw: !Equals [!Ref UseGw, 'true']
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  S3Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !Ref Vpc
      ServiceName: !If [Gw, !Sub 'com.amazonaws.${AWS::Region}.s3', !Sub 'com.amazonaws.${AWS::Region}.sts']
"""
    [finding] = findings(tmp_path, text, "VPCE-001")
    assert finding.status.value == "fail" and "Gw=false" in finding.message


def _endpoint_with_ingress(ingress: str) -> str:
    return """\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: endpoints
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - """ + ingress + """
  Ep:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !Ref Vpc
      VpcEndpointType: Interface
      PrivateDnsEnabled: true
      ServiceName: !Sub 'com.amazonaws.${AWS::Region}.sts'
      SecurityGroupIds: [!GetAtt Sg.GroupId]
"""


def test_vpce_005_open_ipv4_fails(tmp_path):
    assert statuses(tmp_path, _endpoint_with_ingress("{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}"),
                    "VPCE-005") == {"Ep": "fail"}


# Review finding, fixed upstream (regression test): was a bug: '::0/0' (the same network as ::/0) is compared as
#   text and passes
def test_vpce_005_open_ipv6_other_spelling_fails(tmp_path):
    assert statuses(tmp_path, _endpoint_with_ingress("{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIpv6: '::0/0'}"),
                    "VPCE-005") == {"Ep": "fail"}


# --- second round (after 56a44f1: per-component enumeration above 12 conditions) --------------

def _many_conditions(n: int = 13) -> tuple[str, str, str]:
    params = "Parameters:\n" + "".join(f"  P{i}: {{Type: String, Default: 'yes'}}\n" for i in range(n))
    conds = "Conditions:\n" + "".join(f"  X{i}: !Equals [!Ref P{i}, 'yes']\n" for i in range(n))
    topics = "".join(f"  Topic{i}:\n    Type: AWS::SNS::Topic\n    Condition: X{i}\n" for i in range(n))
    return params, conds, topics


LITERAL_ROLE_POLICY = """\
Resources:
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: ml-exec
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: sagemaker.amazonaws.com}, Action: sts:AssumeRole}
  Extra:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [ml-exec]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Action: "sagemaker:*", Resource: "*"}
"""


def test_sm_001_policy_attached_by_literal_role_name(tmp_path):
    # rules.md: AWS::IAM::Policy attaches "through ... Roles references"; a literal RoleName is such a reference
    assert statuses(tmp_path, LITERAL_ROLE_POLICY, "SM-001") == {"ExecutionRole": "fail"}


# Was a bug (regression in 56a44f1): with >12 conditions the template is split into components linked only by
# Ref/GetAtt/Sub; a policy attached by literal role name lands in another component and SM-001 passes (fixed; kept as a regression test)
def test_sm_001_policy_attached_by_literal_role_name_many_conditions(tmp_path):
    params, conds, topics = _many_conditions()
    assert statuses(tmp_path, params + conds + LITERAL_ROLE_POLICY + topics, "SM-001") == {"ExecutionRole": "fail"}


# Was a bug (regression in 56a44f1): with >12 conditions a BucketPolicy naming its bucket literally is in
# another component: 'no bucket policy' false fail (fixed; kept as a regression test)
def test_s3_001_literal_bucket_policy_many_conditions(tmp_path):
    params, conds, topics = _many_conditions()
    text = params + conds + "Resources:\n" + NETWORK + """\
  DataBucket:
    Type: AWS::S3::Bucket
    Properties: {BucketName: ml-data}
  DataBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: ml-data
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: ["arn:aws:s3:::ml-data", "arn:aws:s3:::ml-data/*"]
            Condition:
              StringNotEquals:
                aws:SourceVpce: !Ref S3Endpoint
""" + topics
    assert statuses(tmp_path, text, "S3-001") == {"DataBucket": "pass"}


CHAIN = """\
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
              - {Effect: Allow, Action: sts:AssumeRole, Resource: !Sub "arn:aws:iam::${AWS::AccountId}:role/deploy-target"}
  Target:
    Type: AWS::IAM::Role
    Properties:
      RoleName: deploy-target
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: cloudformation.amazonaws.com}, Action: sts:AssumeRole}
"""


def test_iam_003_broken_chain_by_role_name(tmp_path):
    assert statuses(tmp_path, CHAIN, "IAM-003") == {"Pipeline": "fail"}


# Was a bug (regression in 56a44f1): with >12 conditions the caller and the target role (linked by name, not
# Ref) are in different components: IAM-003 reports nothing (fixed; kept as a regression test)
def test_iam_003_broken_chain_by_role_name_many_conditions(tmp_path):
    params, conds, topics = _many_conditions()
    assert statuses(tmp_path, params + conds + CHAIN + topics, "IAM-003") == {"Pipeline": "fail"}


# Was a bug: per-component exact enumeration applies to single templates only; in a linked group >12
# conditions still fall back to sampling and miss A=F,B=F,C=T,D=T (fixed; kept as a regression test)
def test_unrelated_conditions_in_linked_group_do_not_hide_insecure_state(tmp_path):
    a = four_condition_template(10) + "Outputs:\n  E: {Value: !Ref S3Endpoint, Export: {Name: shared-ep}}\n"
    b = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: !ImportValue shared-ep}\n"
    doc = scan_files([write(tmp_path, a, "a.yaml"), write(tmp_path, b, "b.yaml")], "S3-001")
    assert {f.resource.id: f.status.value for f in doc.findings} == {"DataBucket": "fail"}
