"""Event and user repositories on one DynamoDB table (see chalicelib/resources.py)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import items
from chalicelib.adapters.dynamo_codec import from_item, key, to_item, to_value
from chalicelib.domain.events import Event
from chalicelib.domain.users import User
from chalicelib.errors import InvalidCursor
from chalicelib.ports import Position

# Mutable attributes an event update rewrites (counters belong to the registration worker).
_EVENT_UPDATE_ATTRIBUTES = (
    "title",
    "description",
    "date",
    "location",
    "capacity",
    "organizer",
    "status",
    "waitlistEnabled",
    "version",
    "updatedAt",
    "GSI1SK",
    "GSI2PK",
    "GSI2SK",
)


def is_condition_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def put_if_absent(client: Any, table: str, item: dict[str, Any]) -> bool:
    """Create an item that must not exist yet; False when its key is taken."""
    try:
        client.put_item(TableName=table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)")
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


class DynamoEventRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def add(self, event: Event) -> bool:
        return put_if_absent(self._client, self._table, items.event_to_item(event))

    def get(self, event_id: str) -> Event | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=key(items.event_pk(event_id), items.META),
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item or "deleting" in item:
            return None
        return items.event_from_item(from_item(item))

    def list(
        self, status: str | None, limit: int, after: Position | None
    ) -> tuple[list[Event], Position | None]:
        index, partition = ("GSI2", f"EVENTS#{status}") if status else ("GSI1", "EVENTS")
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": f"{index}PK"},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "Limit": limit,
        }
        if after is not None:
            request["ExclusiveStartKey"] = _start_key(after, index)
        try:
            response = self._client.query(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ValidationException" and after is not None:
                raise InvalidCursor("The cursor does not belong to this listing.") from None
            raise
        events = [items.event_from_item(from_item(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return events, ({k: v["S"] for k, v in last.items()} if last else None)

    def update(self, event: Event, expected_version: int) -> bool:
        item = items.event_to_item(event)
        names = {f"#{name}": name for name in _EVENT_UPDATE_ATTRIBUTES}
        values = {f":{name}": to_value(item[name]) for name in _EVENT_UPDATE_ATTRIBUTES}
        values[":expected"] = to_value(expected_version)
        assignments = ", ".join(f"#{name} = :{name}" for name in _EVENT_UPDATE_ATTRIBUTES)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(items.event_pk(event.event_id), items.META),
                UpdateExpression=f"SET {assignments}",
                ConditionExpression="attribute_exists(PK) AND #version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def mark_deleting(self, event_id: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=key(items.event_pk(event_id), items.META),
                UpdateExpression="SET deleting = :true REMOVE GSI1PK, GSI2PK",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(deleting)",
                ExpressionAttributeValues={":true": {"BOOL": True}},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def unmark_deleting(self, event_id: str) -> None:
        response = self._client.get_item(
            TableName=self._table, Key=key(items.event_pk(event_id), items.META), ConsistentRead=True
        )
        if "Item" not in response:
            return
        restored = items.event_to_item(items.event_from_item(from_item(response["Item"])))
        self._client.update_item(
            TableName=self._table,
            Key=key(items.event_pk(event_id), items.META),
            UpdateExpression="SET GSI1PK = :g1, GSI2PK = :g2 REMOVE deleting",
            ExpressionAttributeValues={":g1": {"S": restored["GSI1PK"]}, ":g2": {"S": restored["GSI2PK"]}},
        )


def _start_key(after: Position, index: str) -> dict[str, Any]:
    expected = {"PK", "SK", f"{index}PK", f"{index}SK"}
    if set(after) != expected or not all(isinstance(v, str) for v in after.values()):
        raise InvalidCursor("The cursor does not belong to this listing.")
    return {name: {"S": value} for name, value in after.items()}


class DynamoUserRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def add(self, user: User) -> bool:
        return put_if_absent(self._client, self._table, items.user_to_item(user))

    def get(self, user_id: str) -> User | None:
        response = self._client.get_item(TableName=self._table, Key=key(items.user_pk(user_id), items.META))
        item = response.get("Item")
        return items.user_from_item(from_item(item)) if item else None
