"""Delivery through the real pieces: DynamoDB Local (table + stream), LocalStack's SQS, the relay and
dispatcher handlers, and a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import workers.webhook_relay as relay_worker
import workers.webhooks as dispatcher_worker
from chalicelib import bootstrap
from chalicelib.webhooks import signing
from devstack.runner import QueuePoller
from devstack.streams import StreamPoller
from tests.fakes import ADMIN_CALLER
from tests.webhooks.conftest import Receiver, emulator_settings, wait_for

pytestmark = pytest.mark.emulators


@dataclass
class Pipeline:
    container: bootstrap.Services
    dynamodb: Any
    sqs: Any
    stream: StreamPoller
    queue: QueuePoller
    parked: QueuePoller  # the relay's own retry queue (changes it failed on)

    def subscribe(self, url: str, events: tuple[str, ...] = ("registration.promoted",)) -> tuple[str, str]:
        created, secret = self.container.webhooks.create(ADMIN_CALLER, url, list(events))
        return created.webhook_id, secret

    def promote(self, event_id: str, user_id: str, freed_by: str) -> None:
        """What the registration worker's transaction does to a promoted waitlisted user."""
        table = self.container.settings.table_name
        key = {"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": f"REG#{user_id}"}}
        base = {"entity": {"S": "registration"}, "eventId": {"S": event_id}, "userId": {"S": user_id}}
        self.dynamodb.put_item(
            TableName=table, Item={**key, **base, "status": {"S": "waitlisted"}, "waitSeq": {"N": "1"}}
        )
        self.dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :c, promotedBy = :by, countsAfter = :counts, confirmedAt = :at "
            "REMOVE waitSeq",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":c": {"S": "confirmed"},
                ":by": {"S": freed_by},
                ":at": {"S": "2026-01-01T00:00:00Z"},
                ":counts": {"M": {"confirmedCount": {"N": "2"}, "waitlistCount": {"N": "0"}}},
            },
        )

    def relay_all(self, expected_records: int = 2) -> None:
        """Poll the stream until the expected records were read and it has gone quiet."""
        seen, quiet = 0, 0
        deadline = time.monotonic() + 10
        while (seen < expected_records or quiet < 2) and time.monotonic() < deadline:
            got = self.stream.poll_once()
            seen, quiet = seen + got, (0 if got else quiet + 1)
            if not got:
                time.sleep(0.05)

    def drain(self, condition, timeout: float = 20.0) -> Any:
        def step() -> None:
            if not self.queue.poll_once(wait_seconds=0):
                time.sleep(0.1)

        return wait_for(condition, step, timeout)

    def deliveries(self, webhook_id: str) -> list[Any]:
        return self.container.webhooks.deliveries_of(ADMIN_CALLER, webhook_id, 100, None)[0]


@pytest.fixture
def pipeline(emulators) -> Iterator[Pipeline]:
    config = emulator_settings()
    dynamodb, sqs = emulators.client("dynamodb"), emulators.client("sqs")
    container = bootstrap.build(config, emulators.client)
    for old in container.relay.subscriptions.all():  # subscriptions are global: start clean
        container.relay.subscriptions.delete(old.webhook_id)
    bootstrap.use(container)
    stream = StreamPoller(config.table_name, relay_worker.handler, start="LATEST", dynamodb=dynamodb)
    queue = QueuePoller(config.webhooks_queue_url, dispatcher_worker.handler, name="webhooks", sqs=sqs)
    parked = QueuePoller(
        config.webhook_relay_queue_url, relay_worker.handler, name="webhook-relay-retries", sqs=sqs
    )
    yield Pipeline(container, dynamodb, sqs, stream, queue, parked)
    bootstrap.use(None)


def _verify(secret: str, request) -> dict:
    signing.verify(secret, request.headers, request.body, now=int(time.time()))
    return request.json()


def test_a_promotion_arrives_signed_and_a_redelivered_change_is_one_delivery(pipeline, receiver):
    webhook_id, secret = pipeline.subscribe(receiver.url)
    event_id = f"e-{uuid.uuid4().hex[:8]}"
    pipeline.promote(event_id, "ada", "cancel-1")
    records = pipeline.stream.streams  # replay the same stream records to the relay a second time
    pipeline.relay_all()
    shard_iterators = {
        s["ShardId"]: records.get_shard_iterator(
            StreamArn=pipeline.stream.stream_arn, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for s in records.describe_stream(StreamArn=pipeline.stream.stream_arn)["StreamDescription"]["Shards"]
    }
    for iterator in shard_iterators.values():  # a whole redelivery of the stream, as after a relay crash
        while iterator:
            page = records.get_records(ShardIterator=iterator, Limit=1000)
            from devstack.streams import lambda_stream_record

            if not page["Records"]:
                break
            ours = [r for r in page["Records"] if r["dynamodb"]["Keys"]["PK"]["S"] == f"EVENT#{event_id}"]
            batch = [lambda_stream_record(r, pipeline.stream.stream_arn) for r in ours]  # not other tests'
            relay_worker.handler({"Records": batch}, None)
            iterator = page.get("NextShardIterator")
    pipeline.drain(lambda: receiver.received)
    for _ in range(3):
        pipeline.queue.poll_once(wait_seconds=0)
    assert len(receiver.received) == 1  # duplicates of the message were dropped by the dispatcher
    body = _verify(secret, receiver.received[0])
    assert receiver.received[0].headers["webhook-id"] == body["id"]
    assert body["type"] == "registration.promoted"
    assert body["data"] == {
        "eventId": event_id,
        "userId": "ada",
        "requestId": "cancel-1",
        "confirmedCount": 2,
        "waitlistCount": 0,
    }
    (delivery,) = pipeline.deliveries(webhook_id)
    assert delivery.status == "delivered" and delivery.attempts[0]["statusCode"] == 200


def test_500s_then_success_retries_with_the_same_id(pipeline, receiver):
    webhook_id, secret = pipeline.subscribe(receiver.url)
    receiver.script = [500, 503]
    pipeline.promote(f"e-{uuid.uuid4().hex[:8]}", "bob", "cancel-2")
    pipeline.relay_all()
    pipeline.drain(lambda: len(receiver.received) >= 3)
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == 1
    for request in receiver.received:
        _verify(secret, request)
    (delivery,) = pipeline.deliveries(webhook_id)
    assert delivery.status == "delivered"
    assert [a["statusCode"] for a in delivery.attempts] == [500, 503, 200]
    assert delivery.attempts[0]["nextAttemptAt"] and delivery.attempts[2]["nextAttemptAt"] is None


def test_a_receiver_that_is_down_then_back_gets_every_notification(pipeline):
    receiver = Receiver().start()
    port, url = receiver.port, receiver.url
    webhook_id, _ = pipeline.subscribe(url)
    receiver.stop()
    for user in ("u1", "u2", "u3"):
        pipeline.promote(f"e-{uuid.uuid4().hex[:8]}", user, f"cancel-{user}")
    pipeline.relay_all(6)
    pipeline.drain(lambda: all(d.attempts for d in pipeline.deliveries(webhook_id)))
    assert all(d.attempts[0]["statusCode"] is None for d in pipeline.deliveries(webhook_id))
    back = Receiver(port=port).start()
    try:
        pipeline.drain(lambda: len({r.headers["webhook-id"] for r in back.received}) == 3)
        users = sorted(r.json()["data"]["userId"] for r in back.received)
        assert users == ["u1", "u2", "u3"]
        assert {d.status for d in pipeline.deliveries(webhook_id)} == {"delivered"}
    finally:
        back.stop()


def test_410_disables_the_subscription(pipeline, receiver):
    webhook_id, _ = pipeline.subscribe(receiver.url)
    receiver.script = [410]
    pipeline.promote(f"e-{uuid.uuid4().hex[:8]}", "cy", "cancel-3")
    pipeline.relay_all()
    pipeline.drain(lambda: not pipeline.container.webhooks.get(ADMIN_CALLER, webhook_id).enabled)
    subscription = pipeline.container.webhooks.get(ADMIN_CALLER, webhook_id)
    assert subscription.disabled_reason == "gone"
    (delivery,) = pipeline.deliveries(webhook_id)
    assert delivery.status == "failed" and len(delivery.attempts) == 1
    pipeline.promote(f"e-{uuid.uuid4().hex[:8]}", "dee", "cancel-4")
    pipeline.relay_all()
    assert len(pipeline.deliveries(webhook_id)) == 1  # no new deliveries for a disabled webhook


def _crash_once(monkeypatch, target: Any, method: str) -> list[Any]:
    real, crashes = getattr(target, method), []

    def crash_once(*args: Any, **kwargs: Any) -> Any:
        if not crashes:
            crashes.append(args)
            raise ConnectionError(f"{method} failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, method, crash_once)
    return crashes


def test_a_crash_between_commit_and_hand_off_is_parked_and_still_delivers_once(
    pipeline, receiver, monkeypatch
):
    webhook_id, secret = pipeline.subscribe(receiver.url)
    crashes = _crash_once(monkeypatch, pipeline.container.relay.queue, "send")
    pipeline.promote(f"e-{uuid.uuid4().hex[:8]}", "eve", "cancel-5")
    pipeline.relay_all(2)  # the stream goes on; the failed change waits on the relay's own queue
    assert crashes and not receiver.received
    assert pipeline.parked.poll_once(wait_seconds=1) == 1
    pipeline.drain(lambda: receiver.received)
    pipeline.queue.poll_once(wait_seconds=0)
    assert len(receiver.received) == 1
    _verify(secret, receiver.received[0])
    assert len(pipeline.deliveries(webhook_id)) == 1


def test_when_parking_fails_too_the_stream_reads_the_record_again(pipeline, receiver, monkeypatch):
    _crash_once(monkeypatch, pipeline.container.relay.queue, "send")
    parking = _crash_once(monkeypatch, pipeline.container.parked_changes, "park")
    pipeline.subscribe(receiver.url)
    pipeline.promote(f"e-{uuid.uuid4().hex[:8]}", "ezra", "cancel-8")
    pipeline.relay_all(3)  # the failed record is read a second time
    pipeline.drain(lambda: receiver.received)
    assert parking and len(receiver.received) == 1


def test_a_parked_change_that_reached_its_dlq_is_redriven_and_delivered(
    pipeline, receiver, monkeypatch, capsys
):
    """Parked changes keep their images (not stream pointers, which expire after 24 hours)."""
    from devstack import dlq

    webhook_id, secret = pipeline.subscribe(receiver.url)
    _crash_once(monkeypatch, pipeline.container.relay.queue, "send")
    pipeline.promote(f"e-{uuid.uuid4().hex[:8]}", "flo", "cancel-9")
    pipeline.relay_all(2)
    relay_queue = pipeline.container.settings.webhook_relay_queue_url
    [parked] = pipeline.sqs.receive_message(QueueUrl=relay_queue, WaitTimeSeconds=1)["Messages"]
    change = json.loads(parked["Body"])
    assert change["new"]["status"] == {"S": "confirmed"} and change["old"]["status"] == {"S": "waitlisted"}
    dead_letters = pipeline.sqs.get_queue_url(QueueName="webhook-relay-dlq")["QueueUrl"]
    pipeline.sqs.send_message(QueueUrl=dead_letters, MessageBody=parked["Body"])  # as after 5 receives
    pipeline.sqs.delete_message(QueueUrl=relay_queue, ReceiptHandle=parked["ReceiptHandle"])
    assert dlq.main(["redrive", "--queue", "webhook-relay-dlq"]) == 0
    assert "to webhook-relay-retries" in capsys.readouterr().out
    assert pipeline.parked.poll_once(wait_seconds=1) == 1
    pipeline.drain(lambda: receiver.received)
    _verify(secret, receiver.received[0])
    assert [d.status for d in pipeline.deliveries(webhook_id)] == ["delivered"]


def test_after_a_rotation_both_secrets_verify_and_the_last_failure_goes_to_the_dlq(pipeline, receiver):
    webhook_id, old_secret = pipeline.subscribe(receiver.url)
    _, new_secret = pipeline.container.webhooks.rotate_secret(ADMIN_CALLER, webhook_id)
    receiver.default = 500
    pipeline.promote(f"e-{uuid.uuid4().hex[:8]}", "fay", "cancel-6")
    pipeline.relay_all()
    pipeline.drain(lambda: pipeline.deliveries(webhook_id)[0].status == "failed")
    first = receiver.received[0]
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    _verify(new_secret, first)
    _verify(old_secret, first)
    assert len(receiver.received) == 3  # schedule "0s,1s": three attempts, then give up
    dlq = pipeline.container.settings.webhooks_dlq_url
    messages = pipeline.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    bodies = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    assert {"deliveryId": pipeline.deliveries(webhook_id)[0].delivery_id, "attempt": 3} in bodies


def test_redriving_a_given_up_delivery_from_the_dlq_delivers_it(pipeline, receiver, capsys):
    """The dispatcher had marked it failed; a redriven message reopens it for one more attempt."""
    from devstack import dlq

    webhook_id, _ = pipeline.subscribe(receiver.url)
    receiver.default = 500
    pipeline.promote(f"e-{uuid.uuid4().hex[:8]}", "gil", "cancel-7")
    pipeline.relay_all()
    pipeline.drain(lambda: pipeline.deliveries(webhook_id)[0].status == "failed")
    receiver.default = 200  # the receiver is fixed
    assert dlq.main(["redrive", "--queue", "webhooks-dlq"]) == 0
    assert "to webhooks" in capsys.readouterr().out
    delivered = pipeline.drain(lambda: pipeline.deliveries(webhook_id)[0].status == "delivered")
    assert delivered
    [delivery] = pipeline.deliveries(webhook_id)
    assert [a["statusCode"] for a in delivery.attempts] == [500, 500, 500, 200]
