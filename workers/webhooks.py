"""Lambda handler for the `webhooks` queue: one delivery attempt per message.

Each message is `{"deliveryId", "attempt", "notBefore"?, "manual"?}`. The dispatcher signs and
posts, records the attempt, and schedules the next attempt as a new delayed message (see
chalicelib/webhooks/service.py for why). Only infrastructure failures (DynamoDB, SQS) are
reported in `batchItemFailures`; a receiver's failure (a timeout too) is a recorded attempt, not
an error. A batch's attempts run side by side, each within its own deadline, so a receiver that
hangs costs the others nothing; one that no longer fits the invocation goes back to the queue.
(Powertools' batch processing handles records one after another, so this worker reports its
failures itself.)
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.bootstrap import services
from chalicelib.shared import observability
from chalicelib.webhooks.service import Dispatcher
from workers.context import remaining_time

logger = Logger(service="turnstile-webhooks-worker")
ATTEMPTED = {"delivered": True, "gone": False, "failed": False, "retrying": False}


PARALLEL = 10  # attempts at once: one slow receiver never holds up the batch's others
SAFETY_SECONDS = 2.0  # left after an attempt's deadline, to record it


@observability.lambda_handler(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    dispatcher = services().dispatcher
    deadline = _deadline(context)
    lanes = _by_delivery(event.get("Records", []))
    with ThreadPoolExecutor(max_workers=max(1, min(PARALLEL, len(lanes)))) as pool:
        failed = pool.map(lambda lane: [_dispatch(dispatcher, r, m, deadline) for r, m in lane], lanes)
    return {"batchItemFailures": [{"itemIdentifier": m} for lane in failed for m in lane if m]}


Parsed = tuple[dict[str, Any], dict[str, Any] | None]  # a record and its message (None: malformed)


def _by_delivery(records: list[dict[str, Any]]) -> list[list[Parsed]]:
    """Records of one delivery stay in order in one lane (so a repeated message finds its attempt
    recorded and is dropped); different deliveries go side by side."""
    lanes: dict[str, list[Parsed]] = {}
    for record in records:
        message = _message(record)
        delivery = str(message["deliveryId"]) if message else str(record.get("messageId", ""))
        lanes.setdefault(delivery, []).append((record, message))
    return list(lanes.values())


def _message(record: dict[str, Any]) -> dict[str, Any] | None:
    try:
        message = json.loads(record["body"])
    except ValueError:
        return None
    if not isinstance(message, dict) or "deliveryId" not in message or "attempt" not in message:
        return None
    return message


def _dispatch(
    dispatcher: Dispatcher, record: dict[str, Any], message: dict[str, Any] | None, deadline: float | None
) -> str | None:
    """One record; returns its message id if it must be retried (an infrastructure failure)."""
    if message is None:
        logger.error("malformed webhook message dropped", extra={"messageId": record.get("messageId")})
        return None
    try:
        if deadline is not None and deadline - time.monotonic() < dispatcher.sender.timeout + SAFETY_SECONDS:
            outcome = dispatcher.defer(message)  # no time left for a whole attempt: back to the queue
        else:
            with observability.Stopwatch() as watch:
                outcome = dispatcher.dispatch(message)
            if outcome in ATTEMPTED:  # an HTTP attempt was made (not skipped, waiting or duplicate)
                observability.record_delivery(ATTEMPTED[outcome], watch.ms)
        logger.info("dispatched", extra={**message, "outcome": outcome})
    except Exception:
        logger.exception("dispatch failed; the message is retried", extra=message)
        return str(record["messageId"])
    return None


def _deadline(context: Any) -> float | None:
    """When this invocation ends (time.monotonic()), if the context says."""
    left = remaining_time(context)
    return None if left is None else time.monotonic() + left()
