"""Secrets read at run time from AWS Secrets Manager, never from plain environment variables and
never logged: the environment holds only the secret's ARN."""

from __future__ import annotations

from typing import Any


def secret_string(client: Any, arn: str) -> str:
    """The current value of the secret `arn` (a string secret)."""
    value: str = client.get_secret_value(SecretId=arn)["SecretString"]
    return value
