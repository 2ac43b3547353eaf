"""SQS adapters: the registrations FIFO queue (one group per event) and its dead-letter queue."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import QueueUnavailable


class SqsCommandQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, message: CommandMessage) -> None:
        """One message in the event's group; the request id deduplicates retries of the send."""
        try:
            self._client.send_message(
                QueueUrl=self._url,
                MessageBody=message.body(),
                MessageGroupId=message.eventId,
                MessageDeduplicationId=message.deduplication_id,
            )
        except (ClientError, BotoCoreError) as error:
            raise QueueUnavailable(str(error)) from error


class SqsDeadLetters:
    """Poison messages go straight here, so they do not hold their event's group for 5 receives."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, record: dict[str, Any], reason: str) -> None:
        attributes = record.get("attributes", {})
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=record["body"],
            MessageGroupId=attributes.get("MessageGroupId", "malformed"),
            MessageDeduplicationId=record["messageId"],
            MessageAttributes={"error": {"DataType": "String", "StringValue": reason[:1000]}},
        )
