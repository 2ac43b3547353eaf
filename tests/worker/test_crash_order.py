"""A worker killed mid-batch, through the real local queue: nothing deleted, nothing reported as
failed. After the visibility timeout the event's group comes back in its original order, and
every command is decided as one clean run in that order would decide it."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from devstack.runner import QueuePoller
from tests.worker.conftest import register
from workers.registration import handler

VISIBILITY_SECONDS = 2


class Killed(BaseException):
    """The Lambda process dies: no return value, no batchItemFailures, no delete."""


def fresh_queue(sqs: Any) -> str:
    name = f"crash-{uuid.uuid4().hex[:10]}.fifo"
    attributes = {"FifoQueue": "true", "VisibilityTimeout": str(VISIBILITY_SECONDS)}
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def test_a_batch_killed_half_way_is_decided_again_in_its_original_order(world):
    queue = fresh_queue(world.sqs)
    event = world.event(capacity=3)
    commands = [register(event, f"u{i:02d}", request_id=f"{event}-{i:02d}") for i in range(14)]
    for command in commands:
        world.sqs.send_message(
            QueueUrl=queue,
            MessageBody=json.dumps(command),
            MessageGroupId=event,
            MessageDeduplicationId=command["requestId"],
        )

    def decide_half_then_die(lambda_event: dict, context: object) -> dict:
        handler({"Records": lambda_event["Records"][:5]}, context)
        raise Killed

    dying = QueuePoller(queue, decide_half_then_die, name="dying", sqs=world.sqs)
    try:
        dying.poll_once(wait_seconds=1)
        raise AssertionError("the handler was killed")
    except Killed:
        pass
    assert world.request(commands[4]["requestId"])["status"] == "completed"
    assert world.request(commands[5]["requestId"]) is None, "the rest of the batch was never decided"

    seen: list[tuple[str, str]] = []  # (request id, receive count), in the order handed over

    def recording(lambda_event: dict, context: object) -> dict:
        for record in lambda_event["Records"]:
            seen.append(
                (json.loads(record["body"])["requestId"], record["attributes"]["ApproximateReceiveCount"])
            )
        return handler(lambda_event, context)

    healthy = QueuePoller(queue, recording, name="healthy", sqs=world.sqs)
    assert healthy.poll_once(wait_seconds=0) == 0, "the group is held until the timeout"
    deadline = time.monotonic() + 30
    while len(seen) < len(commands) and time.monotonic() < deadline:
        healthy.poll_once(wait_seconds=1)

    assert [request for request, _ in seen] == [c["requestId"] for c in commands]
    assert [count for _, count in seen] == ["2"] * 10 + ["1"] * 4, "the killed batch came back first"
    outcomes = [world.request(c["requestId"])["outcome"] for c in commands]
    assert outcomes == [{"type": "confirmed"}] * 3 + [
        {"type": "waitlisted", "position": p} for p in range(1, 12)
    ]
    world.sqs.delete_queue(QueueUrl=queue)
