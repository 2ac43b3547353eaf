"""The `webhooks` queue (one message per delivery attempt) and its dead-letter queue; the
`webhook-relay-retries` queue (table changes the relay failed on, parked for another try)."""

from __future__ import annotations

import json
from typing import Any


class SqsDeliveryQueue:
    def __init__(self, client: Any, queue_url: str, dlq_url: str) -> None:
        self._client = client
        self._url = queue_url
        self._dlq_url = dlq_url

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        self._client.send_message(
            QueueUrl=self._url, MessageBody=json.dumps(message), DelaySeconds=max(0, min(900, delay_seconds))
        )

    def dead_letter(self, message: dict[str, Any], reason: str) -> None:
        self._client.send_message(
            QueueUrl=self._dlq_url,
            MessageBody=json.dumps(message),
            MessageAttributes={"error": {"DataType": "String", "StringValue": reason[:1000]}},
        )


class SqsParkedChanges:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def park(self, change: dict[str, Any]) -> None:
        self._client.send_message(QueueUrl=self._url, MessageBody=json.dumps(change))
