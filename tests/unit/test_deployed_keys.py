"""On AWS a function without its keys refuses to start, instead of falling back to the local
stack's public cursor key or to storing webhook secrets unsealed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib import bootstrap
from chalicelib.shared.config import Misconfigured, on_aws, require_deployed_keys
from tests.fakes import TEST_SETTINGS

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CURSOR_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor"


@pytest.mark.parametrize("key", ["", "local:" + "A" * 43])
def test_a_deployed_function_needs_a_kms_key_for_webhook_secrets(monkeypatch, key):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "turnstile-registration-worker")
    config = replace(TEST_SETTINGS, webhook_secrets_key=key)
    assert on_aws()
    with pytest.raises(Misconfigured, match="TURNSTILE_WEBHOOK_SECRETS_KEY"):
        bootstrap.build(config, clients=lambda service: pytest.fail(f"no {service} client before the check"))


def test_the_deployed_api_needs_the_cursor_secret_and_workers_do_not():
    config = replace(TEST_SETTINGS, webhook_secrets_key=KMS_KEY, cursor_secret_arn="")
    require_deployed_keys(config, serves_api=False)
    with pytest.raises(Misconfigured, match="TURNSTILE_CURSOR_SECRET_ARN"):
        require_deployed_keys(config, serves_api=True)
    require_deployed_keys(replace(config, cursor_secret_arn=CURSOR_ARN), serves_api=True)


def test_off_aws_the_local_stack_may_run_without_a_kms_key(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert not on_aws()
    assert bootstrap.build(replace(TEST_SETTINGS, webhook_secrets_key=""), clients=lambda _: object())
