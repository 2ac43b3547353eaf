"""Webhook adapters: subscriptions and deliveries in the table, the webhooks queue, DNS, HTTP.

Items (single table, see chalicelib/resources.py):

    subscription  PK WEBHOOK#{webhookId}    SK META  GSI1PK "WEBHOOKS", GSI1SK createdAt#id
    delivery      PK DELIVERY#{deliveryId}  SK META  GSI1PK "WEBHOOK#{webhookId}#DELIVERIES",
                                                     GSI1SK createdAt#id; TTL expiresAt (30 days)
"""

from __future__ import annotations

import http.client
import json
import random
import secrets
import socket
import ssl
import time
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo_codec import from_item, key, to_item, to_value
from chalicelib.errors import InvalidCursor
from chalicelib.webhooks.ports import Delivery, HttpResult, Position, Subscription

META = "META"
SUBSCRIPTIONS_GSI1PK = "WEBHOOKS"
DELIVERY_TTL_SECONDS = 30 * 24 * 3600
TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 1024  # a receiver's answer is read at most this far, then dropped


def webhook_pk(webhook_id: str) -> str:
    return f"WEBHOOK#{webhook_id}"


def delivery_pk(delivery_id: str) -> str:
    return f"DELIVERY#{delivery_id}"


def subscription_to_item(s: Subscription) -> dict[str, Any]:
    return {
        "PK": webhook_pk(s.webhook_id),
        "SK": META,
        "GSI1PK": SUBSCRIPTIONS_GSI1PK,
        "GSI1SK": f"{s.created_at}#{s.webhook_id}",
        "entity": "webhook",
        "webhookId": s.webhook_id,
        "url": s.url,
        "events": list(s.events),
        "enabled": s.enabled,
        "description": s.description,
        "secret": s.secret,
        "previousSecret": s.previous_secret,
        "previousSecretExpires": s.previous_secret_expires,
        "consecutiveFailures": s.consecutive_failures,
        "disabledReason": s.disabled_reason,
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
    }


def subscription_from_item(item: dict[str, Any]) -> Subscription:
    return Subscription(
        webhook_id=item["webhookId"],
        url=item["url"],
        events=tuple(item.get("events", [])),
        enabled=bool(item.get("enabled", False)),
        secret=item["secret"],
        created_at=item.get("createdAt", ""),
        updated_at=item.get("updatedAt", ""),
        description=item.get("description", ""),
        previous_secret=item.get("previousSecret"),
        previous_secret_expires=int(item.get("previousSecretExpires") or 0),
        consecutive_failures=int(item.get("consecutiveFailures") or 0),
        disabled_reason=item.get("disabledReason"),
    )


def delivery_to_item(d: Delivery, expires_at: int) -> dict[str, Any]:
    return {
        "PK": delivery_pk(d.delivery_id),
        "SK": META,
        "GSI1PK": f"WEBHOOK#{d.webhook_id}#DELIVERIES",
        "GSI1SK": f"{d.created_at}#{d.delivery_id}",
        "entity": "delivery",
        "deliveryId": d.delivery_id,
        "webhookId": d.webhook_id,
        "messageId": d.message_id,
        "eventType": d.event_type,
        "body": d.body,
        "status": d.status,
        "attempts": [dict(a) for a in d.attempts],
        "attemptCount": len(d.attempts),
        "nextAttemptAt": d.next_attempt_at,
        "createdAt": d.created_at,
        "updatedAt": d.updated_at,
        "expiresAt": expires_at,
    }


def delivery_from_item(item: dict[str, Any]) -> Delivery:
    return Delivery(
        delivery_id=item["deliveryId"],
        webhook_id=item["webhookId"],
        message_id=item["messageId"],
        event_type=item["eventType"],
        body=item["body"],
        status=item["status"],
        created_at=item.get("createdAt", ""),
        updated_at=item.get("updatedAt", ""),
        attempts=tuple(item.get("attempts", [])),
        next_attempt_at=item.get("nextAttemptAt"),
    )


def _is_condition_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class _Gsi1Pages:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def page(
        self, partition: str, limit: int, after: Position | None, forward: bool
    ) -> tuple[list[dict[str, Any]], Position | None]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": forward,
            "Limit": limit,
        }
        if after is not None:
            if set(after) != {"PK", "SK", "GSI1PK", "GSI1SK"} or after.get("GSI1PK") != partition:
                raise InvalidCursor("The cursor belongs to another listing.")
            request["ExclusiveStartKey"] = {name: {"S": str(value)} for name, value in after.items()}
        response = self._client.query(**request)
        last = response.get("LastEvaluatedKey")
        position = {name: value["S"] for name, value in last.items()} if last else None
        return [from_item(i) for i in response.get("Items", [])], position


class DynamoSubscriptionRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table
        self._pages = _Gsi1Pages(client, table)

    def add(self, subscription: Subscription) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_item(subscription_to_item(subscription)),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get(self, webhook_id: str) -> Subscription | None:
        response = self._client.get_item(
            TableName=self._table, Key=key(webhook_pk(webhook_id), META), ConsistentRead=True
        )
        return subscription_from_item(from_item(response["Item"])) if "Item" in response else None

    def list(self, limit: int, after: Position | None) -> tuple[list[Subscription], Position | None]:
        found, position = self._pages.page(SUBSCRIPTIONS_GSI1PK, limit, after, forward=True)
        return [subscription_from_item(i) for i in found], position

    def all(self) -> list[Subscription]:
        found: list[Subscription] = []
        after: Position | None = None
        while True:
            page, after = self.list(100, after)
            found += page
            if after is None:
                return found

    def update(self, webhook_id: str, fields: dict[str, Any]) -> Subscription | None:
        sets = {n: v for n, v in fields.items() if v is not None}
        removes = [n for n, v in fields.items() if v is None]
        expression = "SET " + ", ".join(f"#{n} = :{n}" for n in sets)
        if removes:
            expression += " REMOVE " + ", ".join(f"#{n}" for n in removes)
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=key(webhook_pk(webhook_id), META),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={f"#{n}": n for n in fields},
                ExpressionAttributeValues={f":{n}": to_value(v) for n, v in sets.items()},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return None
            raise
        return subscription_from_item(from_item(response["Attributes"]))

    def delete(self, webhook_id: str) -> bool:
        response = self._client.delete_item(
            TableName=self._table, Key=key(webhook_pk(webhook_id), META), ReturnValues="ALL_OLD"
        )
        return "Attributes" in response

    def count_failure(self, webhook_id: str) -> int:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=key(webhook_pk(webhook_id), META),
                UpdateExpression="ADD consecutiveFailures :one",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return 0
            raise
        return int(response["Attributes"]["consecutiveFailures"]["N"])


class DynamoDeliveryRepository:
    def __init__(self, client: Any, table: str, clock: Any) -> None:
        self._client = client
        self._table = table
        self._clock = clock
        self._pages = _Gsi1Pages(client, table)

    def create(self, delivery: Delivery) -> bool:
        expires_at = self._clock.epoch_seconds() + DELIVERY_TTL_SECONDS
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(delivery_to_item(delivery, expires_at)),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def get(self, delivery_id: str) -> Delivery | None:
        response = self._client.get_item(
            TableName=self._table, Key=key(delivery_pk(delivery_id), META), ConsistentRead=True
        )
        return delivery_from_item(from_item(response["Item"])) if "Item" in response else None

    def list_for(
        self, webhook_id: str, limit: int, after: Position | None
    ) -> tuple[list[Delivery], Position | None]:
        found, position = self._pages.page(f"WEBHOOK#{webhook_id}#DELIVERIES", limit, after, forward=False)
        return [delivery_from_item(i) for i in found], position

    def record_attempt(
        self, delivery_id: str, attempt: dict[str, Any], status: str, next_attempt_at: str | None, now: str
    ) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(delivery_pk(delivery_id), META),
                UpdateExpression="SET attempts = list_append(attempts, :attempt), attemptCount = :count, "
                "#status = :status, nextAttemptAt = :next, updatedAt = :now",
                ConditionExpression="attemptCount = :previous",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":attempt": to_value([attempt]),
                    ":count": {"N": str(attempt["attempt"])},
                    ":previous": {"N": str(attempt["attempt"] - 1)},
                    ":status": {"S": status},
                    ":next": to_value(next_attempt_at),
                    ":now": {"S": now},
                },
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def reopen(self, delivery_id: str, now: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(delivery_pk(delivery_id), META),
                UpdateExpression="SET #status = :pending, nextAttemptAt = :now, updatedAt = :now",
                ConditionExpression="#status IN (:delivered, :failed)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":pending": {"S": "pending"},
                    ":delivered": {"S": "delivered"},
                    ":failed": {"S": "failed"},
                    ":now": {"S": now},
                },
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True


class SqsDeliveryQueue:
    """The `webhooks` queue (one message per delivery attempt) and its dead-letter queue."""

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


class SocketResolver:
    def resolve(self, host: str, port: int) -> list[str]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the URL policy approved, not to a fresh DNS answer (no rebinding)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class HttpSender:
    """POST with a 10 s timeout, no redirects (http.client never follows them), and at most
    MAX_RESPONSE_BYTES of the answer read."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS) -> None:
        self._timeout = timeout

    def post(self, target: Any, address: str, headers: dict[str, str], body: str) -> HttpResult:
        kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        connection = kind(target.host, target.port, address, self._timeout)
        started = time.monotonic()
        try:
            connection.request("POST", target.path, body=body.encode(), headers=headers)
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            return HttpResult(None, _ms_since(started), f"{type(error).__name__}: {error}"[:300])
        finally:
            connection.close()
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return HttpResult(status, _ms_since(started), error)


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


class SystemRandomness:
    def __init__(self) -> None:
        self._random = random.SystemRandom()

    def token_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)

    def draw(self) -> float:
        return self._random.random()
