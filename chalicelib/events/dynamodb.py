"""Events in the single table: `EVENT#{eventId}` / `META`, listed by date (GSI1) and by status and
date (GSI2). The seat counters on the same item belong to the registration worker, which reads
and writes them through `event_from_item` and `edited_attributes`."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.events.domain import (
    EDITABLE_FIELDS,
    Event,
    EventStatus,
    date_sort_key,
    offer_setting,
    offer_ttl,
)
from chalicelib.shared import table
from chalicelib.shared.cursor import Position
from chalicelib.shared.dynamo import (
    ITEM_EXISTS,
    applied,
    error_code,
    from_item,
    index_query,
    put_if_absent,
    to_value,
)
from chalicelib.shared.problems import InvalidCursor

_INDEX_KEYS = ("GSI1SK", "GSI2PK", "GSI2SK")


def event_to_item(event: Event) -> dict[str, Any]:
    sort_key = f"{date_sort_key(event.date)}#{event.event_id}"
    return {
        "PK": table.event_pk(event.event_id),
        "SK": table.META,
        "GSI1PK": table.ALL_EVENTS,
        "GSI1SK": sort_key,
        "GSI2PK": table.events_with_status(event.status.value),
        "GSI2SK": sort_key,
        "entity": "event",
        "eventId": event.event_id,
        "title": event.title,
        "description": event.description,
        "date": event.date,
        "location": event.location,
        "capacity": event.capacity,
        "organizer": event.organizer,
        "status": event.status.value,
        "waitlistEnabled": event.waitlist_enabled,
        "waitlistOffer": offer_setting(event.waitlist_offer_ttl),
        "confirmedCount": event.confirmed_count,
        "waitlistCount": event.waitlist_count,
        "offeredCount": event.offered_count,
        "version": event.version,
        "createdAt": event.created_at,
        "updatedAt": event.updated_at,
        "ownerId": event.owner_id or None,
    }


def event_from_item(item: dict[str, Any]) -> Event:
    return Event(
        event_id=item["eventId"],
        title=item["title"],
        description=item.get("description", ""),
        date=item["date"],
        location=item.get("location", ""),
        capacity=int(item["capacity"]),
        organizer=item.get("organizer", ""),
        status=EventStatus(item["status"]),
        waitlist_enabled=bool(item.get("waitlistEnabled", False)),
        confirmed_count=int(item.get("confirmedCount", 0)),
        waitlist_count=int(item.get("waitlistCount", 0)),
        waitlist_offer_ttl=offer_ttl(item.get("waitlistOffer")),
        offered_count=int(item.get("offeredCount", 0)),
        version=int(item.get("version", 1)),
        created_at=item.get("createdAt", ""),
        updated_at=item.get("updatedAt", ""),
        owner_id=item.get("ownerId", ""),
    )


def edited_attributes(event: Event) -> dict[str, Any]:
    """The attributes an edit rewrites: the editable fields, their index keys and `updatedAt`
    (never the seat counters)."""
    item = event_to_item(event)
    return {name: item[name] for name in (*EDITABLE_FIELDS, *_INDEX_KEYS, "updatedAt")}


class DynamoEventRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add(self, event: Event) -> bool:
        return put_if_absent(self._client, self._table, event_to_item(event))

    def get(self, event_id: str) -> Event | None:
        response = self._client.get_item(
            TableName=self._table, Key=table.event_key(event_id), ConsistentRead=True
        )
        item = response.get("Item")
        if not item or "deleting" in item:
            return None
        return event_from_item(from_item(item))

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
        events = [event_from_item(from_item(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return events, ({k: v["S"] for k, v in last.items()} if last else None)

    def update(self, event: Event, expected_version: int) -> bool:
        values = {**edited_attributes(event), "version": event.version}
        return applied(
            self._client.update_item,
            TableName=self._table,
            Key=table.event_key(event.event_id),
            UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in values),
            ConditionExpression=f"{ITEM_EXISTS} AND #version = :expected",
            ExpressionAttributeNames={f"#{name}": name for name in values},
            ExpressionAttributeValues={
                **{f":{name}": to_value(value) for name, value in values.items()},
                ":expected": to_value(expected_version),
            },
        )

    def mark_deleting(self, event_id: str) -> bool:
        return applied(
            self._client.update_item,
            TableName=self._table,
            Key=table.event_key(event_id),
            UpdateExpression="SET deleting = :true REMOVE GSI1PK, GSI2PK",
            ConditionExpression=f"{ITEM_EXISTS} AND attribute_not_exists(deleting)",
            ExpressionAttributeValues={":true": {"BOOL": True}},
        )

    def deleting(self, event_id: str) -> Event | None:
        response = self._client.get_item(
            TableName=self._table, Key=table.event_key(event_id), ConsistentRead=True
        )
        item = response.get("Item")
        return event_from_item(from_item(item)) if item and "deleting" in item else None

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
            UpdateExpression="SET GSI1PK = :g1, GSI2PK = :g2 REMOVE deleting",
            ExpressionAttributeValues={":g1": {"S": restored["GSI1PK"]}, ":g2": {"S": restored["GSI2PK"]}},
        )


def _start_key(after: Position, index: str) -> dict[str, Any]:
    expected = {"PK", "SK", f"{index}PK", f"{index}SK"}
    if set(after) != expected or not all(isinstance(v, str) for v in after.values()):
        raise InvalidCursor("The cursor does not belong to this listing.")
    return {name: {"S": value} for name, value in after.items()}
