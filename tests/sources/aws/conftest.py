"""One moto world per test module, seeded once; every scan against it is read-only."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.sources.aws import aws_world as world_module

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
# MOTO_ACCOUNT_ID would pin every request to one account, assumed roles included (moto 5.2.1);
# the default account is already 123456789012.
_UNSET = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "MOTO_ACCOUNT_ID")


@pytest.fixture(scope="module")
def aws_env() -> Iterator[None]:
    """Dummy credentials, no endpoint override (mock_aws would not intercept), no user config."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _ENV.items():
            patch.setenv(name, value)
        for name in _UNSET:
            patch.delenv(name, raising=False)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        yield


@pytest.fixture(scope="module")
def world(aws_env: None) -> Iterator[world_module.World]:
    from moto import mock_aws

    with mock_aws():
        yield world_module.seed()


