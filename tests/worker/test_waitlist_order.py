"""The waitlist's order is the joiners items (`EVENT#{eventId}` / `WAIT#{firstSeq}`, one per
decided batch that waitlisted anyone, holding those of its joiners still waiting), not an index
entry per registration; registrations waitlisted before the joiners items keep their LSI1 entry
(`waitSeq`) and stay ahead of every joiner. On DynamoDB Local, through the worker's handler."""

from __future__ import annotations

from typing import Any

from chalicelib.events.dynamodb import DynamoEventRepository
from chalicelib.registrations.dynamodb import DynamoRegistrationQueries
from chalicelib.shared import table
from chalicelib.shared.dynamo import from_item
from tests.worker.conftest import cancel, fifo_record, register
from workers.registration import handler


def decide(event: str, *messages: dict) -> None:
    assert handler({"Records": [fifo_record(m, event) for m in messages]}, None) == {"batchItemFailures": []}


def joiners_items(world, event: str) -> dict[int, dict[int, str]]:
    response = world.client.query(
        TableName=world.table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :wait)",
        ExpressionAttributeValues={":pk": {"S": table.event_pk(event)}, ":wait": {"S": "WAIT#"}},
        ConsistentRead=True,
    )
    items = [from_item(i) for i in response["Items"]]
    return {int(i["SK"][5:]): {int(seq): user for seq, user in i["joiners"].items()} for i in items}


def lsi1_entries(world, event: str) -> list[str]:
    response = world.client.query(
        TableName=world.table,
        IndexName=table.LSI1,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": table.event_pk(event)}},
    )
    return [from_item(i)["userId"] for i in response["Items"]]


def registration(world, event: str, user: str) -> dict[str, Any]:
    key = table.registration_key(event, user)
    return from_item(world.client.get_item(TableName=world.table, Key=key, ConsistentRead=True)["Item"])


def waitlist(world, event: str, page: int) -> list[tuple[str, int]]:
    """The event's waitlist listing, read `page` entries at a time: (user, position)."""
    queries = DynamoRegistrationQueries(world.client, world.table, count_page=page)
    shown: list[tuple[str, int]] = []
    after = None
    for _ in range(50):
        rows, after = queries.for_event(event, "waitlisted", page, after)
        shown += [(r["userId"], r["position"]) for r in rows]
        if after is None:
            return shown
    raise AssertionError("the listing never ended")


def positions(world, event: str, users: list[str]) -> list[int]:
    """Each waiting person's position, as their own listing shows it."""
    queries = DynamoRegistrationQueries(world.client, world.table, count_page=1)
    found = []
    for user in users:
        rows, _ = queries.for_user(user, "waitlisted", 10, None)
        found += [r["position"] for r in rows if r["eventId"] == event]
    return found


def as_stored_before(world, event: str) -> None:
    """Rewrite the event's waitlisted registrations as the code before the joiners items stored
    them (their place as `waitSeq`, LSI1's key), and drop the joiners items."""
    for user in {u for content in joiners_items(world, event).values() for u in content.values()}:
        world.client.update_item(
            TableName=world.table,
            Key=table.registration_key(event, user),
            UpdateExpression="SET waitSeq = waitlistSeq REMOVE waitlistSeq, joinersItem",
        )
    for first in joiners_items(world, event):
        world.client.delete_item(TableName=world.table, Key=table.joiners_key(event, first))


def test_a_batch_writes_its_joiners_in_one_item_and_no_index_entry(world):
    event = world.event(capacity=1)
    decide(event, *[register(event, user) for user in ("ada", "bob", "cy", "dan")])
    decide(event, *[register(event, user) for user in ("eve", "fay")])
    assert joiners_items(world, event) == {1: {1: "bob", 2: "cy", 3: "dan"}, 4: {4: "eve", 5: "fay"}}
    assert lsi1_entries(world, event) == []
    bob = registration(world, event, "bob")
    assert (bob["waitlistSeq"], bob["joinersItem"], "waitSeq" in bob) == (1, 1, False)
    assert waitlist(world, event, page=2) == [("bob", 1), ("cy", 2), ("dan", 3), ("eve", 4), ("fay", 5)]
    assert positions(world, event, ["dan", "fay"]) == [3, 5]


def test_whoever_leaves_the_waitlist_leaves_their_item_and_an_emptied_item_goes(world):
    event = world.event(capacity=1)
    decide(event, *[register(event, user) for user in ("ada", "bob", "cy")])
    decide(event, register(event, "dan"))
    decide(event, cancel(event, "cy"))  # from the middle: their item is read for it
    assert joiners_items(world, event) == {1: {1: "bob"}, 3: {3: "dan"}}
    decide(event, cancel(event, "ada"))  # bob is promoted: his item is emptied
    assert registration(world, event, "bob")["status"] == "confirmed"
    assert joiners_items(world, event) == {3: {3: "dan"}}
    assert waitlist(world, event, page=1) == [("dan", 1)]
    assert positions(world, event, ["dan"]) == [1]


def test_registrations_waitlisted_before_the_joiners_items_stay_ahead_of_every_joiner(world):
    event = world.event(capacity=1)
    decide(event, *[register(event, user) for user in ("ada", "old1", "old2", "old3")])
    as_stored_before(world, event)
    assert lsi1_entries(world, event) == ["old1", "old2", "old3"]
    decide(event, *[register(event, user) for user in ("new1", "new2")])
    assert joiners_items(world, event) == {4: {4: "new1", 5: "new2"}}
    order = ["old1", "old2", "old3", "new1", "new2"]
    assert waitlist(world, event, page=2) == [(user, i + 1) for i, user in enumerate(order)]
    assert positions(world, event, order) == [1, 2, 3, 4, 5]

    decide(event, cancel(event, "old2"))  # an LSI1 entry leaves with its registration's move
    decide(event, cancel(event, "ada"))  # the head, in LSI1, takes the seat
    assert registration(world, event, "old1")["status"] == "confirmed"
    assert lsi1_entries(world, event) == ["old3"]
    decide(event, cancel(event, "old1"), cancel(event, "old3"))  # and past LSI1's end, new1
    assert registration(world, event, "new1")["status"] == "confirmed"
    assert (lsi1_entries(world, event), joiners_items(world, event)) == ([], {4: {5: "new2"}})
    assert waitlist(world, event, page=1) == [("new2", 1)]


def test_a_cursor_issued_while_the_waitlist_was_read_from_lsi1_alone_still_pages(world):
    event = world.event(capacity=1)
    decide(event, *[register(event, user) for user in ("ada", "old1", "old2")])
    as_stored_before(world, event)
    decide(event, register(event, "new1"))
    old2 = registration(world, event, "old2")
    cursor = {"PK": old2["PK"], "SK": old2["SK"], "waitSeq": old2["waitSeq"], "offset": 2}
    rows, after = DynamoRegistrationQueries(world.client, world.table).for_event(
        event, "waitlisted", 5, cursor
    )
    assert ([(r["userId"], r["position"]) for r in rows], after) == ([("new1", 3)], None)


def test_the_purge_takes_the_joiners_items_with_the_registrations(world):
    event = world.event(capacity=1)
    decide(event, *[register(event, user) for user in ("ada", "bob", "cy")])
    decide(event, register(event, "dan"))
    assert DynamoEventRepository(world.client, world.table).mark_deleting(event)
    decide(event, {"type": "purge_event", "requestId": f"purge-{event}", "eventId": event})
    assert joiners_items(world, event) == {}
    assert world.table_items(event) == []


def test_a_capacity_raise_promotes_across_many_joiners_items_in_one_commit(world):
    """A batch of one joiner per item (a quiet event's) promoted at once: each emptied item is
    one more write in the promoting transaction, which stays within DynamoDB's limit."""
    event = world.event(capacity=1)
    users = [f"u{i:02d}" for i in range(31)]
    for user in users:
        decide(event, register(event, user))
    assert len(joiners_items(world, event)) == 30
    change = {
        "type": "change_capacity",
        "requestId": f"raise-{event}",
        "eventId": event,
        "capacity": 31,
        "createdAt": "2026-01-01T00:00:00.000000Z",
    }
    decide(event, change, *[register(event, f"late{i}") for i in range(9)])
    assert [registration(world, event, u)["status"] for u in users] == ["confirmed"] * 31
    assert joiners_items(world, event) == {31: {31 + i: f"late{i}" for i in range(9)}}
