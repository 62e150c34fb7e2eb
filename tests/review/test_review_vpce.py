"""Review probes for VPCE-004 (simulated): "an s3:PutObject to arn:aws:s3:::some-unrelated-bucket/x
through the endpoint must not be allowed" -- the rule fails when the endpoint policy "allows any
principal any S3 action on any bucket (data can leave to any bucket)"."""

from __future__ import annotations

from tests.review._util import NETWORK, indent, statuses


def endpoint(policy: str, extra_props: str = "") -> str:
    return "Resources:\n" + NETWORK + (indent(extra_props, 6) + "\n" if extra_props else "") + """\
      PolicyDocument:
        Statement:
""" + indent(policy, 10) + "\n"


def vpce_004(tmp_path, policy: str, extra_props: str = "") -> str:
    return statuses(tmp_path, endpoint(policy, extra_props), "VPCE-004")["S3Endpoint"]


def test_vpce_004_statement_without_principal_is_everyone(tmp_path):
    assert vpce_004(tmp_path, '- {Effect: Allow, Action: "s3:*", Resource: "*"}') == "fail"


def test_vpce_004_own_account_principal_condition_still_fails(tmp_path):
    # restricting principals to the own account does not restrict the destination bucket
    policy = '- {Effect: Allow, Principal: "*", Action: "s3:*", Resource: "*", Condition: {StringEquals: {aws:PrincipalAccount: !Ref "AWS::AccountId"}}}'
    assert vpce_004(tmp_path, policy) == "fail"


def test_vpce_004_interface_endpoint_json_string_policy(tmp_path):
    text = endpoint("- {}", "VpcEndpointType: Interface").split("      PolicyDocument:")[0] + (
        "      PolicyDocument: '{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}'\n")
    assert statuses(tmp_path, text, "VPCE-004") == {"S3Endpoint": "fail"}


def test_vpce_004_bucket_scoped_passes(tmp_path):
    policy = '- {Effect: Allow, Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::ml-*", "arn:aws:s3:::ml-*/*"]}'
    assert vpce_004(tmp_path, policy) == "pass"


# Was a bug (spec gap): aws:PrincipalOrgID on an allow-all endpoint policy restricts who, not where: any org
# principal can still write to any bucket, but the probe carries no aws:PrincipalOrgID so VPCE-004 passes (fixed; kept as a regression test)
def test_vpce_004_org_principal_condition_still_lets_data_leave(tmp_path):
    policy = '- {Effect: Allow, Principal: "*", Action: "s3:*", Resource: "*", Condition: {StringEquals: {aws:PrincipalOrgID: o-abc123}}}'
    assert vpce_004(tmp_path, policy) == "fail"


# Was a bug (spec gap): 'StringLike aws:ResourceAccount *' matches every real S3 request, but the probe
# carries no aws:ResourceAccount so VPCE-004 passes (fixed; kept as a regression test)
def test_vpce_004_resource_account_wildcard_is_no_restriction(tmp_path):
    policy = '- {Effect: Allow, Principal: "*", Action: "s3:*", Resource: "*", Condition: {StringLike: {aws:ResourceAccount: "*"}}}'
    assert vpce_004(tmp_path, policy) == "fail"
