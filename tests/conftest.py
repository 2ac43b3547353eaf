"""Shared fixtures: in-memory containers for fast tests, real emulators for the rest."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.emulators import Emulators, free_port

# Tokens: one throwaway key pair for the whole run (tests, their emulators and any stack they start).
os.environ.setdefault("TURNSTILE_AUTH_DIR", tempfile.mkdtemp(prefix="turnstile-test-keys-"))

# Never let a test reach real AWS: credentials and region are the emulators' dummies.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


class RunningEmulators:
    """DynamoDB Local and LocalStack (SQS, S3) for this test session, with the resources created."""

    def __init__(self, emulators: Emulators) -> None:
        self.emulators = emulators
        from devstack.stack import configure_environment

        self.environment = configure_environment(emulators)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name="us-east-1")


@pytest.fixture(scope="session")
def emulators() -> Iterator[RunningEmulators]:
    logs = Path(tempfile.mkdtemp(prefix="turnstile-test-logs-"))
    stack = Emulators.on_ports(free_port(), free_port(), logs / "localstack")
    stack.start(logs)
    try:
        yield RunningEmulators(stack)
    finally:
        stack.stop()
        shutil.rmtree(logs, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _throwaway_keys() -> Iterator[None]:
    """The run's token keys (TURNSTILE_AUTH_DIR above) go when the run ends."""
    yield
    if Path(os.environ["TURNSTILE_AUTH_DIR"]).name.startswith("turnstile-test-keys-"):
        shutil.rmtree(os.environ["TURNSTILE_AUTH_DIR"], ignore_errors=True)
