"""Lambda handler for the `webhooks` queue: one delivery attempt per message.

Each message is `{"deliveryId", "attempt", "notBefore"?, "manual"?}`. The dispatcher signs and
posts, records the attempt, and schedules the next attempt as a new delayed message (see
chalicelib/webhooks/service.py for why). Only infrastructure failures (DynamoDB, SQS) are
reported in `batchItemFailures`; a receiver's failure is a recorded attempt, not an error.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.bootstrap import services
from chalicelib.shared import observability

logger = Logger(service="turnstile-webhooks-worker")
ATTEMPTED = {"delivered": True, "gone": False, "failed": False, "retrying": False}


@observability.lambda_handler(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    dispatcher = services().dispatcher
    failures = []
    for record in event.get("Records", []):
        try:
            message = json.loads(record["body"])
            if not isinstance(message, dict) or "deliveryId" not in message or "attempt" not in message:
                raise ValueError("not a delivery message")
        except ValueError:
            logger.error("malformed webhook message dropped", extra={"messageId": record.get("messageId")})
            continue
        try:
            with observability.Stopwatch() as watch:
                outcome = dispatcher.dispatch(message)
            if outcome in ATTEMPTED:  # an HTTP attempt was made (not skipped, waiting or duplicate)
                observability.record_delivery(ATTEMPTED[outcome], watch.ms)
            logger.info("dispatched", extra={**message, "outcome": outcome})
        except Exception:
            logger.exception("dispatch failed; the message is retried", extra=message)
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
