"""Review probes for template resolution: conditions, Fn::If, security groups.

rules.md "Where findings sit": "Conditions: each named condition of a template is a boolean that
holds the same value everywhere in that template; parameter defaults do not fix it. An insecure
state is reachable when some assignment of the conditions produces it ... When more than 12
conditions bear on one evaluation, branches are taken independently and the finding says so."
"""

from __future__ import annotations

from tests.review._util import findings, statuses

DENY = """\
              Effect: Deny
              Principal: "*"
              Action: "s3:*"
              Resource: [!GetAtt DataBucket.Arn, !Sub '${DataBucket.Arn}/*']
              Condition:
                StringNotEquals:
                  aws:SourceVpce: !Ref S3Endpoint
"""
NETWORK = """\
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  S3Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !Ref Vpc
      ServiceName: !Sub 'com.amazonaws.${AWS::Region}.s3'
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
