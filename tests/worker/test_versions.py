"""Two versions on the event item: `version` (the ETag, If-Match) moves only with edits;
`seatVersion` with every decision. A queued capacity change keeps its If-Match until it is
decided, an old one redriven later never undoes a newer one, and an organizer's edit between the
worker's read and its commit makes the worker decide again."""

from __future__ import annotations

import uuid
from dataclasses import replace

from chalicelib import bootstrap
from chalicelib.events.domain import EventStatus
from chalicelib.events.dynamodb import DynamoEventRepository
from tests.worker.conftest import fifo_record, register
from workers.registration import handler


def change(event_id: str, capacity: int, **fields) -> dict:
    return {
        "type": "change_capacity",
        "requestId": uuid.uuid4().hex,
        "eventId": event_id,
        "capacity": capacity,
        **fields,
    }


def run(event_id: str, *messages: dict) -> None:
    assert handler({"Records": [fifo_record(m, event_id) for m in messages]}, None) == {
        "batchItemFailures": []
    }


def test_registrations_do_not_move_the_etag(world):
    event = world.event(capacity=2)
    run(event, *(register(event, u) for u in "abc"))
    run(event, register(event, "d"))
    stored = DynamoEventRepository(world.client, world.table).get(event)
    assert (stored.version, stored.confirmed_count, stored.waitlist_count) == (1, 2, 2)


def test_two_changes_made_against_one_version_apply_once(world):
    event = world.event(capacity=2)
    first, second = change(event, 5, expectedVersion=1), change(event, 9, expectedVersion=1)
    run(event, first, second)
    assert world.request(first["requestId"])["outcome"] == {"type": "capacity_changed", "capacity": 5}
    assert world.request(second["requestId"])["outcome"] == {
        "type": "rejected",
        "reason": "precondition_failed",
    }
    stored = DynamoEventRepository(world.client, world.table).get(event)
    assert (stored.capacity, stored.version) == (5, 2)


def test_an_old_change_redriven_after_a_newer_one_is_superseded(world):
    event = world.event(capacity=2)
    older = change(event, 3, createdAt="2026-01-01T00:00:01.000000Z")
    newer = change(event, 7, createdAt="2026-01-01T00:00:02.000000Z")
    run(event, newer)
    run(event, older)  # it sat in the dead-letter queue, and was redriven
    assert world.request(older["requestId"])["outcome"] == {"type": "rejected", "reason": "superseded"}
    assert DynamoEventRepository(world.client, world.table).get(event).capacity == 7


def test_an_edit_between_the_workers_read_and_its_commit_is_decided_again(world):
    """The organizer closes the event while a registration is being decided: the worker's commit
    loses the race and the registration is decided on the closed event."""
    event = world.event(capacity=5)
    events = DynamoEventRepository(world.client, world.table)
    store = bootstrap.services().decisions.store
    real_load, loads = store.load, []

    def load_then_edit(*args, **kwargs):
        snapshot = real_load(*args, **kwargs)
        if not loads:
            current = events.get(event)
            assert events.update(replace(current, status=EventStatus.CLOSED, version=2), expected_version=1)
        loads.append(1)
        return snapshot

    store.load = load_then_edit
    try:
        message = register(event, "a")
        run(event, message)
    finally:
        store.load = real_load
    assert len(loads) == 2, "the commit lost the race and the batch was read again"
    assert world.request(message["requestId"])["outcome"] == {"type": "rejected", "reason": "event_closed"}
    stored = events.get(event)
    assert (stored.status, stored.version, stored.confirmed_count) == (EventStatus.CLOSED, 2, 0)
