"""The registration worker's store: load one event's seats consistently, commit a plan atomically.

A commit is one TransactWriteItems. The event item's `version` condition serializes every
decision on an event; the per-item conditions (registration status, request still pending) are
a second line of defence and make a redelivered message a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import items
from chalicelib.adapters.dynamo_codec import from_item, key, to_item, to_value
from chalicelib.domain.events import Event, apply_changes
from chalicelib.domain.registration import (
    Complete,
    Confirm,
    EventSeats,
    JoinWaitlist,
    Plan,
    Promote,
    Registration,
    Release,
    SetCapacity,
    Standing,
)
from chalicelib.messages import CommandMessage
from chalicelib.outcomes import outcome_to_wire

MAX_TRANSACTION_ITEMS = 100
# outcome kind -> counter on the import item (`decided` counts every outcome)
IMPORT_COUNTERS = {
    "decided": "decided",
    "confirmed": "confirmed",
    "waitlisted": "waitlisted",
    "rejected": "rejected",
    "already_registered": "alreadyRegistered",
}


class ConcurrentChange(Exception):
    """Another writer changed the event between load and commit: load again and re-decide."""


@dataclass
class Snapshot:
    seats: EventSeats
    event: Event | None
    request_status: dict[str, str | None] = field(default_factory=dict)  # None: no request item

    def is_pending(self, request_id: str) -> bool:
        return self.request_status.get(request_id) in (None, "pending")


class DynamoSeatStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table
        self.consumed_write_units = 0.0  # read by the benchmarks

    # --- load ---------------------------------------------------------------------------------

    def load(self, event_id: str, user_ids: set[str], request_ids: set[str], waitlist_size: int) -> Snapshot:
        """One consistent batch read of the event, the batch's users and (if asked) requests,
        plus the head of the waitlist when the batch may promote (`waitlist_size` > 0)."""
        fetched = self._batch_get(
            [key(items.event_pk(event_id), items.META)]
            + [key(items.event_pk(event_id), f"REG#{u}") for u in user_ids]
            + [key(items.request_pk(r), items.META) for r in request_ids]
        )
        meta = next((i for i in fetched if i.get("entity") == "event"), None)
        if meta is not None and meta.get("deleting"):
            meta = None  # deleted by the organizer; the purge follows in this group
        registrations = {i["userId"]: _registration(i) for i in fetched if i.get("entity") == "registration"}
        statuses: dict[str, str | None] = dict.fromkeys(request_ids)
        statuses.update({i["requestId"]: i["status"] for i in fetched if i.get("entity") == "request"})
        if meta is None:
            seats = EventSeats(event_id, False, False, 0, False, 0, 0, 0)
            return Snapshot(seats, None, statuses)
        head, complete = self._waitlist_head(event_id, waitlist_size) if waitlist_size else ([], False)
        for entry in head:
            registrations.setdefault(entry.user_id, entry)
        event = items.event_from_item(meta)
        seats = EventSeats(
            event_id=event_id,
            exists=True,
            is_open=event.is_open,
            capacity=event.capacity,
            waitlist_enabled=event.waitlist_enabled,
            confirmed=event.confirmed_count,
            waitlisted=event.waitlist_count,
            next_wait_seq=int(meta.get("nextWaitSeq", 1)),
            registrations=registrations,
            waitlist=[entry.user_id for entry in head],
            waitlist_complete=complete,
        )
        return Snapshot(seats, event, statuses)

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request = {self._table: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                found += [from_item(i) for i in response["Responses"].get(self._table, [])]
                request = response.get("UnprocessedKeys") or {}
        return found

    def _waitlist_head(self, event_id: str, size: int) -> tuple[list[Registration], bool]:
        response = self._client.query(
            TableName=self._table,
            IndexName="LSI1",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": items.event_pk(event_id)}},
            ConsistentRead=True,
            Limit=size,
        )
        head = [_registration(from_item(i)) for i in response.get("Items", [])]
        return head, "LastEvaluatedKey" not in response

    # --- commit -------------------------------------------------------------------------------

    def commit(self, snapshot: Snapshot, plan: Plan, messages: dict[str, CommandMessage], now: str) -> None:
        event_id = snapshot.seats.event_id
        counts = {"confirmedCount": plan.confirmed, "waitlistCount": plan.waitlisted}
        writes = [self._event_write(snapshot, plan, messages, now)]
        for change in plan.changes:
            if not isinstance(change, SetCapacity):  # the event item's update carries it
                writes.append(self._change_write(event_id, change, messages, now, counts))
        writes += self._import_progress(plan, messages)
        if plan.continuing is not None:
            writes.append(self._still_pending(plan.continuing))
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a plan of {len(writes)} writes exceeds one transaction")
        try:
            response = self._client.transact_write_items(TransactItems=writes, ReturnConsumedCapacity="TOTAL")
        except ClientError as error:
            if _is_lost_race(error):
                raise ConcurrentChange(str(error)) from None
            raise
        self.consumed_write_units += sum(
            c.get("CapacityUnits", 0) for c in response.get("ConsumedCapacity", [])
        )

    def _event_write(
        self, snapshot: Snapshot, plan: Plan, messages: dict[str, CommandMessage], now: str
    ) -> dict[str, Any]:
        event_key = key(items.event_pk(snapshot.seats.event_id), items.META)
        if snapshot.event is None:
            return {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": event_key,
                    "ConditionExpression": "attribute_not_exists(PK) OR deleting = :true",
                    "ExpressionAttributeValues": {":true": {"BOOL": True}},
                }
            }
        values: dict[str, Any] = {
            "confirmedCount": plan.confirmed,
            "waitlistCount": plan.waitlisted,
            "nextWaitSeq": plan.next_wait_seq,
            "version": snapshot.event.version + 1,
        }
        if plan.capacity is not None:
            values.update(self._event_changes(snapshot.event, plan, messages, now))
        names = {f"#{n}": n for n in values}
        update_values = {f":{n}": to_value(v) for n, v in values.items()}
        update_values[":expected"] = to_value(snapshot.event.version)
        return {
            "Update": {
                "TableName": self._table,
                "Key": event_key,
                "UpdateExpression": "SET " + ", ".join(f"#{n} = :{n}" for n in values),
                "ConditionExpression": "#version = :expected",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": update_values,
            }
        }

    @staticmethod
    def _event_changes(
        event: Event, plan: Plan, messages: dict[str, CommandMessage], now: str
    ) -> dict[str, Any]:
        """The organizer's field changes carried by capacity-change commands in this plan."""
        changed = event
        for complete in (c for c in plan.changes if isinstance(c, Complete)):
            message = messages[complete.request_id]
            if message.changes:
                changed = apply_changes(changed, message.changes, now)
        item = items.event_to_item(changed)
        fields = (
            "title",
            "description",
            "date",
            "location",
            "organizer",
            "status",
            "waitlistEnabled",
            "GSI1SK",
            "GSI2PK",
            "GSI2SK",
        )
        return {**{f: item[f] for f in fields}, "capacity": plan.capacity, "updatedAt": now}

    def _change_write(
        self,
        event_id: str,
        change: Any,
        messages: dict[str, CommandMessage],
        now: str,
        counts: dict[str, int],
    ) -> dict[str, Any]:
        if isinstance(change, Confirm):
            item = items.registration_item(
                event_id, change.user_id, Standing.CONFIRMED, change.request_id, now
            )
            return self._put(item, "attribute_not_exists(PK)")
        if isinstance(change, JoinWaitlist):
            item = items.registration_item(
                event_id, change.user_id, Standing.WAITLISTED, change.request_id, now, change.wait_seq
            )
            return self._put(item, "attribute_not_exists(PK)")
        if isinstance(change, Release):
            return {
                "Delete": {
                    "TableName": self._table,
                    "Key": key(items.event_pk(event_id), f"REG#{change.user_id}"),
                    "ConditionExpression": "#status = :status",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":status": {"S": change.previous.standing.value}},
                }
            }
        if isinstance(change, Promote):
            return self._promote(event_id, change, now, counts)
        assert isinstance(change, Complete)
        return self._complete(change, messages[change.request_id], now, counts)

    def _put(self, item: dict[str, Any], condition: str) -> dict[str, Any]:
        return {"Put": {"TableName": self._table, "Item": to_item(item), "ConditionExpression": condition}}

    def _promote(self, event_id: str, change: Promote, now: str, counts: dict[str, int]) -> dict[str, Any]:
        promoted = items.registration_item(event_id, change.user_id, Standing.CONFIRMED, "", now)
        return {
            "Update": {
                "TableName": self._table,
                "Key": key(items.event_pk(event_id), f"REG#{change.user_id}"),
                "UpdateExpression": "SET #status = :confirmed, confirmedAt = :now, promotedBy = :by, "
                "GSI1PK = :gsi1pk, GSI2PK = :gsi2pk, GSI2SK = :gsi2sk, countsAfter = :counts REMOVE waitSeq",
                "ConditionExpression": "#status = :waitlisted AND waitSeq = :seq",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":confirmed": {"S": "confirmed"},
                    ":waitlisted": {"S": "waitlisted"},
                    ":now": {"S": now},
                    ":by": {"S": change.freed_by},
                    ":seq": {"N": str(change.wait_seq)},
                    ":gsi1pk": {"S": promoted["GSI1PK"]},
                    ":gsi2pk": {"S": promoted["GSI2PK"]},
                    ":gsi2sk": {"S": promoted["GSI2SK"]},
                    ":counts": to_value(counts),
                },
            }
        }

    def _complete(
        self,
        change: Complete,
        message: CommandMessage,
        now: str,
        counts: dict[str, int],
    ) -> dict[str, Any]:
        """Write the request's completed record: outcome and the event's counts after the plan.

        One conditional put serves a request the API recorded as pending and one nobody recorded
        (an import row); either way a second completion of the same request fails."""
        item = items.request_item(
            message.requestId,
            message.type,
            message.eventId,
            message.userId,
            "completed",
            message.createdAt or now,
            message.importId,
            message.row,
        )
        item.update(outcome=outcome_to_wire(change.outcome), completedAt=now, countsAfter=counts)
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(item),
                "ConditionExpression": "attribute_not_exists(PK) OR #status = :pending",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":pending": {"S": "pending"}},
            }
        }

    def _still_pending(self, request_id: str) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": key(items.request_pk(request_id), items.META),
                "ConditionExpression": "attribute_not_exists(PK) OR #status = :pending",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":pending": {"S": "pending"}},
            }
        }

    def _import_progress(self, plan: Plan, messages: dict[str, CommandMessage]) -> list[dict[str, Any]]:
        """Per import in this plan, one counter update on its import item (`IMPORT#{id}`)."""
        tallies: dict[str, dict[str, int]] = {}
        for complete in (c for c in plan.changes if isinstance(c, Complete)):
            import_id = messages[complete.request_id].importId
            if import_id:
                tally = tallies.setdefault(import_id, dict.fromkeys(IMPORT_COUNTERS.values(), 0))
                tally["decided"] += 1
                counter = IMPORT_COUNTERS.get(complete.outcome.kind)
                if counter:
                    tally[counter] += 1
        return [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": key(f"IMPORT#{import_id}", items.META),
                    "UpdateExpression": "ADD " + ", ".join(f"#{n} :{n}" for n in tally),
                    "ExpressionAttributeNames": {f"#{n}": n for n in tally},
                    "ExpressionAttributeValues": {f":{n}": {"N": str(v)} for n, v in tally.items()},
                }
            }
            for import_id, tally in tallies.items()
        ]

    # --- purge --------------------------------------------------------------------------------

    def purge(self, event_id: str) -> int:
        """Delete a deleted event's registrations, then the event; idempotent, safe to redeliver."""
        response = self._client.get_item(
            TableName=self._table, Key=key(items.event_pk(event_id), items.META), ConsistentRead=True
        )
        if "Item" in response and "deleting" not in response["Item"]:
            return 0  # the deletion was undone (its purge looked unsent): the event lives on
        removed = self._delete_registrations(event_id)
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=key(items.event_pk(event_id), items.META),
                ConditionExpression="deleting = :true",
                ExpressionAttributeValues={":true": {"BOOL": True}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # no condition failure: already gone, or re-created after the purge was queued
        return removed

    def _delete_registrations(self, event_id: str) -> int:
        removed = 0
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :reg)",
            ExpressionAttributeValues={":pk": {"S": items.event_pk(event_id)}, ":reg": {"S": "REG#"}},
            ProjectionExpression="PK, SK",
        )
        for page in pages:
            keys = page.get("Items", [])
            for start in range(0, len(keys), 25):
                request = {self._table: [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]}
                while request:
                    request = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems")
                removed += len(keys[start : start + 25])
        return removed


def _registration(item: dict[str, Any]) -> Registration:
    wait_seq = item.get("waitSeq")
    return Registration(item["userId"], Standing(item["status"]), None if wait_seq is None else int(wait_seq))


def _is_lost_race(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    if code in ("TransactionConflictException", "ConditionalCheckFailedException"):
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons", [])
    return any(r.get("Code") in ("ConditionalCheckFailed", "TransactionConflict") for r in reasons)
