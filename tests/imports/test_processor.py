"""The import worker's use case on in-memory fakes: validation, back-pressure, checkpoints, resume."""

from __future__ import annotations

import pytest

from chalicelib.imports.service import ImportLimits, request_id
from chalicelib.users.domain import User
from tests.fakes import ADMIN_CALLER
from tests.imports.fakes import Fakes


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.05)


def _csv(count: int, start: int = 1) -> bytes:
    return ("userId,name\n" + "".join(f"u{n},User {n}\n" for n in range(start, start + count))).encode()


def _setup(count: int = 95, **limits):
    fakes = Fakes()
    clock = FakeTime()
    services = fakes.wired(
        ImportLimits(**{"max_in_flight": 30, "slice_seconds": 5, "poll_seconds": 0.1, **limits}),
        timer=clock,
        sleep=clock.sleep,
    )
    record = services.service.submit(ADMIN_CALLER, "pycon", "text/csv", _csv(count))
    return fakes, services, record.import_id


def test_validation_stores_errors_and_the_plan_never_a_profile_then_feeds_up_to_the_bound():
    fakes, services, import_id = _setup()
    fakes.users.users["u3"] = User("u3", "Three")
    services.processor.run({"importId": import_id}, owner="m1")
    record = fakes.imports.get(import_id)
    assert record.status == "running" and (record.valid, record.invalid) == (95, 0)
    assert record.users_created == 0 and fakes.users.users == {"u3": User("u3", "Three")}
    assert record.enqueued == 30 and fakes.feed.rows == list(range(1, 31))
    assert all(len(batch) == 10 for batch in fakes.feed.batches)
    message = fakes.queue.messages[-1]
    assert message[0]["action"] == "continue" and message[1] == 1  # waiting on the backlog: delayed


def test_it_feeds_as_rows_are_decided_and_completes_when_all_are():
    fakes, services, import_id = _setup()
    processor = services.processor
    processor.run({"importId": import_id}, owner="m1")
    while fakes.imports.get(import_id).status == "running":
        record = fakes.imports.get(import_id)
        assert record.in_flight <= 30
        fakes.imports.decide(import_id, record.in_flight)
        processor.run(fakes.queue.messages[-1][0], owner="m2")
    record = fakes.imports.get(import_id)
    assert record.status == "completed" and record.decided == record.enqueued == 95
    assert fakes.feed.rows == list(range(1, 96))
    assert fakes.feed.batches[-1][-1].requestId == request_id(import_id, 95)
    assert {m.eventId for b in fakes.feed.batches for m in b} == {"pycon"}


def test_a_run_that_dies_before_sending_a_batch_resends_it_once_and_skips_nothing():
    fakes, services, import_id = _setup(max_in_flight=100)
    feed = fakes.feed
    original = feed.send

    def dies_on_third_batch(messages):
        if len(feed.batches) == 2:
            feed.send = original
            raise RuntimeError("killed")
        original(messages)

    feed.send = dies_on_third_batch
    with pytest.raises(RuntimeError):
        services.processor.run({"importId": import_id}, owner="m1")
    assert fakes.imports.get(import_id).pending == 30 and fakes.imports.leases == {}
    services.processor.run({"importId": import_id}, owner="m1")  # the redelivered message
    assert fakes.feed.rows == list(range(1, 96))


def test_a_run_that_dies_after_sending_resends_only_the_undecided_rows_of_that_batch():
    fakes, services, import_id = _setup(max_in_flight=100)
    original = fakes.imports.end_batch
    calls = []

    def dies_after_second_send(import_id_, pending):
        calls.append(pending)
        if len(calls) == 2:
            raise RuntimeError("killed after the send, before the checkpoint")
        original(import_id_, pending)

    fakes.imports.end_batch = dies_after_second_send
    with pytest.raises(RuntimeError):
        services.processor.run({"importId": import_id}, owner="m1")
    fakes.imports.end_batch = original
    assert fakes.feed.rows == list(range(1, 21))
    # the registration worker decided rows 11-15 of the pending batch meanwhile
    fakes.requests.completed_ids |= {request_id(import_id, row) for row in range(1, 16)}
    fakes.imports.decide(import_id, 15)
    services.processor.run({"importId": import_id}, owner="m1")
    rows = fakes.feed.rows
    assert rows[:20] == list(range(1, 21)) and rows[20:25] == [16, 17, 18, 19, 20]
    assert rows[25:] == list(range(21, 96))


def test_a_second_run_while_the_first_holds_the_lease_does_nothing():
    fakes, services, import_id = _setup()
    fakes.imports.acquire(import_id, "other", fakes.clock.epoch, fakes.clock.epoch + 100)
    sent = len(fakes.queue.messages)
    services.processor.run({"importId": import_id}, owner="m2")
    assert fakes.feed.batches == [] and len(fakes.queue.messages) == sent
    fakes.clock.epoch += 101  # the holder died: its lease expires
    services.processor.run({"importId": import_id}, owner="m2")
    assert fakes.feed.rows


def test_a_dry_run_only_validates():
    fakes = Fakes()
    services = fakes.wired()
    body = b"userId,name,email\nu1,One,\n,Nobody,\nu3,Three,bad\n"
    record = services.service.submit(ADMIN_CALLER, "pycon", "text/csv", body, dry_run=True)
    services.processor.run({"importId": record.import_id}, owner="m1")
    done = fakes.imports.get(record.import_id)
    assert done.status == "completed" and (done.valid, done.invalid, done.enqueued) == (1, 2, 0)
    assert fakes.users.users == {} and fakes.feed.batches == []
    assert set(fakes.payloads.objects) == {record.payload_key}  # no plan either
    assert [(e.row, e.field) for e in fakes.imports.errors(record.import_id, 10, None)[0]] == [
        (2, "userId"),
        (3, "email"),
    ]


def test_an_import_without_valid_rows_completes_at_once():
    fakes = Fakes()
    services = fakes.wired()
    record = services.service.submit(ADMIN_CALLER, "pycon", "application/json", b'{"rows": [{"userId": ""}]}')
    services.processor.run({"importId": record.import_id}, owner="m1")
    assert fakes.imports.get(record.import_id).status == "completed"


def test_no_decision_for_the_stall_time_fails_the_import():
    fakes, services, import_id = _setup(stall_seconds=60)
    services.processor.run({"importId": import_id}, owner="m1")
    message = fakes.queue.messages[-1][0]
    fakes.clock.epoch += 61
    services.processor.run(message, owner="m2")
    record = fakes.imports.get(import_id)
    assert record.status == "failed" and "no row was decided" in record.failure


def test_a_missing_payload_fails_the_import():
    fakes, services, import_id = _setup()
    fakes.payloads.objects.clear()
    services.processor.run({"importId": import_id}, owner="m1")
    assert fakes.imports.get(import_id).status == "failed"


def _awaiting_upload(count: int = 5):
    fakes = Fakes()
    services = fakes.wired()
    record, form = services.service.request_upload(ADMIN_CALLER, "pycon", "text/csv")
    assert record.status == "awaiting_upload" and form is not None
    assert form["fields"]["key"] == record.payload_key == f"uploads/{record.import_id}.csv"
    return fakes, services, record


def test_an_uploaded_file_is_validated_counted_and_fed_like_a_posted_one():
    fakes, services, record = _awaiting_upload()
    fakes.payloads.put(record.payload_key, _csv(5), "text/csv")  # what S3 holds after the upload
    services.processor.run({"action": "start", "importId": record.import_id}, owner="s3-event")
    after = fakes.imports.get(record.import_id)
    assert (after.total, after.valid, after.status) == (5, 5, "running")
    assert [m.userId for batch in fakes.feed.batches for m in batch] == [f"u{n}" for n in range(1, 6)]


def test_an_upload_over_the_upload_limit_fails_the_import_without_reading_rows():
    from chalicelib.imports.rows import MAX_UPLOAD_BYTES

    fakes, services, record = _awaiting_upload()
    fakes.payloads.put(record.payload_key, b"userId\n" + b"x" * MAX_UPLOAD_BYTES, "text/csv")
    services.processor.run({"action": "start", "importId": record.import_id}, owner="s3-event")
    after = fakes.imports.get(record.import_id)
    assert after.status == "failed" and f"at most {MAX_UPLOAD_BYTES} bytes" in after.failure
    assert not fakes.feed.batches


def test_an_upload_request_repeated_with_its_key_is_the_same_import_and_a_fresh_form():
    fakes = Fakes()
    services = fakes.wired()
    first, _ = services.service.request_upload(ADMIN_CALLER, "pycon", "text/csv", idempotency_key="k")
    again, form = services.service.request_upload(ADMIN_CALLER, "pycon", "text/csv", idempotency_key="k")
    assert again.import_id == first.import_id and form is not None
    fakes.payloads.put(first.payload_key, _csv(2), "text/csv")
    services.processor.run({"action": "start", "importId": first.import_id}, owner="s3-event")
    done, form = services.service.request_upload(ADMIN_CALLER, "pycon", "text/csv", idempotency_key="k")
    assert done.status != "awaiting_upload" and form is None  # started: no more uploads to it


def test_a_dry_run_answers_the_same_for_an_existing_and_an_unknown_user():
    """An import's answer never tells whether a user id has a profile."""
    fakes = Fakes()
    fakes.users.users["ada"] = User("ada", "Ada")
    services = fakes.wired()
    answers = []
    for user in ("ada", "zed"):
        body = f"userId,name,email\n{user},,\n".encode()
        record = services.service.submit(ADMIN_CALLER, "pycon", "text/csv", body, dry_run=True)
        services.processor.run({"importId": record.import_id}, owner="m1")
        done = fakes.imports.get(record.import_id)
        errors = fakes.imports.errors(record.import_id, 10, None)[0]
        answers.append((done.status, done.valid, done.invalid, done.users_created, errors))
    assert answers[0] == answers[1] == ("completed", 1, 0, 0, [])
