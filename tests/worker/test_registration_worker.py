"""workers.registration.handler with FIFO batches: order, partial failure, redelivery, DLQ."""

from __future__ import annotations

import itertools
import json
import time
import uuid

import pytest

from chalicelib import bootstrap
from devstack.runner import QueuePoller
from tests.worker.conftest import cancel, fifo_record, register
from workers.registration import handler


def outcome(world, message) -> dict:
    return world.request(message["requestId"])["outcome"]


def test_one_groups_batch_is_decided_in_order(world):
    event = world.event(capacity=2)
    messages = [register(event, u) for u in ("a", "b", "c", "d")]
    result = handler({"Records": [fifo_record(m, event) for m in messages]}, None)
    assert result == {"batchItemFailures": []}
    assert [outcome(world, m) for m in messages] == [
        {"type": "confirmed"},
        {"type": "confirmed"},
        {"type": "waitlisted", "position": 1},
        {"type": "waitlisted", "position": 2},
    ]


def test_cancellation_promotes_the_head_of_the_waitlist_in_the_same_batch(world):
    event = world.event(capacity=1)
    first = [register(event, "a"), register(event, "b"), register(event, "c")]
    handler({"Records": [fifo_record(m, event) for m in first]}, None)
    leaving = cancel(event, "a")
    handler({"Records": [fifo_record(leaving, event)]}, None)
    assert outcome(world, leaving) == {"type": "cancelled", "promotedUserId": "b"}
    statuses = {i["userId"]: i["status"] for i in world.table_items(event) if i["SK"].startswith("REG#")}
    assert statuses == {"b": "confirmed", "c": "waitlisted"}


def test_a_failing_group_reports_all_its_records_and_spares_the_others(world):
    healthy, broken = world.event(capacity=5), world.event(capacity=5)
    real_store = bootstrap.services().decisions.store

    class FailingFor:
        def __getattr__(self, name):
            return getattr(real_store, name)

        def load(self, event_id, *args, **kwargs):
            if event_id == broken:
                raise ConnectionError("DynamoDB unreachable (test)")
            return real_store.load(event_id, *args, **kwargs)

    bootstrap.services().decisions.store = FailingFor()
    records = [
        fifo_record(register(broken, "x"), broken),
        fifo_record(register(healthy, "y"), healthy),
        fifo_record(register(broken, "z"), broken),
    ]
    result = handler({"Records": records}, None)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {records[0]["messageId"], records[2]["messageId"]}
    assert outcome(world, json.loads(records[1]["body"])) == {"type": "confirmed"}


def test_redelivering_the_same_batch_changes_nothing(world):
    event = world.event(capacity=1)
    records = [
        fifo_record(m, event) for m in (register(event, "a"), register(event, "b"), cancel(event, "a"))
    ]
    handler({"Records": records}, None)
    once = world.table_items(event)
    outcomes = [world.request(json.loads(r["body"])["requestId"]) for r in records]
    handler({"Records": records}, None)
    assert world.table_items(event) == once
    assert [world.request(json.loads(r["body"])["requestId"]) for r in records] == outcomes


def test_malformed_and_misrouted_messages_go_to_the_dlq_without_blocking_the_group(world):
    event = world.event(capacity=3)
    bad = fifo_record("{not json", event)
    misrouted = fifo_record(register("another-event", "m"), event)
    good = fifo_record(register(event, "g"), event)
    result = handler({"Records": [bad, misrouted, good]}, None)
    assert result == {"batchItemFailures": []}
    assert outcome(world, json.loads(good["body"])) == {"type": "confirmed"}
    dlq = world.environment["TURNSTILE_REGISTRATIONS_DLQ_URL"]
    received = world.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"])[
        "Messages"
    ]
    bodies = {m["Body"]: m["MessageAttributes"]["error"]["StringValue"] for m in received}
    assert "{not json" in bodies
    assert "is not the message group" in bodies[misrouted["body"]]


def test_a_crash_between_commit_and_delete_leaves_the_state_of_one_clean_delivery(world):
    """Through the real queue: the first invocation commits then dies before the runner deletes."""
    queue = world.environment["TURNSTILE_REGISTRATIONS_QUEUE_URL"]
    crashed, clean = world.event(capacity=1), world.event(capacity=1)
    for user in ("a", "b", "c"):
        body = register(crashed, user, request_id=f"{crashed}-{user}")
        world.sqs.send_message(
            QueueUrl=queue,
            MessageBody=json.dumps(body),
            MessageGroupId=crashed,
            MessageDeduplicationId=body["requestId"],
        )
    clean_batch = [fifo_record(register(clean, u, request_id=f"{clean}-{u}"), clean) for u in "abc"]
    handler({"Records": clean_batch}, None)

    def commit_then_crash(event, context):
        handler(event, context)
        raise SystemError("Lambda died after the commit, before SQS heard back")

    dying = QueuePoller(queue, commit_then_crash, name="dying", retry_delay=0, sqs=world.sqs)
    assert dying.poll_once(wait_seconds=1) == 3
    assert world.request(f"{crashed}-a")["status"] == "completed", "the crashed run had committed"
    healthy = QueuePoller(queue, handler, name="healthy", sqs=world.sqs)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not healthy.poll_once(wait_seconds=0):
            attrs = world.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
            if attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
                break
    assert world.table_items(crashed) == world.table_items(clean)
    for user in ("a", "b", "c"):
        assert world.request(f"{crashed}-{user}")["outcome"] == world.request(f"{clean}-{user}")["outcome"]


def test_a_redelivered_capacity_raise_is_a_no_op_on_dynamodb_even_in_rounds(world):
    """A plan that only partly applies a request still requires it pending (ConditionCheck)."""
    from chalicelib.registrations.decisions import DecisionService
    from chalicelib.registrations.messages import CommandMessage
    from chalicelib.registrations.seat_store import DynamoSeatStore
    from chalicelib.shared.clock import SystemClock

    decisions = DecisionService(DynamoSeatStore(world.client, world.table), SystemClock(), promotion_budget=2)
    event = world.event(capacity=0)
    grow = CommandMessage(type="change_capacity", requestId=f"{event}-grow", eventId=event, capacity=3)
    cut = CommandMessage(type="change_capacity", requestId=f"{event}-cut", eventId=event, capacity=0)
    decisions.process(event, [grow, cut])
    decisions.process(event, [CommandMessage(**register(event, u)) for u in "abc"])  # all three wait
    before = world.table_items(event)
    assert decisions.process(event, [grow]).outcomes == {}
    assert world.table_items(event) == before


def test_a_purge_that_does_not_fit_continues_in_the_events_group(world, monkeypatch):
    """Pages of registrations are deleted while time allows; the rest continues in a new message
    at the back of the event's FIFO group (a new deduplication id, the same request)."""
    from chalicelib.events.dynamodb import DynamoEventRepository
    from chalicelib.registrations import seat_store
    from workers.registration import process_records

    monkeypatch.setattr(seat_store, "PURGE_PAGE", 5)
    event = world.event(capacity=12)
    process_records([fifo_record(register(event, f"u{i}"), event) for i in range(10)])
    process_records([fifo_record(register(event, f"v{i}"), event) for i in range(2)])
    assert DynamoEventRepository(world.client, world.table).mark_deleting(event)
    purge = {"type": "purge_event", "requestId": f"purge-{event}", "eventId": event}
    seconds = iter([0.5] * 100)  # the first page always goes; no time for a second
    assert process_records([fifo_record(purge, event)], lambda: next(seconds)) == {"batchItemFailures": []}
    left = [i for i in world.table_items(event) if i["SK"].startswith("REG#")]
    assert len(left) == 7, "one page of five deleted"

    url = world.environment["TURNSTILE_REGISTRATIONS_QUEUE_URL"]
    received = world.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    ).get("Messages", [])
    continuation = [m for m in received if json.loads(m["Body"])["requestId"] == purge["requestId"]]
    assert len(continuation) == 1
    attributes = continuation[0]["Attributes"]
    assert (attributes["MessageGroupId"], attributes["MessageDeduplicationId"]) == (
        event,
        f"{purge['requestId']}#c1",
    )
    world.sqs.delete_message(QueueUrl=url, ReceiptHandle=continuation[0]["ReceiptHandle"])
    body = json.loads(continuation[0]["Body"])
    assert process_records([fifo_record(body, event)]) == {"batchItemFailures": []}
    assert world.table_items(event) == []  # every registration, then the event


def test_a_waitlist_position_counts_every_page_of_the_waitlist(world):
    """DynamoDB counts one page (1 MB) per query; a long waitlist spans pages. Pages of two here."""
    from chalicelib.registrations.dynamodb import DynamoRegistrationQueries

    event = world.event(capacity=1)
    process_one = [fifo_record(register(event, f"{event}-u{i}"), event) for i in range(8)]
    assert handler({"Records": process_one}, None) == {"batchItemFailures": []}  # 1 in, 7 wait
    queries = DynamoRegistrationQueries(world.client, world.table, count_page=2)
    rows, _ = queries.for_user(f"{event}-u6", "waitlisted", 10, None)
    assert [(r["eventId"], r["position"]) for r in rows] == [(event, 6)]


def test_an_events_confirmed_list_pages_by_user_id_past_the_waitlisted_between_them(world):
    """The confirmed list is read from the event's partition, filtered: a page is read on past the
    waitlisted until it is full, and the next page starts after the last one shown."""
    from chalicelib.registrations.dynamodb import DynamoRegistrationQueries
    from chalicelib.shared.problems import InvalidCursor

    event = world.event(capacity=3)
    users = [f"{event}-u{i}" for i in range(9)]
    batch = [fifo_record(register(event, user), event) for user in reversed(users)]  # the last three seated
    assert handler({"Records": batch}, None) == {"batchItemFailures": []}
    queries = DynamoRegistrationQueries(world.client, world.table, count_page=2)  # reads of two items
    first, after = queries.for_event(event, "confirmed", 2, None)
    assert [r["userId"] for r in first] == users[6:8] and after is not None
    rest, end = queries.for_event(event, "confirmed", 2, after)
    assert ([r["userId"] for r in rest], end) == ([users[8]], None)
    assert all(r["status"] == "confirmed" and r["confirmedAt"] for r in first + rest)
    other = world.event(capacity=1)
    with pytest.raises(InvalidCursor):
        queries.for_event(other, "confirmed", 2, after)


def test_a_users_active_registrations_page_across_standings_on_dynamodb(world):
    from chalicelib.events.domain import Event
    from chalicelib.events.dynamodb import DynamoEventRepository
    from chalicelib.registrations.dynamodb import DynamoRegistrationQueries

    user = f"ada-{uuid.uuid4().hex[:6]}"
    seats = [world.event(capacity=5), world.event(capacity=5)]  # confirmed in both
    line = world.event(capacity=1)  # waitlisted, first in line
    offering = f"ev-{uuid.uuid4().hex[:10]}"
    DynamoEventRepository(world.client, world.table).add(
        Event(offering, "t", "2026-01-01", 1, waitlist_enabled=True, waitlist_offer_ttl=600)
    )
    for event in seats:
        assert (
            handler({"Records": [fifo_record(register(event, user), event)]}, None)["batchItemFailures"] == []
        )
    for event in (line, offering):
        batch = [register(event, f"{event}-first"), register(event, user)]
        assert handler({"Records": [fifo_record(m, event) for m in batch]}, None)["batchItemFailures"] == []
    leave = cancel(offering, f"{offering}-first")  # the seat is offered to the user
    assert handler({"Records": [fifo_record(leave, offering)]}, None)["batchItemFailures"] == []

    queries = DynamoRegistrationQueries(world.client, world.table)
    shown, after = [], None
    for _ in range(5):
        rows, after = queries.for_user(user, "active", 2, after)
        shown += [(r["eventId"], r["status"], r.get("position"), "offerExpiresAt" in r) for r in rows]
        if after is None:
            break
    assert shown == [
        (offering, "offered", None, True),
        *sorted((event, "confirmed", None, False) for event in seats),
        (line, "waitlisted", 1, False),
    ]


def test_a_registration_remembers_who_asked_for_it_through_a_promotion(world):
    from chalicelib.registrations.dynamodb import DynamoRegistrationQueries

    event = world.event(capacity=1)
    themselves = {**register(event, f"{event}-ada"), "requestedBy": f"{event}-ada"}
    by_owner = {**register(event, f"{event}-bob"), "requestedBy": "olga"}
    imported = register(event, f"{event}-cy")  # an import's row: nobody asked
    batch = [fifo_record(m, event) for m in (themselves, by_owner, imported)]
    assert handler({"Records": batch}, None) == {"batchItemFailures": []}
    leave = fifo_record(cancel(event, f"{event}-ada"), event)  # bob is promoted
    assert handler({"Records": [leave]}, None) == {"batchItemFailures": []}
    queries = DynamoRegistrationQueries(world.client, world.table)
    confirmed, _ = queries.for_event(event, "confirmed", 10, None)
    waiting, _ = queries.for_event(event, "waitlisted", 10, None)
    assert [(r["userId"], r["registeredBy"]) for r in confirmed + waiting] == [
        (f"{event}-bob", "olga"),
        (f"{event}-cy", None),
    ]


def test_each_commit_records_the_latest_acceptance_time_decided_in_the_lane(world):
    from chalicelib.registrations.dynamodb import DynamoLanes

    event = world.event(capacity=5)
    lanes = DynamoLanes(world.client, world.table, clock=itertools.count(step=10).__next__)  # no reuse
    first = [
        {**register(event, f"{event}-u{n}"), "createdAt": f"2026-01-01T00:00:0{n}.000000Z"} for n in (1, 2, 3)
    ]
    assert handler({"Records": [fifo_record(m, event) for m in first]}, None)["batchItemFailures"] == []
    progress = lanes.progress(event)
    assert progress.through == "2026-01-01T00:00:03.000000Z" and progress.at
    assert progress.arrivals == 1.0  # 2 more accepted in the 2 s after the first
    late = [
        {**register(event, f"{event}-v{n}"), "createdAt": f"2026-01-01T00:00:0{n}.000000Z"} for n in (5, 4)
    ]
    assert handler({"Records": [fifo_record(m, event) for m in late]}, None)["batchItemFailures"] == []
    progress = lanes.progress(event)
    assert progress.through == "2026-01-01T00:00:05.000000Z"
    assert progress.arrivals == 1.0  # 2 in the 2 s after the last decided
