"""Subscriptions and deliveries in the single table.

subscription  WEBHOOK#{webhookId} / META    GSI1 "WEBHOOKS#OWNER#{ownerId}", createdAt#id (the
                                            owner's); GSI2 "WEBHOOKS", createdAt#id (everyone's);
                                            GSI3 "WEBHOOKS#EVERY-EVENT" (covering every event)
owner count   WEBHOOKOWNER#{ownerId} / META how many subscriptions the owner has (the cap)
delivery      DELIVERY#{deliveryId} / META  GSI1 "WEBHOOK#{webhookId}#DELIVERIES", createdAt#id;
                                            TTL expiresAt (30 days)
"""

from __future__ import annotations

import builtins
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.shared import table
from chalicelib.shared.clock import Clock
from chalicelib.shared.cursor import Position
from chalicelib.shared.dynamo import (
    ITEM_ABSENT,
    ITEM_EXISTS,
    ConditionFailed,
    applied,
    conditional,
    from_item,
    to_item,
    to_value,
)
from chalicelib.shared.problems import InvalidCursor
from chalicelib.webhooks.domain import Delivery, Subscription
from chalicelib.webhooks.ports import SubscriptionLimitReached
from chalicelib.webhooks.sealing import Sealer, Unsealed

DELIVERY_TTL_SECONDS = 30 * 24 * 3600


def subscription_to_item(s: Subscription) -> dict[str, Any]:
    listed = f"{s.created_at}#{s.webhook_id}"
    every_event = {"GSI3PK": table.EVERY_EVENT_WEBHOOKS, "GSI3SK": listed} if s.covers_all else {}
    return {
        "PK": table.webhook_pk(s.webhook_id),
        "SK": table.META,
        "GSI1PK": table.owner_webhooks(s.owner_id),
        "GSI1SK": listed,
        "GSI2PK": table.ALL_WEBHOOKS,
        "GSI2SK": listed,
        **every_event,
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
        "ownerId": s.owner_id or None,
        "coversAll": s.covers_all,
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
        owner_id=item.get("ownerId", ""),
        # made before owners existed: an admin's, hearing about every event as it always did
        covers_all=bool(item.get("coversAll", "ownerId" not in item)),
    )


def delivery_to_item(d: Delivery, expires_at: int) -> dict[str, Any]:
    return {
        "PK": table.delivery_pk(d.delivery_id),
        "SK": table.META,
        "GSI1PK": table.webhook_deliveries(d.webhook_id),
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
        "throughAdminReach": d.through_admin_reach,
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
        through_admin_reach=bool(item.get("throughAdminReach", False)),
    )


class _IndexPages:
    """Pages of one partition of an index, ordered by its sort key."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def page(
        self, index: str, partition: str, limit: int, after: Position | None, forward: bool
    ) -> tuple[list[dict[str, Any]], Position | None]:
        pk, sk = f"{index}PK", f"{index}SK"
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": f"{pk} = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ScanIndexForward": forward,
            "Limit": limit,
        }
        if after is not None:
            if set(after) != {"PK", "SK", pk, sk} or after.get(pk) != partition:
                raise InvalidCursor("The cursor belongs to another listing.")
            request["ExclusiveStartKey"] = {name: {"S": str(value)} for name, value in after.items()}
        response = self._client.query(**request)
        last = response.get("LastEvaluatedKey")
        position = {name: value["S"] for name, value in last.items()} if last else None
        return [from_item(i) for i in response.get("Items", [])], position

    def every(self, index: str, partition: str) -> builtins.list[dict[str, Any]]:
        found: builtins.list[dict[str, Any]] = []
        after: Position | None = None
        while True:
            page, after = self.page(index, partition, 100, after, forward=True)
            found += page
            if after is None:
                return found


SECRET_FIELDS = ("secret", "previousSecret")


def _without_secrets(item: dict[str, Any]) -> dict[str, Any]:
    """A listed subscription: its sealed secrets are left out, never opened."""
    return {**{n: v for n, v in item.items() if n not in SECRET_FIELDS}, "secret": ""}


class DynamoSubscriptionRepository:
    """Signing secrets are sealed (webhooks.sealing) on the way in and opened on the way out: the
    table never holds one in the clear."""

    def __init__(self, client: Any, table_name: str, sealer: Sealer | None = None) -> None:
        self._client = client
        self._table = table_name
        self._pages = _IndexPages(client, table_name)
        self._sealer = sealer or Unsealed()

    def add(self, subscription: Subscription, limit: int) -> None:
        item = self._sealed(subscription_to_item(subscription), subscription.webhook_id)
        count = {
            "TableName": self._table,
            "Key": table.webhook_owner_key(subscription.owner_id),
            "UpdateExpression": "SET subscriptions = if_not_exists(subscriptions, :zero) + :one",
            "ConditionExpression": "attribute_not_exists(subscriptions) OR subscriptions < :limit",
            "ExpressionAttributeValues": {
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":limit": {"N": str(limit)},
            },
        }
        put = {"TableName": self._table, "Item": to_item(item), "ConditionExpression": ITEM_ABSENT}
        try:
            self._client.transact_write_items(TransactItems=[{"Put": put}, {"Update": count}])
        except ClientError as error:
            failed = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if failed[1:2] == ["ConditionalCheckFailed"]:
                raise SubscriptionLimitReached(subscription.owner_id) from None
            if failed[:1] == ["ConditionalCheckFailed"]:
                raise ConditionFailed(subscription.webhook_id) from None
            raise

    def get(self, webhook_id: str) -> Subscription | None:
        response = self._client.get_item(
            TableName=self._table, Key=table.webhook_key(webhook_id), ConsistentRead=True
        )
        return self._subscription(response["Item"]) if "Item" in response else None

    def list(
        self, owner_id: str | None, limit: int, after: Position | None
    ) -> tuple[list[Subscription], Position | None]:
        if owner_id is None:
            found, position = self._pages.page(table.GSI2, table.ALL_WEBHOOKS, limit, after, forward=True)
        else:
            partition = table.owner_webhooks(owner_id)
            found, position = self._pages.page(table.GSI1, partition, limit, after, forward=True)
        return [subscription_from_item(_without_secrets(i)) for i in found], position

    def reaching(self, owner_id: str) -> builtins.list[Subscription]:
        found = self._pages.every(table.GSI3, table.EVERY_EVENT_WEBHOOKS)
        if owner_id:
            found += self._pages.every(table.GSI1, table.owner_webhooks(owner_id))
        unique = {i["webhookId"]: i for i in found}
        return [subscription_from_item(_without_secrets(i)) for i in unique.values()]

    def _sealed(self, fields: dict[str, Any], webhook_id: str) -> dict[str, Any]:
        return {
            name: self._sealer.seal(value, webhook_id) if name in SECRET_FIELDS and value else value
            for name, value in fields.items()
        }

    def _subscription(self, item: dict[str, Any]) -> Subscription:
        return self._opened(from_item(item))

    def _opened(self, item: dict[str, Any]) -> Subscription:
        for name in SECRET_FIELDS:
            if item.get(name):
                item[name] = self._sealer.open(item[name], item["webhookId"])
        return subscription_from_item(item)

    def all(self) -> builtins.list[Subscription]:
        found = self._pages.every(table.GSI2, table.ALL_WEBHOOKS)
        return [subscription_from_item(_without_secrets(i)) for i in found]

    def update(self, webhook_id: str, fields: dict[str, Any]) -> Subscription | None:
        fields = self._sealed(fields, webhook_id)
        sets = {n: v for n, v in fields.items() if v is not None}
        removes = [n for n, v in fields.items() if v is None]
        expression = "SET " + ", ".join(f"#{n} = :{n}" for n in sets)
        if removes:
            expression += " REMOVE " + ", ".join(f"#{n}" for n in removes)
        try:
            response = conditional(
                self._client.update_item,
                TableName=self._table,
                Key=table.webhook_key(webhook_id),
                UpdateExpression=expression,
                ConditionExpression=ITEM_EXISTS,
                ExpressionAttributeNames={f"#{n}": n for n in fields},
                ExpressionAttributeValues={f":{n}": to_value(v) for n, v in sets.items()},
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None
        return self._subscription(response["Attributes"])

    def delete(self, webhook_id: str) -> bool:
        """Delete it and count it off its owner's subscriptions, together."""
        found = self._client.get_item(
            TableName=self._table, Key=table.webhook_key(webhook_id), ConsistentRead=True
        ).get("Item")
        if found is None:
            return False
        owner = from_item(found).get("ownerId") or ""
        delete = {
            "TableName": self._table,
            "Key": table.webhook_key(webhook_id),
            "ConditionExpression": ITEM_EXISTS,
        }
        count = {
            "TableName": self._table,
            "Key": table.webhook_owner_key(owner),
            "UpdateExpression": "ADD subscriptions :minus",
            "ConditionExpression": "subscriptions > :zero",
            "ExpressionAttributeValues": {":minus": {"N": "-1"}, ":zero": {"N": "0"}},
        }
        try:
            self._client.transact_write_items(TransactItems=[{"Delete": delete}, {"Update": count}])
        except ClientError as error:
            failed = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if failed[:1] == ["ConditionalCheckFailed"]:
                return False  # deleted meanwhile
            if failed[1:2] != ["ConditionalCheckFailed"]:
                raise
            # made before owners were counted: nothing to count off
            return applied(
                self._client.delete_item,
                TableName=self._table,
                Key=table.webhook_key(webhook_id),
                ConditionExpression=ITEM_EXISTS,
            )
        return True

    def count_failure(self, webhook_id: str) -> int:
        try:
            response = conditional(
                self._client.update_item,
                TableName=self._table,
                Key=table.webhook_key(webhook_id),
                UpdateExpression="ADD consecutiveFailures :one",
                ConditionExpression=ITEM_EXISTS,
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except ConditionFailed:
            return 0
        return int(response["Attributes"]["consecutiveFailures"]["N"])


class DynamoDeliveryRepository:
    def __init__(self, client: Any, table_name: str, clock: Clock) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._pages = _IndexPages(client, table_name)

    def create(self, delivery: Delivery) -> bool:
        expires_at = self._clock.epoch_seconds() + DELIVERY_TTL_SECONDS
        return applied(
            self._client.put_item,
            TableName=self._table,
            Item=to_item(delivery_to_item(delivery, expires_at)),
            ConditionExpression=ITEM_ABSENT,
        )

    def get(self, delivery_id: str) -> Delivery | None:
        response = self._client.get_item(
            TableName=self._table, Key=table.delivery_key(delivery_id), ConsistentRead=True
        )
        return delivery_from_item(from_item(response["Item"])) if "Item" in response else None

    def list_for(
        self, webhook_id: str, limit: int, after: Position | None
    ) -> tuple[list[Delivery], Position | None]:
        partition = table.webhook_deliveries(webhook_id)
        found, position = self._pages.page(table.GSI1, partition, limit, after, forward=False)
        return [delivery_from_item(i) for i in found], position

    def record_attempt(
        self, delivery_id: str, attempt: dict[str, Any], status: str, next_attempt_at: str | None, now: str
    ) -> bool:
        return applied(
            self._client.update_item,
            TableName=self._table,
            Key=table.delivery_key(delivery_id),
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

    def reopen(self, delivery_id: str, now: str) -> bool:
        return applied(
            self._client.update_item,
            TableName=self._table,
            Key=table.delivery_key(delivery_id),
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
