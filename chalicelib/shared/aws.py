"""boto3 clients, created lazily and cached per process (Lambda reuses them across invocations),
with the timeouts and retry budget of the settings.

Endpoints come from boto3's own `AWS_ENDPOINT_URL_<SERVICE>` variables, so the same code runs
against the local emulators (DynamoDB Local, LocalStack) or AWS.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
import botocore
from botocore.config import Config

from chalicelib.shared.config import settings

# Given whole, so botocore does not assemble its own from a dozen parts on every call (a tenth of
# the API's CPU per accept, measured with py-spy); AWS reads it only for its SDK statistics.
USER_AGENT = f"turnstile boto3/{boto3.__version__} botocore/{botocore.__version__}"


@cache
def client(service: str) -> Any:
    config = settings()
    budget = Config(
        retries={"max_attempts": config.aws_max_attempts, "mode": "standard"},
        connect_timeout=config.aws_connect_timeout,
        read_timeout=config.aws_read_timeout,
        max_pool_connections=32,
        # AWS validates every request itself; botocore's own check of each parameter first costs
        # CPU on every call (about a tenth of the worker's, on its 21-item transactions)
        parameter_validation=False,
        user_agent=USER_AGENT,
    )
    return boto3.session.Session().client(service, region_name=config.region, config=budget)
