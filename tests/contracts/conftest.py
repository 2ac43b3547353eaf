"""Contract suites: every port's tests run on its in-memory fake and on its real adapter
(DynamoDB Local, LocalStack), so a fake cannot drift from what it stands in for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

import pytest

from chalicelib.shared import resources
from devstack.bootstrap import create_table


@dataclass
class Real:
    """A fresh table on DynamoDB Local, and clients for the emulators."""

    dynamodb: Any
    sqs: Any
    s3: Any
    table: str


@pytest.fixture(scope="module")
def real(emulators) -> Real:
    table = f"contract-{uuid.uuid4().hex[:8]}"
    dynamodb = emulators.client("dynamodb")
    create_table(dynamodb, replace(resources.TABLE, name=table))
    return Real(dynamodb, emulators.client("sqs"), emulators.client("s3"), table)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
