"""RequestRepository and CommandQueue: the in-memory fakes, DynamoDB Local and LocalStack's SQS agree."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from chalicelib.registrations.dynamodb import (
    LANE_FRESH_SECONDS,
    DynamoLanes,
    DynamoRequestRepository,
    DynamoWaitHolds,
)
from chalicelib.registrations.items import marked_request_id
from chalicelib.registrations.lanes import LaneProgress
from chalicelib.registrations.memory import (
    MemoryCommandQueue,
    MemoryLanes,
    MemoryRequestRepository,
    MemorySeatStore,
    MemoryWaitHolds,
)
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import HOLD_SECONDS, IdempotencyKeyTaken, QueueUnavailable, RequestRecord
from chalicelib.registrations.sqs import SqsCommandQueue
from tests.contracts.conftest import unique


@pytest.fixture(params=["memory", "dynamodb"])
def requests(request):
    if request.param == "memory":
        return MemoryRequestRepository()
    real = request.getfixturevalue("real")
    return DynamoRequestRepository(real.dynamodb, real.table)


def pending(request_id: str) -> RequestRecord:
    return RequestRecord(request_id, "register", "ev", "ada", "pending", "2026-01-01T00:00:00.000000Z")


def test_create_and_get(requests):
    record = pending(unique("r"))
    requests.create(record, None)
    assert requests.get(record.request_id) == record
    assert requests.get(unique("missing")) is None


def test_an_idempotency_key_is_claimed_once_with_its_fingerprint(requests):
    key, first, second = unique("key"), pending(unique("r")), pending(unique("r"))
    requests.create(first, (key, "fp-1"))
    assert requests.find_idempotent(key) == (first.request_id, "fp-1")
    with pytest.raises(IdempotencyKeyTaken) as taken:
        requests.create(second, (key, "fp-2"))
    assert (taken.value.request_id, taken.value.fingerprint) == (first.request_id, "fp-1")
    assert requests.get(second.request_id) is None, "a refused claim stores no request"
    requests.release_idempotency(key)
    assert requests.find_idempotent(key) is None
    requests.create(second, (key, "fp-2"))
    assert requests.find_idempotent(key) == (second.request_id, "fp-2")


def test_existing_names_the_recorded_requests(requests):
    a, b = pending(unique("r")), pending(unique("r"))
    requests.create(a, None)
    requests.create(b, None)
    assert requests.existing([a.request_id, unique("none"), b.request_id]) == {a.request_id, b.request_id}


def test_mark_failed_only_fails_a_pending_request(requests):
    record = pending(unique("r"))
    requests.create(record, None)
    assert requests.mark_failed(record, "queue_unavailable", "2026-01-01T00:00:01.000000Z")
    failed = requests.get(record.request_id)
    assert (failed.status, failed.failure, failed.completed_at) == (
        "failed",
        "queue_unavailable",
        "2026-01-01T00:00:01.000000Z",
    )
    assert not requests.mark_failed(record, "other", "2026-01-01T00:00:02.000000Z")
    assert requests.get(record.request_id) == failed


def test_mark_failed_records_a_request_kept_only_as_a_mark(requests):
    record = marked(unique("ev"), "ada")
    assert requests.claim(record, 100) is None
    assert requests.mark_failed(record, "queue_unavailable", "2026-01-01T00:00:01.000000Z")
    failed = requests.get(record.request_id)
    assert (failed.status, failed.failure) == ("failed", "queue_unavailable")


@pytest.fixture(params=["memory", "sqs"])
def command_queue(request):
    if request.param == "memory":
        queue = MemoryCommandQueue()
        return queue, lambda: [m.body() for m in queue.sent], lambda: setattr(queue, "available", False)
    real = request.getfixturevalue("real")
    url = real.sqs.create_queue(QueueName=unique("contract") + ".fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    queue = SqsCommandQueue(real.sqs, url)

    def received() -> list[str]:
        messages = real.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [m["Body"] for m in messages]

    return queue, received, lambda: setattr(queue, "_url", url + "-deleted")


def test_a_command_is_queued_once_per_request_id(command_queue):
    queue, received, _ = command_queue
    message = CommandMessage(type="register", requestId=unique("r"), eventId="ev", userId="ada")
    queue.send(message)
    if isinstance(queue, SqsCommandQueue):
        queue.send(message)  # the request id deduplicates a retried send on SQS
    bodies = received()
    assert [json.loads(b) for b in bodies] == [json.loads(message.body())]


def test_a_register_for_the_longest_event_and_user_ids_is_queued_once(command_queue):
    """Its id names both (up to 162 characters): longer than SQS's deduplication ids, so it is
    deduplicated by the id's SHA-256."""
    queue, received, _ = command_queue
    event, user = "e" * 64, "u" * 64
    message = CommandMessage(
        type="register", requestId=marked_request_id(event, user, unique("r")), eventId=event, userId=user
    )
    assert len(message.requestId) > 128 >= len(message.deduplication_id)
    queue.send(message)
    if isinstance(queue, SqsCommandQueue):
        queue.send(message)
    assert [json.loads(b) for b in received()] == [json.loads(message.body())]


def test_an_unreachable_queue_raises_queue_unavailable(command_queue):
    queue, _, break_it = command_queue
    break_it()
    with pytest.raises(QueueUnavailable):
        queue.send(CommandMessage(type="register", requestId=unique("r"), eventId="ev", userId="ada"))


@pytest.fixture(params=["memory", "dynamodb"])
def lanes(request):
    if request.param == "memory":
        return MemoryLanes(MemorySeatStore())
    real = request.getfixturevalue("real")
    return DynamoLanes(real.dynamodb, real.table)


def test_a_lane_knows_no_progress_before_a_decision(lanes):
    assert lanes.progress(unique("ev")) == LaneProgress()


def test_a_lane_read_is_reused_for_half_a_second(real):
    event, now = unique("ev"), [100.0]
    lanes = DynamoLanes(real.dynamodb, real.table, clock=lambda: now[0])
    real.dynamodb.put_item(
        TableName=real.table,
        Item={"PK": {"S": f"EVENT#{event}"}, "SK": {"S": "SEATS"}, "laneRate": {"N": "5"}},
    )
    assert lanes.progress(event).rate == 5.0
    real.dynamodb.update_item(
        TableName=real.table,
        Key={"PK": {"S": f"EVENT#{event}"}, "SK": {"S": "SEATS"}},
        UpdateExpression="SET laneRate = :rate",
        ExpressionAttributeValues={":rate": {"N": "7"}},
    )
    now[0] += LANE_FRESH_SECONDS - 0.01
    assert lanes.progress(event).rate == 5.0, "read again only after LANE_FRESH_SECONDS"
    now[0] += 0.01
    assert lanes.progress(event).rate == 7.0


def marked(event_id: str, user_id: str, type_: str = "register") -> RequestRecord:
    request_id = marked_request_id(event_id, user_id, unique("r"))
    return RequestRecord(
        request_id, type_, event_id, user_id, "pending", "2026-01-01T00:00:00.000000Z", requested_by=user_id
    )


def test_one_mark_per_person_and_event_until_taken_over(requests):
    event = unique("ev")
    first, second = marked(event, "ada"), marked(event, "ada", "cancel")
    assert requests.claim(first, 100) is None
    held = requests.claim(second, 101)
    assert held is not None
    assert (held.request_id, held.type, held.requested_by) == (
        first.request_id,
        "register",
        "ada",
    )
    assert requests.claim(marked(event, "bob"), 101) is None, "another person's place"
    assert not requests.take_over(second, unique("someone-else"), 102)
    assert requests.take_over(second, first.request_id, 102)
    assert requests.claim(first, 103).request_id == second.request_id


def test_a_marked_request_is_found_by_its_id_while_it_holds_the_mark(requests):
    event = unique("ev")
    first, second = marked(event, "ada"), marked(event, "ada", "cancel")
    assert requests.claim(first, 100) is None
    assert requests.get(first.request_id) == first, "the mark is its record"
    assert requests.get(marked(event, "ada").request_id) is None, "another id with the same mark"
    assert requests.existing([first.request_id]) == set(), "no record of its own yet"
    decided = replace(first, status="completed")
    requests.create(decided, None)  # its own record, as the worker's commit writes it
    assert requests.take_over(second, first.request_id, 101)
    assert requests.get(first.request_id) == decided, "its own record once decided"
    assert requests.get(second.request_id) == second


@pytest.fixture(params=["memory", "dynamodb"])
def holds(request):
    if request.param == "memory":
        return MemoryWaitHolds()
    real = request.getfixturevalue("real")
    return DynamoWaitHolds(real.dynamodb, real.table)


def test_wait_holds_are_capped_per_subject_released_and_forgotten_after_the_window(holds):
    ada, bob = unique("ada"), unique("bob")
    assert holds.acquire(ada, 1000, 2) and holds.acquire(ada, 1001, 2)
    assert not holds.acquire(ada, 1002, 2)
    assert holds.acquire(bob, 1002, 2), "per subject"
    holds.release(ada)
    assert holds.acquire(ada, 1003, 2)
    assert not holds.acquire(ada, 1004, 2)
    assert holds.acquire(ada, 1003 + HOLD_SECONDS + 1, 2), "lost releases heal after the window"


def test_a_request_whose_id_is_of_the_earlier_shape_is_still_found_by_its_mark(real):
    """Before marks moved to the person's partition, a marked id started with a hash of event and
    user, and the mark lived under it; such a request, still pending, is found as before."""
    import hashlib

    from chalicelib.registrations.items import mark_item
    from chalicelib.shared import table
    from chalicelib.shared.dynamo import plain_key, to_item

    event = unique("ev")
    legacy = hashlib.sha256(f"{event}\nada".encode()).hexdigest()[:24]
    record = replace(marked(event, "ada"), request_id=f"{legacy}_{unique('r')}")
    item = {**mark_item(record), **plain_key(table.legacy_pending_key(legacy)), "expiresAt": 2_000_000_000}
    real.dynamodb.put_item(TableName=real.table, Item=to_item(item))
    requests = DynamoRequestRepository(real.dynamodb, real.table)
    assert requests.get(record.request_id) == record
