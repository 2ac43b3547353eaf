"""`make backfill-marks`: give every stored registration its person's mark for the event.

A person's list of events (`GET /users/{id}/registrations`, `/waitlists`) is their marks
(`USER#{userId}` / `REG#{eventId}`); registrations stored before that were listed by an index
of the registration items, which is no longer read. Run this once against a stage deployed
before, right after deploying: it scans the table and makes a bare mark for each registration
that has none (one that holds a pending request is left as it is). Safe to run again.

Talks to whatever `AWS_ENDPOINT_URL_DYNAMODB` points at (unset: the `make dev` stack's DynamoDB
Local on 127.0.0.1:$DYNAMODB_PORT, 8001 unless set) and the table `TURNSTILE_TABLE` (default
`turnstile`). For a deployed stage set both (the endpoint
`https://dynamodb.<region>.amazonaws.com`), and the stage's region and credentials as boto3
reads them.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import boto3

from chalicelib.registrations.dynamodb import backfill_marks


def dynamodb_client() -> Any:
    if "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ:  # the `make dev` stack, which takes any keys
        port = os.environ.get("DYNAMODB_PORT", "8001")
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://127.0.0.1:{port}"
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    return boto3.client("dynamodb", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def main(client: Any | None = None, table_name: str | None = None) -> int:
    table_name = table_name or os.environ.get("TURNSTILE_TABLE", "turnstile")
    seen = 0
    for seen in backfill_marks(client or dynamodb_client(), table_name):
        print(f"\rregistrations given their marks: {seen:,}", end="", file=sys.stderr, flush=True)
    print(f"\rregistrations given their marks: {seen:,}, done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
