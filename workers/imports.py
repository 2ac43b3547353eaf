"""Lambda handler for the `imports` queue: run the import worker for each message.

A message names an import (`{"action": "start" | "continue", "importId": ...}`), or is S3's
notification that a presigned upload landed (`uploads/{importId}.csv|json`), which starts that
import (S3's `s3:TestEvent`, sent when notifications are set up, is ignored). One run
validates the import if that is still to do, then feeds its rows into `registrations.fifo` for
a bounded time; an unfinished import re-queues itself. A run that raises is reported in
`batchItemFailures` (Powertools' batch processing) and retried; it resumes from the checkpoint
on the import item. Deploy with batch size 1 and a timeout above TURNSTILE_IMPORT_SLICE_SECONDS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.bootstrap import services
from chalicelib.imports.service import import_id_of_upload
from chalicelib.shared import observability
from workers.context import remaining_time

logger = Logger(service="turnstile-imports-worker")
SAFETY_MARGIN_SECONDS = 10.0
# A batch whose every record failed is reported like any other, not raised.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@observability.lambda_handler(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not event.get("Records"):
        return {"batchItemFailures": []}  # Powertools refuses an empty batch as no known event
    left = remaining_time(context)

    def run(record: SQSRecord) -> None:
        try:
            messages = _messages(json.loads(record.body))
        except ValueError:
            logger.error("malformed imports message dropped", extra={"body": record.body[:500]})
            return
        for message in messages:
            try:
                services().import_processor.run(message, owner=record.message_id, budget=_budget(left))
            except Exception:
                logger.exception("import run failed; the message is retried", extra=message)
                raise

    ran = process_partial_response(event=event, record_handler=run, processor=processor, context=context)
    return dict(ran)


def _messages(body: Any) -> list[dict[str, Any]]:
    """The runs a queue message asks for: itself, or one start per uploaded object of ours."""
    if isinstance(body, dict) and isinstance(body.get("importId"), str):
        return [body]
    if isinstance(body, dict) and body.get("Event") == "s3:TestEvent":
        return []
    if isinstance(body, dict) and isinstance(body.get("Records"), list):
        keys = [unquote_plus(r.get("s3", {}).get("object", {}).get("key", "")) for r in body["Records"]]
        ids = [import_id_of_upload(key) for key in keys]
        return [{"action": "start", "importId": i} for i in ids if i]
    raise ValueError("no importId")


def _budget(left: Callable[[], float] | None) -> float | None:
    """Seconds one run may take: what the invocation has left, less a margin to checkpoint."""
    return None if left is None else max(1.0, left() - SAFETY_MARGIN_SECONDS)
