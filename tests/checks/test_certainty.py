"""Certain beats unknown (rules.md v2 §1) on live-shaped inputs and in the shared readers: a field the API
did not return is unknown only when the outcome depends on it; a failed read is an error."""

from __future__ import annotations

from typing import Any

import pytest

from sagefence.checks.common import could_be, could_end_with, could_serve, present
from sagefence.checks.s3 import kms_default_encryption, public_access_block
from sagefence.checks.sagemaker import notebook_kms, notebook_network, workload_vpc_config
from sagefence.config import Config
from sagefence.inventory.index import Inventory
from sagefence.inventory.raw import RawResource
from sagefence.status import SourceKind, Status
from sagefence.values import InputError, Missing, Opaque, ReadError

ACCOUNT, REGION = "111111111111", "eu-west-1"
DENIED = ReadError("s3.GetBucketEncryption", "AccessDenied")


def status(check: Any, rtype: str, props: dict[str, Any]) -> Status:
    raw = RawResource(rtype, "arn:aws:x:::r", props, SourceKind.ACCOUNT, account=ACCOUNT, region=REGION)
    inv = Inventory([raw], config=Config(), source=SourceKind.ACCOUNT)
    (resource,) = inv.all()
    (result,) = check(resource, inv, {})
    return result.status


def test_present_counts_opaque_values_and_refuses_failed_reads() -> None:
    assert present(Opaque.token("Ref", "SubnetId"), "SubnetId") is True
    assert present("subnet-1", "SubnetId") is True
    assert present(None, "SubnetId") is False and present("", "SubnetId") is False and present([], "x") is False
    assert present(Missing("SubnetId"), "SubnetId") is None
    with pytest.raises(InputError):
        present(DENIED, "SubnetId")


def test_partly_opaque_strings_are_matched_part_by_part() -> None:
    assert could_be(Opaque("notebook-al\u27e8Ref:V\u27e9-v1"), "notebook-al1-v1")
    assert not could_be(Opaque("notebook-al2-\u27e8Ref:V\u27e9"), "notebook-al1-v1")
    assert not could_be("\u27e8a\u27e911\u27e8b\u27e9", "a1")
    assert could_end_with("arn:aws:kms:\u27e8Ref:R\u27e9:1:\u27e8Ref:K\u27e9", "alias/aws/s3")
    assert not could_end_with("\u27e8Ref:K\u27e9/key", "alias/aws/s3")
    assert could_serve("com.amazonaws.\u27e8Ref:Region\u27e9.sts", "sts")
    assert not could_serve("com.amazonaws.\u27e8Ref:Region\u27e9.sts", "s3")
    assert could_serve("com.amazonaws.us-east-1.\u27e8Ref:Svc\u27e9", "ecr.dkr")
    assert could_serve(Missing("ServiceName"), "s3")


def test_internet_access_fails_whatever_an_unreported_subnet_is() -> None:
    nb = "AWS::SageMaker::NotebookInstance"
    assert status(notebook_network, nb, {"DirectInternetAccess": "Enabled", "SubnetId": Missing("SubnetId")}) \
        is Status.FAIL
    assert status(notebook_network, nb, {"DirectInternetAccess": "Disabled", "SubnetId": Missing("SubnetId")}) \
        is Status.UNKNOWN


def test_unreported_notebook_key_is_unknown_not_pass() -> None:
    assert status(notebook_kms, "AWS::SageMaker::NotebookInstance", {"KmsKeyId": Missing("KmsKeyId")}) \
        is Status.UNKNOWN


def test_unreported_vpc_config_is_unknown() -> None:
    assert status(workload_vpc_config, "AWS::SageMaker::Model", {"VpcConfig": Missing("VpcConfig")}) \
        is Status.UNKNOWN


def test_encryption_that_could_not_be_read_is_an_error_not_a_fail() -> None:
    with pytest.raises(InputError, match="s3.GetBucketEncryption"):
        status(kms_default_encryption, "AWS::S3::Bucket", {"BucketEncryption": DENIED})


def test_unreported_key_with_aes256_fails_and_with_kms_is_unknown() -> None:
    def rule(algorithm: str) -> dict[str, Any]:
        by_default = {"SSEAlgorithm": algorithm, "KMSMasterKeyID": Missing("KMSMasterKeyID")}
        return {"BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": by_default}]}}

    assert status(kms_default_encryption, "AWS::S3::Bucket", rule("AES256")) is Status.FAIL
    assert status(kms_default_encryption, "AWS::S3::Bucket", rule("aws:kms")) is Status.UNKNOWN


def test_public_access_block_one_flag_off_fails_beside_an_unreported_one() -> None:
    block = {"BlockPublicAcls": Missing("BlockPublicAcls"), "BlockPublicPolicy": False, "IgnorePublicAcls": True,
             "RestrictPublicBuckets": True}
    assert status(public_access_block, "AWS::S3::Bucket", {"PublicAccessBlockConfiguration": block}) is Status.FAIL
    block["BlockPublicPolicy"] = True
    assert status(public_access_block, "AWS::S3::Bucket", {"PublicAccessBlockConfiguration": block}) is Status.UNKNOWN
