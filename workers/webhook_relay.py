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
fails too does the handler report the record in `batchItemFailures` (Powertools' batch
processing), so that the stream retries from there (the mapping needs `FunctionResponseTypes:
["ReportBatchItemFailures"]`).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.bootstrap import services
from chalicelib.shared import observability
from chalicelib.shared.dynamo import from_item
from chalicelib.webhooks.domain import Subscription
from chalicelib.webhooks.notifications import from_change

logger = Logger(service="turnstile-webhook-relay")


# Batch processing by Powertools: a record that raises is reported in `batchItemFailures` (for the
# stream, Lambda retries from the lowest one reported); a batch whose every record failed is
# reported like any other, not raised.
stream_processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
parked_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@observability.lambda_handler(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    if not records:
        return {"batchItemFailures": []}
    if records[0].get("eventSource") == "aws:sqs":
        replayed = process_partial_response(
            event=event, record_handler=_replay_parked, processor=parked_processor, context=context
        )
        return dict(replayed)
    subscriptions = _Subscriptions()  # one read for the whole batch of changes
    relayed = process_partial_response(
        event=event,
        record_handler=lambda record: _relay_or_park(record, subscriptions),
        processor=stream_processor,
        context=context,
    )
    return dict(relayed)


def _relay_or_park(record: DynamoDBRecord, subscriptions: _Subscriptions) -> None:
    """Relay one change; one that fails is parked on the retries queue so the stream goes on.
    Only when parking fails too does it raise, so that the stream retries from this record."""
    change = record.raw_event.get("dynamodb", {})
    parked = {
        "old": change.get("OldImage"),
        "new": change.get("NewImage"),
        "sequenceNumber": change.get("SequenceNumber"),
    }
    try:
        _relay(parked, subscriptions)
    except Exception:
        sequence = {"sequenceNumber": parked["sequenceNumber"]}
        logger.exception("relay failed; parking the change", extra=sequence)
        try:
            services().parked_changes.park(parked)
        except Exception:
            logger.exception("parking failed; the stream retries from this record")
            raise


def _replay_parked(record: SQSRecord) -> None:
    try:
        _relay(json.loads(record.body))
    except Exception:
        logger.exception("parked change failed again", extra={"messageId": record.message_id})
        raise


class _Subscriptions:
    """The subscriptions reaching each event owner, read on the first change of a batch about
    that owner's events and kept for the rest of the batch: a batch of 100 decisions costs one
    read per owner, not 100. (One created meanwhile is seen from the next batch on, as it would
    be a moment later.)"""

    def __init__(self) -> None:
        self._read: dict[str, list[Subscription]] = {}

    def reaching(self, owner_id: str) -> list[Subscription]:
        if owner_id not in self._read:
            self._read[owner_id] = services().relay.subscriptions.reaching(owner_id)
        return self._read[owner_id]


def _relay(change: dict[str, Any], subscriptions: _Subscriptions | None = None) -> None:
    old = from_item(change["old"]) if change.get("old") else None
    new = from_item(change["new"]) if change.get("new") else None
    notification = from_change(old, new)
    if notification is None:
        return
    reaching = subscriptions.reaching(notification.event_owner) if subscriptions else None
    queued = services().relay.relay(notification, reaching)
    logger.info(
        "relayed",
        extra={"notificationId": notification.id, "type": notification.type, "deliveries": queued},
    )
