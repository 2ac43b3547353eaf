"""boto3 clients, created lazily and cached per process (Lambda reuses them across invocations).

Endpoints come from boto3's own `AWS_ENDPOINT_URL_<SERVICE>` variables, so the same code runs
against DynamoDB Local and moto server, LocalStack or AWS.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.shared.config import settings

_CONFIG = Config(
    retries={"max_attempts": 4, "mode": "standard"},
    connect_timeout=3,
    read_timeout=10,
    max_pool_connections=32,
)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, region_name=settings().region, config=_CONFIG)
