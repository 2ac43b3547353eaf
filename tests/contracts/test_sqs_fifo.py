"""The SQS FIFO rules Turnstile relies on, each with the AWS documentation that states it.

They run against the local queue (LocalStack) by default. To check them against a real account,
so that the emulator is held to what AWS does:

    SQS_CONFORMANCE_TARGET=aws AWS_PROFILE=... .venv/bin/python -m pytest tests/contracts/test_sqs_fifo.py

Every test creates its own queue(s) and deletes them. Visibility timeouts are a second or two,
so the suite takes about half a minute on either target.

Documentation cited (AWS SQS Developer Guide and API Reference):
[ORDER]  FIFO queue delivery logic: .../SQSDeveloperGuide/FIFO-queues-understanding-logic.html
[GROUP]  Using the message group ID: .../SQSDeveloperGuide/using-messagegroupid-property.html
[DEDUP]  Exactly-once processing: .../SQSDeveloperGuide/FIFO-queues-exactly-once-processing.html
[VIS]    Visibility timeout: .../SQSDeveloperGuide/sqs-visibility-timeout.html
[DLQ]    Dead-letter queues: .../SQSDeveloperGuide/sqs-dead-letter-queues.html
[RECV]   ReceiveMessage: .../APIReference/API_ReceiveMessage.html
[BATCH]  SendMessageBatch / DeleteMessageBatch: .../APIReference/API_SendMessageBatch.html,
         .../APIReference/API_DeleteMessageBatch.html
[ATTR]   GetQueueAttributes: .../APIReference/API_GetQueueAttributes.html
(.../ is https://docs.aws.amazon.com/AWSSimpleQueueService/latest/)
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ON_AWS = os.environ.get("SQS_CONFORMANCE_TARGET") == "aws"
if not ON_AWS:
    pytestmark = pytest.mark.emulators


@pytest.fixture(scope="module")
def sqs(request: pytest.FixtureRequest) -> Any:
    if ON_AWS:  # the account's own endpoint, whatever AWS_ENDPOINT_URL_SQS the tests set
        return boto3.client("sqs", config=Config(ignore_configured_endpoint_urls=True))
    return request.getfixturevalue("emulators").client("sqs")


@pytest.fixture
def queues(sqs: Any) -> Iterator[Any]:
    created: list[str] = []

    def make(content_dedup: bool = False, **attributes: str) -> str:
        name = f"conformance-{uuid.uuid4().hex[:12]}.fifo"
        attributes = {
            "FifoQueue": "true",
            "ContentBasedDeduplication": str(content_dedup).lower(),
            "VisibilityTimeout": "30",
            **attributes,
        }
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        created.append(url)
        return url

    yield make
    for url in created:
        sqs.delete_queue(QueueUrl=url)


def send(sqs: Any, url: str, bodies: list[str], group: str = "event-1") -> None:
    for start in range(0, len(bodies), 10):
        entries = [
            {
                "Id": str(i),
                "MessageBody": body,
                "MessageGroupId": group,
                "MessageDeduplicationId": uuid.uuid4().hex,
            }
            for i, body in enumerate(bodies[start : start + 10])
        ]
        response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not response.get("Failed"), response


def receive(sqs: Any, url: str, most: int = 10, visibility: int | None = None) -> list[dict[str, Any]]:
    extra = {} if visibility is None else {"VisibilityTimeout": visibility}
    response = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=most,
        WaitTimeSeconds=1,
        MessageSystemAttributeNames=["All"],
        **extra,
    )
    return response.get("Messages", [])


def delete(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
        response = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        assert len(response.get("Successful", [])) == len(chunk), response


def drain(sqs: Any, url: str, expected: int, seconds: float = 20) -> list[str]:
    """Receive and delete until `expected` messages came; their bodies in the order received."""
    bodies: list[str] = []
    deadline = time.monotonic() + seconds
    while len(bodies) < expected and time.monotonic() < deadline:
        batch = receive(sqs, url)
        bodies += [m["Body"] for m in batch]
        delete(sqs, url, batch)
    return bodies


def numbered(count: int, prefix: str = "m") -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(count)]


def test_a_group_is_received_in_the_order_it_was_sent(sqs, queues):
    """[ORDER] 'messages are received in the order they were sent within a message group'; the
    worker decides one event's commands in queue order on this alone."""
    url = queues()
    send(sqs, url, numbered(35))
    assert drain(sqs, url, 35) == numbered(35)


def test_sequence_numbers_grow_and_the_fifo_attributes_come_with_each_message(sqs, queues):
    """[RECV] a FIFO message carries MessageGroupId, MessageDeduplicationId, SequenceNumber and
    ApproximateReceiveCount; [ORDER] SequenceNumber 'increases over time' within a group. The
    local runner passes them on to the worker as Lambda does."""
    url = queues()
    send(sqs, url, numbered(10))
    batch = receive(sqs, url)
    assert [m["Body"] for m in batch] == numbered(10)
    sequence = [int(m["Attributes"]["SequenceNumber"]) for m in batch]
    assert sequence == sorted(sequence) and len(set(sequence)) == 10
    first = batch[0]["Attributes"]
    assert first["MessageGroupId"] == "event-1" and first["MessageDeduplicationId"]
    assert first["ApproximateReceiveCount"] == "1"


def test_one_receive_returns_up_to_ten_messages_of_one_group(sqs, queues):
    """[ORDER] 'When receiving messages from a FIFO queue with multiple message group IDs, Amazon
    SQS first attempts to return as many messages with the same message group ID as possible';
    [RECV] MaxNumberOfMessages is at most 10. A batch of one event is what the worker decides in
    one transaction round."""
    url = queues()
    send(sqs, url, numbered(15))
    assert [m["Body"] for m in receive(sqs, url)] == numbered(10)
    with pytest.raises(ClientError):
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)


def test_a_group_is_blocked_while_a_batch_of_it_is_in_flight_and_other_groups_are_not(sqs, queues):
    """[GROUP] 'you can't receive additional messages with the same message group ID until the
    messages are deleted or become visible'. This is the one-lane-per-event guarantee."""
    url = queues()
    send(sqs, url, numbered(6, "a"), group="event-a")
    send(sqs, url, numbered(3, "b"), group="event-b")
    first = receive(sqs, url, most=3)
    assert [m["Body"] for m in first] == numbered(3, "a")
    later = [m["Body"] for m in receive(sqs, url)]
    assert later == numbered(3, "b"), "only the other group is served while event-a's batch is out"
    assert receive(sqs, url) == []


def test_order_holds_after_a_visibility_timeout(sqs, queues):
    """[VIS] an undeleted message becomes visible again after the timeout; [ORDER] it comes
    back before the rest of its group. A crashed worker's batch is decided again, in order."""
    url = queues()
    send(sqs, url, numbered(8))
    crashed = receive(sqs, url, most=4, visibility=1)
    assert [m["Body"] for m in crashed] == numbered(4)
    time.sleep(1.5)
    again = receive(sqs, url)
    assert [m["Body"] for m in again] == numbered(8)
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in again[:4]] == ["2"] * 4


def test_order_holds_after_a_batch_partially_fails(sqs, queues):
    """[VIS] ChangeMessageVisibility to 0 makes a message visible at once; with the first two of
    a batch deleted and the rest returned (what the runner does with batchItemFailures, as
    Lambda does), the group resumes at the first failed message."""
    url = queues()
    send(sqs, url, numbered(6))
    batch = receive(sqs, url)
    delete(sqs, url, batch[:2])
    entries = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
        for i, m in enumerate(batch[2:])
    ]
    assert len(sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)["Successful"]) == 4
    assert drain(sqs, url, 4) == numbered(6)[2:]


def test_change_message_visibility_extends_and_ends_a_message_s_invisibility(sqs, queues):
    """[VIS] ChangeMessageVisibility sets a new timeout counted from the call."""
    url = queues()
    send(sqs, url, ["only"])
    (message,) = receive(sqs, url, visibility=1)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=30)
    time.sleep(1.5)
    assert receive(sqs, url) == [], "extended: still invisible after the first timeout"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert [m["Body"] for m in receive(sqs, url)] == ["only"]


def test_a_deduplication_id_is_delivered_once_within_five_minutes_even_after_delete(sqs, queues):
    """[DEDUP] 'any messages sent with the same message deduplication ID are accepted
    successfully but aren't delivered during the 5-minute deduplication interval'. An API retry
    of a registration (same request id) queues it once."""
    url = queues()
    same = {"QueueUrl": url, "MessageGroupId": "event-1", "MessageDeduplicationId": "request-1"}
    sqs.send_message(MessageBody="first", **same)
    sqs.send_message(MessageBody="retry", **same)
    assert drain(sqs, url, 1) == ["first"]
    sqs.send_message(MessageBody="after delete", **same)
    assert receive(sqs, url) == []


def test_content_based_deduplication_drops_an_identical_body(sqs, queues):
    """[DEDUP] with ContentBasedDeduplication 'Amazon SQS uses a SHA-256 hash to generate the
    message deduplication ID using the body of the message'."""
    url = queues(content_dedup=True)
    for body in ("same", "same", "other"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="event-1")
    assert drain(sqs, url, 2) == ["same", "other"]
    assert receive(sqs, url) == []


def test_a_message_received_max_receive_count_times_moves_to_the_dead_letter_queue(sqs, queues):
    """[DLQ] 'when the ReceiveCount for a message exceeds the maxReceiveCount for a queue,
    Amazon SQS moves the message to a dead-letter queue'; a FIFO queue's DLQ is FIFO and keeps the
    message's group. A poison command stops holding its event's group."""
    dlq = queues()
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    source = queues(RedrivePolicy=policy)
    send(sqs, source, ["poison", "next"])
    for _ in range(2):
        batch = receive(sqs, source, most=1, visibility=0)
        assert [m["Body"] for m in batch] == ["poison"]
    assert drain(sqs, source, 1) == ["next"], "the poison message is gone from the group"
    (dead,) = receive(sqs, dlq)
    assert dead["Body"] == "poison" and dead["Attributes"]["MessageGroupId"] == "event-1"


def test_batch_send_and_delete_take_ten_entries_and_report_each(sqs, queues):
    """[BATCH] up to 10 entries; each entry succeeds or fails on its own, reported by Id."""
    url = queues()
    send(sqs, url, numbered(10))
    too_many = [
        {"Id": str(i), "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": str(i)}
        for i in range(11)
    ]
    with pytest.raises(ClientError, match="TooManyEntriesInBatchRequest"):
        sqs.send_message_batch(QueueUrl=url, Entries=too_many)
    batch = receive(sqs, url)
    entries = [{"Id": "stale", "ReceiptHandle": "not-a-receipt-handle"}] + [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch[:9])
    ]
    response = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    assert len(response["Successful"]) == 9
    assert [f["Id"] for f in response["Failed"]] == ["stale"]


def test_the_queue_attributes_the_code_reads(sqs, queues):
    """[ATTR] QueueArn (the runner and the redrive policy), FifoQueue, ContentBasedDeduplication,
    VisibilityTimeout and RedrivePolicy as created, and ApproximateNumberOfMessages."""
    dlq = queues()
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert dlq_arn.startswith("arn:aws:sqs:") and dlq_arn.endswith(dlq.rsplit("/", 1)[1])
    policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}
    url = queues(content_dedup=True, VisibilityTimeout="45", RedrivePolicy=json.dumps(policy))
    send(sqs, url, numbered(3))
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true" and attributes["ContentBasedDeduplication"] == "true"
    assert attributes["VisibilityTimeout"] == "45"
    assert json.loads(attributes["RedrivePolicy"]) == policy
    deadline = time.monotonic() + 70  # AWS: 'approximate'; it settles within about a minute
    while attributes["ApproximateNumberOfMessages"] != "3" and time.monotonic() < deadline:
        time.sleep(1)
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "3"
