"""Lambda handler for the table's DynamoDB stream: changes -> webhook deliveries on the queue.

This is the outbox relay. The registration worker's transaction writes the decision (a request's
outcome, a promotion, an import's completion); the stream hands each committed change here, at
least once and in order per item. A notification's id is derived from the change, and the
delivery records are created with conditional puts, so a redelivered batch (a relay that crashed
before or after queueing) produces the same deliveries and the same `webhook-id`, never fewer.

A change the relay fails on does not hold up the stream: it is parked whole (old and new image)
on the `webhook-relay-retries` queue, which this same function consumes (SQS records), and what still
fails after the queue's retries ends in `webhook-relay-dlq`, from where `make dlq ARGS="redrive
--queue webhook-relay-dlq"` replays it. (The stream's own failure destination would keep only
pointers into the stream, and the stream forgets its records after 24 hours.) Only when parking
fails too does the handler report the record in `batchItemFailures`, so that the stream retries
from there (the mapping needs `FunctionResponseTypes: ["ReportBatchItemFailures"]`).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.bootstrap import services
from chalicelib.shared import observability
from chalicelib.shared.dynamo import from_item
from chalicelib.webhooks.domain import Subscription
from chalicelib.webhooks.notifications import from_change

logger = Logger(service="turnstile-webhook-relay")


@observability.lambda_handler(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    if records and records[0].get("eventSource") == "aws:sqs":
        return _replay_parked(records)
    return _relay_stream(records)


def _relay_stream(records: list[dict[str, Any]]) -> dict[str, Any]:
    subscriptions = _Subscriptions()  # one read for the whole batch of changes
    for record in records:
        change = record.get("dynamodb", {})
        parked = {
            "old": change.get("OldImage"),
            "new": change.get("NewImage"),
            "sequenceNumber": change.get("SequenceNumber"),
        }
        try:
            _relay(parked, subscriptions)
        except Exception:
            logger.exception(
                "relay failed; parking the change", extra={"sequenceNumber": parked["sequenceNumber"]}
            )
            try:
                services().parked_changes.park(parked)
            except Exception:
                logger.exception("parking failed; the stream retries from this record")
                return {"batchItemFailures": [{"itemIdentifier": change.get("SequenceNumber", "")}]}
    return {"batchItemFailures": []}


def _replay_parked(records: list[dict[str, Any]]) -> dict[str, Any]:
    failures = []
    for record in records:
        try:
            _relay(json.loads(record["body"]))
        except Exception:
            logger.exception("parked change failed again", extra={"messageId": record.get("messageId")})
            failures.append({"itemIdentifier": record.get("messageId", "")})
    return {"batchItemFailures": failures}


class _Subscriptions:
    """Every subscription, read on the first change of a batch that notifies anything and kept
    for the rest of the batch: a batch of 100 decisions costs one read of the subscriptions, not
    100. (One created meanwhile is seen from the next batch on, as it would be a moment later.)"""

    def __init__(self) -> None:
        self._read: list[Subscription] | None = None

    def __call__(self) -> list[Subscription]:
        if self._read is None:
            self._read = services().relay.subscriptions.all()
        return self._read


def _relay(change: dict[str, Any], subscriptions: _Subscriptions | None = None) -> None:
    old = from_item(change["old"]) if change.get("old") else None
    new = from_item(change["new"]) if change.get("new") else None
    notification = from_change(old, new)
    if notification is None:
        return
    queued = services().relay.relay(notification, subscriptions() if subscriptions else None)
    logger.info(
        "relayed",
        extra={"notificationId": notification.id, "type": notification.type, "deliveries": queued},
    )
