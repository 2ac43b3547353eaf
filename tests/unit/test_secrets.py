"""The cursor-signing key comes from Secrets Manager (moto's, in process) when its ARN is set, and
is never shown in the settings' repr (logs print settings)."""

from __future__ import annotations

from dataclasses import replace

import boto3
from moto import mock_aws

from chalicelib import bootstrap
from tests.fakes import TEST_SETTINGS


@mock_aws
def test_build_reads_the_cursor_key_from_secrets_manager():
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name="cursor", SecretString="from-secrets-manager")["ARN"]
    config = replace(TEST_SETTINGS, cursor_secret="", cursor_secret_arn=arn)
    services = bootstrap.build(config, lambda name: boto3.client(name, region_name="us-east-1"))
    assert services.settings.cursor_secret == "from-secrets-manager"
    assert "from-secrets-manager" not in repr(services.settings)


def test_without_an_arn_the_configured_key_is_used_and_not_shown():
    assert TEST_SETTINGS.cursor_secret and TEST_SETTINGS.cursor_secret not in repr(TEST_SETTINGS)
