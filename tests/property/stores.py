"""Read back one event's stored seats, from either store, in one shape for comparison."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.registrations.domain import Standing
from chalicelib.registrations.items import registration_from_item
from chalicelib.registrations.memory import MemorySeatStore
from chalicelib.registrations.seat_store import DynamoSeatStore
from chalicelib.registrations.stored_waitlist import DynamoWaitlist
from chalicelib.shared.dynamo import from_item
from chalicelib.shared.table import key


@dataclass(frozen=True)
class StoredSeats:
    capacity: int
    is_open: bool
    confirmed_count: int
    waitlist_count: int
    confirmed: frozenset[str]
    waitlist: tuple[str, ...]  # in waitlist order
    offered_count: int = 0
    offers: frozenset[tuple[str, str]] = frozenset()  # (user, offer expires at)
    ended: frozenset[tuple[str, str]] = frozenset()  # (user, declined | offer_expired)


def read_memory(store: MemorySeatStore, event_id: str) -> StoredSeats:
    event = store.events[event_id]
    registrations = store.registrations[event_id].values()
    waiting = sorted(
        (r for r in registrations if r.standing is Standing.WAITLISTED), key=lambda r: r.wait_seq
    )
    return StoredSeats(
        capacity=event["capacity"],
        is_open=event["is_open"],
        confirmed_count=event["confirmed"],
        waitlist_count=event["waitlisted"],
        confirmed=frozenset(r.user_id for r in registrations if r.standing is Standing.CONFIRMED),
        waitlist=tuple(r.user_id for r in waiting),
        offered_count=event["offered"],
        offers=frozenset(
            (r.user_id, r.offer_expires_at or "") for r in registrations if r.standing is Standing.OFFERED
        ),
        ended=frozenset((r.user_id, r.standing.value) for r in registrations if not r.standing.is_active),
    )


def read_dynamo(client: Any, table: str, event_id: str) -> StoredSeats:
    meta = from_item(
        client.get_item(TableName=table, Key=key(f"EVENT#{event_id}", "META"), ConsistentRead=True)["Item"]
    )
    stored = client.get_item(TableName=table, Key=key(f"EVENT#{event_id}", "SEATS"), ConsistentRead=True)
    seats = from_item(stored.get("Item", {}))  # the counters, once a decision has written them
    rows = []
    for page in client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :reg)",
        ExpressionAttributeValues={":pk": {"S": f"EVENT#{event_id}"}, ":reg": {"S": "REG#"}},
        ConsistentRead=True,
    ):
        rows += [from_item(i) for i in page["Items"]]
    waiting = sorted(
        (r for r in rows if r["status"] == "waitlisted"),
        key=lambda r: registration_from_item(r).wait_seq or 0,
    )
    # the order the worker and the listings read (joiners items, and LSI1's entries from before
    # them) holds exactly the waitlisted registrations, in their places' order
    stored_order = [
        place.user_id or item["userId"]
        for place, item in DynamoWaitlist(client, table).places(event_id, None)
    ]
    assert stored_order == [r["userId"] for r in waiting], "the joiners items are not the waitlist"
    return StoredSeats(
        capacity=meta["capacity"],
        is_open=meta["status"] == "active",
        confirmed_count=seats.get("confirmedCount", 0),
        waitlist_count=seats.get("waitlistCount", 0),
        confirmed=frozenset(r["userId"] for r in rows if r["status"] == "confirmed"),
        waitlist=tuple(r["userId"] for r in waiting),
        offered_count=seats.get("offeredCount", 0),
        offers=frozenset((r["userId"], r["offerExpiresAt"]) for r in rows if r["status"] == "offered"),
        ended=frozenset(
            (r["userId"], r["status"]) for r in rows if r["status"] in ("declined", "offer_expired")
        ),
    )


def dynamo_reader(store: DynamoSeatStore):
    return lambda event_id: read_dynamo(store._client, store._table, event_id)
