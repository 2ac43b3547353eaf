"""Request records and Idempotency-Key claims in DynamoDB."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import items
from chalicelib.adapters.dynamo_codec import from_item, key, to_item
from chalicelib.ports import IdempotencyKeyTaken, RequestRecord

IDEMPOTENCY_TTL_SECONDS = 24 * 3600


def idempotency_pk(key_value: str) -> str:
    return f"IDEMPOTENCY#{key_value}"


def record_from_item(item: dict[str, Any]) -> RequestRecord:
    return RequestRecord(
        request_id=item["requestId"],
        type=item["type"],
        event_id=item["eventId"],
        user_id=item.get("userId"),
        status=item["status"],
        created_at=item["createdAt"],
        outcome=item.get("outcome"),
        completed_at=item.get("completedAt"),
        failure=item.get("failure"),
    )


def record_to_item(record: RequestRecord) -> dict[str, Any]:
    return items.request_item(
        record.request_id, record.type, record.event_id, record.user_id, record.status, record.created_at
    )


class DynamoRequestRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def create(self, record: RequestRecord, idempotency: tuple[str, str] | None) -> None:
        put_request = {
            "TableName": self._table,
            "Item": to_item(record_to_item(record)),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        if idempotency is None:
            self._client.put_item(**put_request)
            return
        key_value, fingerprint = idempotency
        claim = {
            "TableName": self._table,
            "Item": to_item(
                {
                    "PK": idempotency_pk(key_value),
                    "SK": items.META,
                    "entity": "idempotency",
                    "requestId": record.request_id,
                    "fingerprint": fingerprint,
                    "expiresAt": int(time.time()) + IDEMPOTENCY_TTL_SECONDS,
                }
            ),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        try:
            self._client.transact_write_items(TransactItems=[{"Put": claim}, {"Put": put_request}])
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            taken = self.find_idempotent(key_value)
            if taken is None:
                raise
            raise IdempotencyKeyTaken(*taken) from None

    def get(self, request_id: str) -> RequestRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=key(items.request_pk(request_id), items.META), ConsistentRead=True
        )
        return record_from_item(from_item(response["Item"])) if "Item" in response else None

    def find_idempotent(self, key_value: str) -> tuple[str, str] | None:
        response = self._client.get_item(
            TableName=self._table, Key=key(idempotency_pk(key_value), items.META), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        item = from_item(response["Item"])
        return item["requestId"], item["fingerprint"]

    def mark_failed(self, request_id: str, reason: str, now: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=key(items.request_pk(request_id), items.META),
            UpdateExpression="SET #status = :failed, failure = :reason, completedAt = :now",
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": {"S": "failed"},
                ":pending": {"S": "pending"},
                ":reason": {"S": reason},
                ":now": {"S": now},
            },
        )

    def release_idempotency(self, key_value: str) -> None:
        self._client.delete_item(TableName=self._table, Key=key(idempotency_pk(key_value), items.META))
