"""Read models over registrations: an event's confirmed list and waitlist, a user's events."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import items
from chalicelib.adapters.dynamo_codec import from_item
from chalicelib.errors import InvalidCursor
from chalicelib.ports import Position


class DynamoRegistrationQueries:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def for_event(
        self, event_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        if status == "waitlisted":
            return self._waitlist(event_id, limit, after)
        request = self._query("GSI2", "GSI2PK", f"EVENTREG#{event_id}#confirmed", limit, after)
        rows, last = self._run(request)
        return [_entry(r) for r in rows], last

    def _waitlist(
        self, event_id: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        offset = int(after.pop("offset", 0)) if after else 0
        request = self._query("LSI1", "PK", items.event_pk(event_id), limit, after or None)
        request["ConsistentRead"] = True
        rows, last = self._run(request)
        entries = [{**_entry(r), "position": offset + index + 1} for index, r in enumerate(rows)]
        return entries, ({**last, "offset": offset + len(rows)} if last else None)

    def for_user(
        self, user_id: str, status: str, limit: int, after: Position | None
    ) -> tuple[list[dict[str, Any]], Position | None]:
        request = self._query("GSI1", "GSI1PK", f"USER#{user_id}#{status}", limit, after)
        rows, last = self._run(request)
        entries = [_entry(r) for r in rows]
        if status == "waitlisted":
            for entry, row in zip(entries, rows, strict=True):
                entry["position"] = self._position(row["eventId"], int(row["waitSeq"]))
        return entries, last

    def _position(self, event_id: str, wait_seq: int) -> int:
        response = self._client.query(
            TableName=self._table,
            IndexName="LSI1",
            KeyConditionExpression="PK = :pk AND waitSeq < :seq",
            ExpressionAttributeValues={":pk": {"S": items.event_pk(event_id)}, ":seq": {"N": str(wait_seq)}},
            Select="COUNT",
            ConsistentRead=True,
        )
        return int(response["Count"]) + 1

    def _query(
        self, index: str, partition_name: str, partition: str, limit: int, after: Position | None
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": partition_name},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = _start_key(after)
        return request

    def _run(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], Position | None]:
        response = self._client.query(**request)
        last = response.get("LastEvaluatedKey")
        rows = [from_item(i) for i in response.get("Items", [])]
        return rows, (from_item(last) if last else None)


def _start_key(after: Position) -> dict[str, Any]:
    if not after or not all(isinstance(v, (str, int)) for v in after.values()):
        raise InvalidCursor("The cursor does not belong to this listing.")
    return {k: ({"N": str(v)} if isinstance(v, int) else {"S": v}) for k, v in after.items()}


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    entry = {
        "eventId": row["eventId"],
        "userId": row["userId"],
        "status": row["status"],
        "registeredAt": row.get("registeredAt"),
    }
    if row.get("confirmedAt"):
        entry["confirmedAt"] = row["confirmedAt"]
    if row.get("promotedBy"):
        entry["promotedBy"] = row["promotedBy"]
    return entry
