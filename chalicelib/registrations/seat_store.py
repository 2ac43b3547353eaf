"""The registration worker's store: load one event's seats consistently, commit a plan atomically.

A commit is one TransactWriteItems. The seats item (the event's counters, in no index) and its
`seatVersion` condition serialize every decision on an event; an organizer's edit moves that
version too (`events.dynamodb`), and a capacity change the worker applies updates the event
item on the condition that its `version` (the ETag) is as loaded. The per-item conditions (each
registration still as the plan read it, `items.still`; each request still pending) are a second
line of defence and make a redelivered message a no-op. Every registration change is one
`Move`, written the same way: its `after` whole, or a delete.

Other features may add their own bookkeeping to the same transaction through a `CommitHook`
(the imports feature counts decided rows on its import item that way), so their counters are
exactly as committed as the decisions they count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import ClientError

from chalicelib.events.domain import Event, apply_changes
from chalicelib.events.items import DELETING, edited_attributes, event_from_item, is_deleting, is_event
from chalicelib.registrations.domain import (
    Complete,
    EventSeats,
    Move,
    Outcome,
    Plan,
    RequestStatus,
)
from chalicelib.registrations.items import (
    DECISION,
    PENDING_REQUEST,
    PENDING_VALUES,
    SEAT_VERSION,
    Joiners,
    MoveItems,
    Stamp,
    completed,
    decisions_made,
    edit_attributes,
    is_registration,
    joined_in,
    joiners_from_item,
    kept_decision,
    lane_progress,
    mark_ensured,
    mark_key,
    move_items,
    plans_joiners,
    registration_decision,
    registration_from_item,
    request_item,
    request_status,
    seat_attributes,
    still,
    stored_seats,
    waitlist_writes,
)
from chalicelib.registrations.lanes import LaneProgress, progressed
from chalicelib.registrations.ports import ConcurrentChange, RequestRecord, Snapshot, StoredWaitlist
from chalicelib.registrations.stored_waitlist import DynamoWaitlist, Head
from chalicelib.shared import table
from chalicelib.shared.dynamo import (
    applied,
    batch_get,
    batch_write,
    from_item,
    is_lost_race,
    set_update,
    to_item,
    to_value,
)

MAX_TRANSACTION_ITEMS = 100
PURGE_PAGE = 250  # registrations deleted between two looks at the clock
PURGE_RESERVE_SECONDS = 1.5


class CommitHook(Protocol):
    def writes(self, decided: list[tuple[RequestRecord, Outcome]]) -> list[dict[str, Any]]:
        """TransactWriteItems entries to commit with these decisions (request, outcome)."""
        ...


class DynamoSeatStore:
    def __init__(self, client: Any, table_name: str, hooks: tuple[CommitHook, ...] = ()) -> None:
        self._client = client
        self._table = table_name
        self._hooks = hooks
        self._waitlist = DynamoWaitlist(client, table_name)

    # --- load ---------------------------------------------------------------------------------

    def load(self, event_id: str, user_ids: set[str], request_ids: set[str], waitlist_size: int) -> Snapshot:
        """One consistent batch read of the event, the batch's users and (if asked) requests,
        plus the head of the waitlist when the batch may promote (`waitlist_size` > 0)."""
        fetched = batch_get(
            self._client,
            self._table,
            [table.event_key(event_id), table.seats_key(event_id)]
            + [table.registration_key(event_id, u) for u in user_ids]
            + [table.request_key(r) for r in request_ids],
        )
        meta = next((i for i in fetched if is_event(i)), None)
        seats_item = next((i for i in fetched if i["SK"] == table.SEATS), {})
        if meta is not None and is_deleting(meta):
            meta = None  # deleted by the organizer; the purge follows in this group
        statuses: dict[str, RequestStatus | None] = dict.fromkeys(request_ids)
        statuses.update(status for i in fetched if (status := request_status(i)) is not None)
        head = Head([], False)
        if meta is not None and waitlist_size:
            head = self._waitlist.head(event_id, waitlist_size)
        items = [i for i in fetched if is_registration(i)] + head.registrations
        registrations = {i["userId"]: registration_from_item(i) for i in items}
        joined = {i["userId"]: first for i in items if (first := joined_in(i)) is not None}
        joiners = head.joiners | self._joiners(event_id, set(joined.values()) - set(head.joiners))
        kept = {i["userId"]: decision for i in items if (decision := kept_decision(i)) is not None}
        # a request whose decision a registration keeps is decided, whether asked about or not
        statuses.update({registrations[user].request_id: RequestStatus.COMPLETED for user in kept})
        if meta is None:
            seats = EventSeats(event_id, False, False, 0, False, 0, 0, 0)
            return Snapshot(seats, 0, statuses)
        event, stored = event_from_item(meta, seats_item), stored_seats(meta, seats_item)
        seats = EventSeats(
            event_id=event_id,
            exists=True,
            is_open=event.is_open,
            capacity=event.capacity,
            waitlist_enabled=event.waitlist_enabled,
            confirmed=event.confirmed_count,
            waitlisted=event.waitlist_count,
            next_wait_seq=stored.next_wait_seq,
            registrations=registrations,
            waitlist=[entry["userId"] for entry in head.registrations],
            waitlist_complete=head.complete,
            version=event.version,
            changed_at=stored.changed_at,
            offered=event.offered_count,
            offer_ttl=event.waitlist_offer_ttl,
        )
        lane = lane_progress(seats_item)
        waitlist = StoredWaitlist(joiners, joined)
        return Snapshot(seats, stored.seat_version, statuses, event, lane, kept, waitlist)

    def _joiners(self, event_id: str, firsts: set[int]) -> dict[int, Joiners]:
        """The joiners items of the batch's waitlisted users that the head read did not reach
        (a cancellation from the middle of the waitlist takes its user out of theirs)."""
        keys = [table.joiners_key(event_id, first) for first in sorted(firsts)]
        return dict(joiners_from_item(i) for i in batch_get(self._client, self._table, keys)) if keys else {}

    # --- commit -------------------------------------------------------------------------------

    def commit(self, snapshot: Snapshot, plan: Plan, requests: dict[str, RequestRecord], now: str) -> None:
        event_id = snapshot.seats.event_id
        owner = snapshot.loaded.owner_id if snapshot.loaded is not None else ""
        stamp = Stamp.after(plan, owner)
        writes = self._event_writes(snapshot, plan, requests, now)
        made = decisions_made(plan, requests, now)
        joining = min(plans_joiners(plan), default=None)  # the plan's joiners item
        for change in plan.changes:  # a capacity change: the event item's update carries it
            if isinstance(change, Move):
                kept = snapshot.kept.get(change.user_id)
                making = made.get(change.after.request_id) if change.after is not None else None
                moved = move_items(event_id, change, stamp, kept, making, joining)
                writes += self._move_writes(event_id, moved, change)
            elif isinstance(change, Complete) and change.request_id not in made:
                writes.append(self._complete(change, requests[change.request_id], now, stamp))
        writes += self._waitlist_writes(event_id, plan, snapshot.waitlist)
        decided = [(requests[c.request_id], c.outcome) for c in plan.changes if isinstance(c, Complete)]
        for hook in self._hooks:
            writes += hook.writes(decided)
        if plan.continuing is not None:
            writes.append(self._still_pending(plan.continuing))
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"a plan of {len(writes)} writes exceeds one transaction")
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if is_lost_race(error):
                raise ConcurrentChange(str(error)) from None
            raise

    def _event_writes(
        self, snapshot: Snapshot, plan: Plan, requests: dict[str, RequestRecord], now: str
    ) -> list[dict[str, Any]]:
        """The seats item's update, required as loaded (`seatVersion`: every decision moves it,
        and every edit); with an edit the worker applies (a capacity change), the event item's
        update too, required at the `version` (the ETag) it was loaded at."""
        event_id = snapshot.seats.event_id
        event = snapshot.loaded
        if event is None:
            return [
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": table.event_key(event_id),
                        "ConditionExpression": f"attribute_not_exists(PK) OR {DELETING} = :true",
                        "ExpressionAttributeValues": {":true": {"BOOL": True}},
                    }
                }
            ]
        lane = _lane_after(snapshot, plan, requests, now)
        seats = seat_attributes(plan, snapshot.seat_version + 1, lane)
        loaded = {":loaded": snapshot.seat_version} if snapshot.seat_version else {}
        condition = f"{SEAT_VERSION} = :loaded" if loaded else f"attribute_not_exists({SEAT_VERSION})"
        writes = [self._update(table.seats_key(event_id), seats, condition, loaded)]
        if plan.version != event.version or plan.capacity is not None:
            edited = edit_attributes(plan)
            if plan.capacity is not None:
                edited.update(self._event_changes(event, plan, now))
            as_loaded = {":loaded": event.version}
            writes.append(self._update(table.event_key(event_id), edited, "#version = :loaded", as_loaded))
        return writes

    def _waitlist_writes(self, event_id: str, plan: Plan, stored: StoredWaitlist) -> list[dict[str, Any]]:
        """The plan's joiners item, and the joiners items of whoever leaves the waitlist, rewritten
        without them (or deleted, emptied). The seats item's condition guards them."""
        written = waitlist_writes(event_id, plan, stored.joiners, stored.joined)
        puts = [{"Put": {"TableName": self._table, "Item": to_item(item)}} for item in written.puts]
        return puts + [{"Delete": {"TableName": self._table, "Key": key}} for key in written.deletes]

    def _update(
        self, key: dict[str, Any], values: dict[str, Any], condition: str, condition_values: dict[str, Any]
    ) -> dict[str, Any]:
        """A transaction's `SET` of these attributes, on a condition."""
        return {"Update": set_update(self._table, key, values, condition, condition_values)}

    @staticmethod
    def _event_changes(event: Event, plan: Plan, now: str) -> dict[str, Any]:
        """The organizer's field changes of the capacity changes this plan completes."""
        changed = event
        for edit in plan.edits:
            changed = apply_changes(changed, dict(edit.fields), now)
        return {**edited_attributes(changed), "capacity": plan.capacity, "updatedAt": now}

    def _move_writes(self, event_id: str, items: MoveItems, move: Move) -> list[dict[str, Any]]:
        """A move as transaction items: `after` written whole, or the item deleted, only while the
        item is still `before` (so a redelivered batch, or a lost race, changes nothing); and the
        request item a decision the registration kept moves to."""
        condition, names, values = still(move.before)
        guarded: dict[str, Any] = {"TableName": self._table, "ConditionExpression": condition}
        if names:
            guarded.update(
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={name: to_value(value) for name, value in values.items()},
            )
        if items.registration is None:
            writes = [{"Delete": {**guarded, "Key": table.registration_key(event_id, move.user_id)}}]
        else:
            writes = [{"Put": {**guarded, "Item": to_item(items.registration)}}]
        if items.moved_decision is not None:
            writes.append({"Put": {"TableName": self._table, "Item": to_item(items.moved_decision)}})
        if items.ensures_mark:
            key, expression, values = mark_ensured(event_id, move.user_id)
            plain = {name: to_value(value) for name, value in values.items()}
            update = {"Key": key, "UpdateExpression": expression, "ExpressionAttributeValues": plain}
            writes.append({"Update": {"TableName": self._table, **update}})
        return writes

    def _complete(self, change: Complete, request: RequestRecord, now: str, stamp: Stamp) -> dict[str, Any]:
        """Write the request's completed record: outcome and the event's counts after the plan.

        One conditional put serves a request the API recorded as pending and one nobody recorded
        (an import row); either way a second completion of the same request fails."""
        item = completed(request_item(request), change.outcome, now, stamp)
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(item),
                "ConditionExpression": PENDING_REQUEST,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": PENDING_VALUES,
            }
        }

    def _still_pending(self, request_id: str) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": table.request_key(request_id),
                "ConditionExpression": PENDING_REQUEST,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": PENDING_VALUES,
            }
        }

    # --- purge --------------------------------------------------------------------------------

    def purge(self, event_id: str, time_left: Callable[[], float] | None = None) -> tuple[int, bool]:
        """Delete a deleted event's registrations a page at a time while `time_left` allows, then
        the event: (deleted, finished). Idempotent: a continuation picks up what is left."""
        response = self._client.get_item(
            TableName=self._table, Key=table.event_key(event_id), ConsistentRead=True
        )
        if "Item" in response and not is_deleting(response["Item"]):
            return 0, True  # the deletion was undone (its purge looked unsent): the event lives on
        removed, finished = self._delete_registrations(event_id, time_left)
        if not finished:
            return removed, False
        if not self._delete_joiners(event_id, time_left):
            return removed, False
        self._client.delete_item(TableName=self._table, Key=table.seats_key(event_id))
        # False when already gone, or re-created after the purge was queued: nothing to do then.
        applied(
            self._client.delete_item,
            TableName=self._table,
            Key=table.event_key(event_id),
            ConditionExpression="deleting = :true",
            ExpressionAttributeValues={":true": {"BOOL": True}},
        )
        return removed, True

    def _delete_joiners(self, event_id: str, time_left: Callable[[], float] | None) -> bool:
        """The waitlist's joiners items, a page at a time while `time_left` allows (after the
        registrations: a crash between leaves items naming nobody, which the next attempt
        deletes). Whether they are all gone."""
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :joiners)",
            ExpressionAttributeValues={
                ":pk": {"S": table.event_pk(event_id)},
                ":joiners": {"S": table.JOINERS_PREFIX},
            },
            ProjectionExpression="PK, SK",
            PaginationConfig={"PageSize": PURGE_PAGE},
        )
        for index, page in enumerate(pages):
            if index and time_left is not None and time_left() < PURGE_RESERVE_SECONDS:
                return False
            keys = page.get("Items", [])
            batch_write(self._client, self._table, [{"DeleteRequest": {"Key": k}} for k in keys])
        return True

    def _delete_registrations(self, event_id: str, time_left: Callable[[], float] | None) -> tuple[int, bool]:
        """Each page of registrations goes with their people's marks for the event (their lists
        of events), the marks first: a crash between leaves registrations, which the next
        attempt finds again."""
        removed = 0
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :reg)",
            ExpressionAttributeValues={
                ":pk": {"S": table.event_pk(event_id)},
                ":reg": {"S": table.REGISTRATION_PREFIX},
            },
            ProjectionExpression="PK, SK, eventId, userId, requestId, #decision",
            ExpressionAttributeNames={"#decision": DECISION},
            PaginationConfig={"PageSize": PURGE_PAGE},
        )
        for page in pages:
            if removed and time_left is not None and time_left() < PURGE_RESERVE_SECONDS:
                return removed, False
            items = [from_item(i) for i in page.get("Items", [])]
            # the decisions these registrations keep move to request items first (a crash
            # between the two leaves the registrations, and the next attempt writes them again)
            decisions = [registration_decision(i, i["requestId"]) for i in items if i.get(DECISION)]
            moved = [{"PutRequest": {"Item": to_item(d)}} for d in decisions if d is not None]
            deletes = [{"DeleteRequest": {"Key": table.key(i["PK"], i["SK"])}} for i in items]
            marks = [{"DeleteRequest": {"Key": mark_key(event_id, i["userId"])}} for i in items]
            batch_write(self._client, self._table, moved + marks + deletes)
            removed += len(items)
        return removed, True


def _lane_after(snapshot: Snapshot, plan: Plan, requests: dict[str, RequestRecord], now: str) -> LaneProgress:
    """The event's lane once this plan is committed: the requests it decides, and when they were
    accepted."""
    decided = [requests[c.request_id] for c in plan.changes if isinstance(c, Complete)]
    return progressed(snapshot.lane, [r.created_at for r in decided], now)
