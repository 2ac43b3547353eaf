"""Events in the single table (the item's shape is `items.py`'s), listed by date (GSI1) and by
status and date (GSI2), each read with its seats item (the counts).

An edit and a deletion also move the seats item's `seatVersion`, in the same transaction: the
registration worker's commit requires that version as it loaded it, so a decision made on the
event as it was before an edit is a lost race, decided again on the edited event."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.events.domain import Event
from chalicelib.events.items import (
    DELETING,
    INDEX_PARTITIONS,
    SEAT_VERSION,
    edited_attributes,
    event_from_item,
    event_to_item,
    is_deleting,
)
from chalicelib.shared import table
from chalicelib.shared.cursor import Position
from chalicelib.shared.dynamo import (
    ITEM_EXISTS,
    applied_together,
    batch_get,
    error_code,
    from_item,
    index_query,
    put_if_absent,
    set_update,
)
from chalicelib.shared.problems import InvalidCursor


class DynamoEventRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, event: Event) -> bool:
        return put_if_absent(self._client, self._table, event_to_item(event))

    def get(self, event_id: str) -> Event | None:
        found = batch_get(self._client, self._table, [table.event_key(event_id), table.seats_key(event_id)])
        items = {item["SK"]: item for item in found}
        item = items.get(table.META)
        if not item or is_deleting(item):
            return None
        return event_from_item(item, items.get(table.SEATS))

    def list(
        self, status: str | None, limit: int, after: Position | None
    ) -> tuple[list[Event], Position | None]:
        if status:
            index, partition = table.GSI2, table.events_with_status(status)
        else:
            index, partition = table.GSI1, table.ALL_EVENTS
        request = index_query(self._table, index, f"{index}PK", partition, limit)
        if after is not None:
            request["ExclusiveStartKey"] = _start_key(after, index)
        try:
            response = self._client.query(**request)
        except ClientError as error:
            if error_code(error) == "ValidationException" and after is not None:
                raise InvalidCursor("The cursor does not belong to this listing.") from None
            raise
        items = [from_item(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        events = _with_seats(self._client, self._table, items)
        return events, ({k: v["S"] for k, v in last.items()} if last else None)

    def update(self, event: Event, expected_version: int) -> bool:
        values = {**edited_attributes(event), "version": event.version}
        condition = f"{ITEM_EXISTS} AND #version = :expected"
        key = table.event_key(event.event_id)
        edit = set_update(self._table, key, values, condition, {":expected": expected_version})
        return applied_together(self._client, [{"Update": edit}, self._seats_moved(event.event_id)])

    def mark_deleting(self, event_id: str) -> bool:
        deletion = {
            "TableName": self._table,
            "Key": table.event_key(event_id),
            "UpdateExpression": f"SET {DELETING} = :true REMOVE {', '.join(INDEX_PARTITIONS)}",
            "ConditionExpression": f"{ITEM_EXISTS} AND attribute_not_exists({DELETING})",
            "ExpressionAttributeValues": {":true": {"BOOL": True}},
        }
        return applied_together(self._client, [{"Update": deletion}, self._seats_moved(event_id)])

    def _seats_moved(self, event_id: str) -> dict[str, Any]:
        """Move the seats item's version (creating the item when no decision has yet)."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": table.seats_key(event_id),
                "UpdateExpression": f"ADD {SEAT_VERSION} :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }

    def deleting(self, event_id: str) -> Event | None:
        response = self._client.get_item(
            TableName=self._table, Key=table.event_key(event_id), ConsistentRead=True
        )
        item = response.get("Item")
        return event_from_item(from_item(item)) if item and is_deleting(item) else None

    def unmark_deleting(self, event_id: str) -> None:
        response = self._client.get_item(
            TableName=self._table, Key=table.event_key(event_id), ConsistentRead=True
        )
        if "Item" not in response:
            return
        restored = event_to_item(event_from_item(from_item(response["Item"])))
        self._client.update_item(
            TableName=self._table,
            Key=table.event_key(event_id),
            UpdateExpression="SET "
            + ", ".join(f"{name} = :{name}" for name in INDEX_PARTITIONS)
            + f" REMOVE {DELETING}",
            ExpressionAttributeValues={f":{name}": {"S": restored[name]} for name in INDEX_PARTITIONS},
        )


def _with_seats(client: Any, table_name: str, items: list[dict[str, Any]]) -> list[Event]:
    """Event items as events, with the counts of their seats items (one BatchGetItem a page)."""
    keys = [table.seats_key(item["eventId"]) for item in items]
    seats = {item["PK"]: item for item in batch_get(client, table_name, keys)}
    return [event_from_item(item, seats.get(item["PK"])) for item in items]


def _start_key(after: Position, index: str) -> dict[str, Any]:
    expected = {"PK", "SK", f"{index}PK", f"{index}SK"}
    if set(after) != expected or not all(isinstance(v, str) for v in after.values()):
        raise InvalidCursor("The cursor does not belong to this listing.")
    return {name: {"S": value} for name, value in after.items()}
