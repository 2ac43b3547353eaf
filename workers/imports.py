"""Lambda handler for the `imports` queue: run the import worker for each message.

A message names an import (`{"action": "start" | "continue", "importId": ...}`). One run
validates the import if that is still to do, then feeds its rows into `registrations.fifo` for
a bounded time; an unfinished import re-queues itself. A run that raises is reported in
`batchItemFailures` and retried; it resumes from the checkpoint on the import item.
Deploy with batch size 1 and a timeout above TURNSTILE_IMPORT_SLICE_SECONDS.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.bootstrap import services
from chalicelib.shared import observability

logger = Logger(service="turnstile-imports-worker")
SAFETY_MARGIN_SECONDS = 10.0


@observability.lambda_handler(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures: list[str] = []
    for record in event.get("Records", []):
        try:
            message = json.loads(record["body"])
            if not isinstance(message, dict) or not isinstance(message.get("importId"), str):
                raise ValueError("no importId")
        except ValueError:
            logger.error("malformed imports message dropped", extra={"body": record.get("body", "")[:500]})
            continue
        try:
            services().import_processor.run(message, owner=record["messageId"], budget=_budget(context))
        except Exception:
            logger.exception("import run failed; the message is retried", extra=message)
            failures.append(record["messageId"])
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}


def _budget(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return max(1.0, remaining() / 1000 - SAFETY_MARGIN_SECONDS)
