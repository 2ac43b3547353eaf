"""A person's list of events is their marks (`USER#{userId}` / `REG#{eventId}`), not an index of
the registration items: the API's mark of a register or cancel, or, for a registration made
without one (an import's row), a bare mark the worker's commit makes. The listing reads the
marks, then their registrations, and shows those of the standing asked for."""

from __future__ import annotations

import uuid
from dataclasses import replace

from chalicelib.registrations.dynamodb import DynamoRegistrationQueries, DynamoRequestRepository
from chalicelib.registrations.items import marked_request_id
from chalicelib.registrations.ports import RequestRecord
from chalicelib.shared import resources, table
from chalicelib.shared.dynamo import from_item
from devstack.bootstrap import create_table
from tests.worker.conftest import cancel, fifo_record, register
from workers.registration import handler


def decide(event: str, *messages: dict) -> None:
    assert handler({"Records": [fifo_record(m, event) for m in messages]}, None) == {"batchItemFailures": []}


def api_register(world, event: str, user: str) -> dict:
    """A register as the API queues it: kept as the person's mark, its id naming event and user."""
    request_id = marked_request_id(event, user, uuid.uuid4().hex)
    record = RequestRecord(request_id, "register", event, user, "pending", "2026-01-01T00:00:00.000000Z")
    assert DynamoRequestRepository(world.client, world.table).claim(record, 0) is None
    return register(event, user, request_id)


def mark_of(world, event: str, user: str) -> dict | None:
    found = world.client.get_item(TableName=world.table, Key=table.mark_key(user, event), ConsistentRead=True)
    return from_item(found["Item"]) if "Item" in found else None


def listed(world, user: str, status: str, page: int = 2) -> list[tuple[str, str]]:
    queries = DynamoRegistrationQueries(world.client, world.table, count_page=page)
    rows, after, shown = [], None, []
    for _ in range(20):
        rows, after = queries.for_user(user, status, page, after)
        shown += [(r["eventId"], r["status"]) for r in rows]
        if after is None:
            return shown
    raise AssertionError("the listing never ended")


def test_a_person_registered_through_the_api_is_listed_by_their_mark_alone(world):
    user = f"ada-{uuid.uuid4().hex[:6]}"
    events = sorted(world.event(capacity=5) for _ in range(3))
    for event in events:
        decide(event, api_register(world, event, user))
    assert listed(world, user, "confirmed") == [(event, "confirmed") for event in events]
    item = world.client.get_item(TableName=world.table, Key=table.registration_key(events[0], user))["Item"]
    assert not [name for name in item if name.startswith("GSI1")], "in no index of a user's"
    assert "expiresAt" not in mark_of(world, events[0], user), "the mark stays: it is the list"


def test_a_registration_made_without_a_mark_gets_a_bare_one_that_the_api_can_take(world):
    event, user = world.event(capacity=5), f"bo-{uuid.uuid4().hex[:6]}"
    decide(event, register(event, user, f"import-row-{uuid.uuid4().hex[:6]}"))  # an import's row
    bare = mark_of(world, event, user)
    assert bare is not None and "requestId" not in bare
    assert listed(world, user, "confirmed") == [(event, "confirmed")]
    leave = api_register(world, event, user)  # the API takes the bare mark for a pending request
    assert mark_of(world, event, user)["requestId"] == leave["requestId"]
    decide(event, {**cancel(event, user), "requestId": leave["requestId"]})
    assert listed(world, user, "confirmed") == []


def test_marks_without_a_registration_of_that_standing_are_read_past(world):
    """A page of the listing reads on past marks whose registration is of another standing, or
    gone (a rejection, a cancellation), until it is full; the next page starts after the last
    one shown."""
    user = f"cy-{uuid.uuid4().hex[:6]}"
    full = world.event(capacity=0, waitlist=False)
    decide(full, api_register(world, full, user))  # rejected: a mark, no registration
    seated = sorted(world.event(capacity=1) for _ in range(3))
    for event in seated:
        decide(event, api_register(world, event, user))
    waiting = world.event(capacity=0)
    decide(waiting, api_register(world, waiting, user))
    assert listed(world, user, "confirmed", page=1) == [(event, "confirmed") for event in seated]
    assert listed(world, user, "active", page=2) == [
        *[(event, "confirmed") for event in seated],
        (waiting, "waitlisted"),
    ]


def test_the_events_purge_takes_its_peoples_marks_with_their_registrations(world):
    from chalicelib.events.dynamodb import DynamoEventRepository

    event = world.event(capacity=5)
    users = [f"{event}-u{i}" for i in range(3)]
    decide(event, *[api_register(world, event, user) for user in users])
    assert DynamoEventRepository(world.client, world.table).mark_deleting(event)
    decide(event, {"type": "purge_event", "requestId": f"purge-{event}", "eventId": event})
    assert [mark_of(world, event, user) for user in users] == [None, None, None]
    assert listed(world, users[0], "confirmed") == []


def table_of_its_own(world, *partitions: str) -> str:
    """A new table holding copies of these partitions (the backfill scans a whole table: the
    shared one holds every earlier test's items)."""
    name = f"backfill-{uuid.uuid4().hex[:8]}"
    create_table(world.client, replace(resources.TABLE, name=name))
    for pk in partitions:
        found = world.client.query(
            TableName=world.table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        )
        for item in found["Items"]:
            world.client.put_item(TableName=name, Item=item)
    return name


def test_the_backfill_gives_registrations_stored_before_their_marks(world, capsys):
    """A registration stored before marks were the people's lists (in the user index only, and
    no mark) is listed once the backfill has run; a mark holding a pending request stays as it
    is; running it again changes nothing."""
    from devstack.backfill import main

    event, user, pending_user = (
        world.event(capacity=5),
        f"old-{uuid.uuid4().hex[:6]}",
        f"p-{uuid.uuid4().hex[:6]}",
    )
    decide(event, register(event, user, f"import-row-{uuid.uuid4().hex[:6]}"))
    world.client.delete_item(TableName=world.table, Key=table.mark_key(user, event))  # as stored before
    decide(event, register(event, pending_user, f"import-row-{uuid.uuid4().hex[:6]}"))
    held = api_register(world, event, pending_user)  # a pending request holds this person's mark
    partitions = [table.event_pk(event), table.user_pk(user), table.user_pk(pending_user)]
    own = replace(world, table=table_of_its_own(world, *partitions))
    assert listed(own, user, "confirmed") == []

    assert main(own.client, own.table) == 0
    assert main(own.client, own.table) == 0
    assert listed(own, user, "confirmed") == [(event, "confirmed")]
    assert mark_of(own, event, pending_user)["requestId"] == held["requestId"]
    assert "registrations given their marks: 2, done" in capsys.readouterr().err
