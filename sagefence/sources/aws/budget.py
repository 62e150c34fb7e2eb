"""The API call budget of a live scan, written down as data and checked by the tests.

A scan makes at most:

- once: ``sts.GetCallerIdentity``; with ``--organization`` also ``organizations.ListAccounts``
  and ``organizations.ListPolicies`` (one call per page each);
- per account: ``ACCOUNT_CALLS`` (``sts.AssumeRole`` for members only, plus one each time
  their credentials near expiry, i.e. about hourly; ``ec2.DescribeRegions`` only when all
  regions or an opt-in region are asked for, and then for a member only when some region is
  opt-in; the IAM listing one call per page);
- per account and region: ``REGION_CALLS``, each one call per page of results;
- per resource: ``PER_RESOURCE[type]`` calls, whether or not the resource is then emitted
  (a listed AWS managed KMS key costs one DescribeKey unless an ``alias/aws/*`` alias
  already identified it; a key pending deletion costs one DescribeKey);
- per organizational unit between an account and the root: one ``organizations.ListParents``.

Listings ask for the largest page each API allows (IAM and KMS keys 1,000, KMS aliases and
SageMaker 100, Organizations 20; EC2, S3 and CloudFormation answer everything or their
maximum by default), so "per page" is one call in all but very large accounts.

Retries are counted apart (``api_calls["retries"]``), at most 7 per call (8 attempts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sagefence.inventory.raw import RawResource

ONCE = ("sts.GetCallerIdentity",)
ORGANIZATION_CALLS = ("organizations.ListAccounts", "organizations.ListPolicies")
ACCOUNT_CALLS = ("sts.AssumeRole", "ec2.DescribeRegions", "iam.GetAccountAuthorizationDetails")
REGION_CALLS = (
    "ec2.DescribeVpcs",
    "ec2.DescribeSubnets",
    "ec2.DescribeSecurityGroups",
    "ec2.DescribeVpcEndpoints",
    "s3.ListBuckets",
    "kms.ListKeys",
    "kms.ListAliases",
    "sagemaker.ListNotebookInstances",
    "sagemaker.ListDomains",
    "sagemaker.ListModels",
    "sagemaker.ListTrainingJobs",
    "sagemaker.ListProcessingJobs",
    "cloudformation.DescribeStacks",
)
PER_RESOURCE = {
    "AWS::S3::Bucket": ("s3.GetBucketPolicy", "s3.GetBucketEncryption", "s3.GetPublicAccessBlock", "s3.GetBucketTagging"),
    "AWS::KMS::Key": ("kms.DescribeKey", "kms.GetKeyPolicy", "kms.GetKeyRotationStatus"),
    "AWS::SageMaker::NotebookInstance": (
        "sagemaker.DescribeNotebookInstance",
        "sagemaker.ListTags",
        "sagemaker.DescribeNotebookInstanceLifecycleConfig",  # one per distinct configuration named
    ),
    "AWS::SageMaker::Domain": ("sagemaker.DescribeDomain",),
    "AWS::SageMaker::Model": ("sagemaker.DescribeModel",),
    "AWS::SageMaker::TrainingJob": ("sagemaker.DescribeTrainingJob",),
    "AWS::SageMaker::ProcessingJob": ("sagemaker.DescribeProcessingJob",),
    "AWS::CloudFormation::Stack": ("cloudformation.ListStackResources",),  # stacks with a RoleARN only
    "AWS::Organizations::Policy": ("organizations.DescribePolicy", "organizations.ListTargetsForPolicy"),
    "AWS::Organizations::Account": ("organizations.ListParents",),
}


def bound(
    resources: Iterable[RawResource],
    accounts: int,
    region_scopes: int,
    *,
    organization: bool = False,
    unlisted_keys: int = 0,
    pages: int = 1,
) -> int:
    """The most calls a scan of that many accounts and (account, region) scopes may make
    for these resources, when no listing needs more than ``pages`` pages.

    ``unlisted_keys`` counts KMS keys listed but not emitted (AWS managed without an
    ``alias/aws/*`` alias, or pending deletion): one DescribeKey each.
    """
    counts = Counter(r.type for r in resources)
    total = len(ONCE)
    total += pages * len(ORGANIZATION_CALLS) if organization else 0
    total += accounts * (1 + 1 + pages)
    total += region_scopes * pages * len(REGION_CALLS)
    total += sum(len(PER_RESOURCE.get(type_, ())) * n for type_, n in counts.items())
    total += unlisted_keys
    if organization:
        total += len(
            {
                parent
                for r in resources
                if r.type == "AWS::Organizations::Account" and isinstance(r.properties.get("ParentIds"), list)
                for parent in r.properties["ParentIds"][:-1]
            }
        )
    return total
