"""The registration worker against DynamoDB Local and LocalStack's SQS, with FIFO-shaped events."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.events.domain import Event
from chalicelib.events.dynamodb import DynamoEventRepository
from chalicelib.shared.config import Settings
from chalicelib.shared.dynamo import from_item
from chalicelib.shared.table import key

_sequence = itertools.count(10**19)


def fifo_record(body: dict[str, Any] | str, group: str, receive_count: int = 1) -> dict[str, Any]:
    """An SQS FIFO record as Lambda delivers it (chalice.test's generator lacks these attributes)."""
    text = body if isinstance(body, str) else json.dumps(body)
    request_id = body.get("requestId", "x") if isinstance(body, dict) else "x"
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "handle-" + uuid.uuid4().hex,
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1700000000000",
            "SequenceNumber": str(next(_sequence)),
            "MessageGroupId": group,
            "SenderId": "local",
            "MessageDeduplicationId": request_id,
            "ApproximateFirstReceiveTimestamp": "1700000000000",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:registrations.fifo",
        "awsRegion": "us-east-1",
    }


@dataclass
class WorkerWorld:
    client: Any
    sqs: Any
    table: str
    environment: dict[str, str]

    def event(self, capacity: int, waitlist: bool = True, event_id: str | None = None) -> str:
        event_id = event_id or f"ev-{uuid.uuid4().hex[:10]}"
        event = Event(
            event_id, "t", "2026-01-01", capacity, waitlist_enabled=waitlist, created_at="c", updated_at="c"
        )
        assert DynamoEventRepository(self.client, self.table).add(event)
        return event_id

    def request(self, request_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table, Key=key(f"REQUEST#{request_id}", "META"), ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def table_items(self, event_id: str) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"EVENT#{event_id}"}},
            ConsistentRead=True,
        )
        items = [from_item(i) for i in response["Items"]]
        for item in items:  # what differs between two clean runs by design
            for volatile in (
                "createdAt",
                "updatedAt",
                "registeredAt",
                "confirmedAt",
                "GSI2SK",
                "eventId",
                "PK",
                "GSI1SK",
                "GSI2PK",
                "GSI1PK",
                "requestId",
                "promotedBy",
                "movedBy",  # a request id, like requestId
                "laneAt",  # when the lane last moved
                "laneThrough",  # the acceptance time of what it decided
                "laneRate",
            ):
                item.pop(volatile, None)
        return sorted(items, key=lambda i: i["SK"])


@pytest.fixture
def world(emulators) -> Iterator[WorkerWorld]:
    env = emulators.environment
    client, sqs = emulators.client("dynamodb"), emulators.client("sqs")
    bootstrap.use(bootstrap.build(Settings.from_environment(), emulators.client))
    yield WorkerWorld(client, sqs, env["TURNSTILE_TABLE"], env)
    bootstrap.use(None)


def register(event_id: str, user_id: str, request_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "register",
        "requestId": request_id or uuid.uuid4().hex,
        "eventId": event_id,
        "userId": user_id,
    }


def cancel(event_id: str, user_id: str) -> dict[str, Any]:
    return {"type": "cancel", "requestId": uuid.uuid4().hex, "eventId": event_id, "userId": user_id}
