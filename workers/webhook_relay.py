"""Lambda handler for the table's DynamoDB stream: changes -> webhook deliveries on the queue.

This is the outbox relay. The registration worker's transaction writes the decision (a request's
outcome, a promotion, an import's completion); the stream hands each committed change here, at
least once and in order per item. A notification's id is derived from the change, and the
delivery records are created with conditional puts, so a redelivered batch (a relay that crashed
before or after queueing) produces the same deliveries and the same `webhook-id`, never fewer.

Partial batch response: on a failure the handler reports the failed record's SequenceNumber in
`batchItemFailures`; Lambda retries the batch from there (the event source mapping needs
`FunctionResponseTypes: ["ReportBatchItemFailures"]`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from chalicelib.bootstrap import services
from chalicelib.shared import observability
from chalicelib.shared.dynamo import from_item
from chalicelib.webhooks.notifications import from_change

logger = Logger(service="turnstile-webhook-relay")


@observability.lambda_handler(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    relay = services().relay
    for record in event.get("Records", []):
        change = record.get("dynamodb", {})
        try:
            old = from_item(change["OldImage"]) if "OldImage" in change else None
            new = from_item(change["NewImage"]) if "NewImage" in change else None
            notification = from_change(old, new)
            if notification is None:
                continue
            queued = relay.relay(notification)
            logger.info(
                "relayed",
                extra={"notificationId": notification.id, "type": notification.type, "deliveries": queued},
            )
        except Exception:
            logger.exception("relay failed; the stream retries from this record")
            return {"batchItemFailures": [{"itemIdentifier": change.get("SequenceNumber", "")}]}
    return {"batchItemFailures": []}
