"""How long a crashed registration batch holds up its event: a worker receives a batch and dies
(a Lambda timeout, out of memory, kill -9) without deleting or reporting it; the event's FIFO group
is then blocked until the queue's visibility timeout returns the batch. Measured on LocalStack's SQS
with the real worker, against the queue definition the stack deploys.

    .venv/bin/python -m bench bench.recovery
"""

from __future__ import annotations

import time
import uuid

from bench.common import Summary, start_emulators
from chalicelib.shared import resources

BASELINE_VISIBILITY_SECONDS = 180  # before: 6 x the 30 s function timeout


def main() -> Summary:
    emulators, environment = start_emulators()
    try:
        seconds = run(environment)
        print(f"recovery after a crashed batch: {seconds:.1f} s "
              f"(queue visibility timeout {resources.REGISTRATIONS.visibility_timeout} s; "
              f"it was {BASELINE_VISIBILITY_SECONDS} s before)")  # fmt: skip
    finally:
        emulators.stop()
    ratio = f"{seconds / BASELINE_VISIBILITY_SECONDS:.2f}x of {BASELINE_VISIBILITY_SECONDS} s"
    return [("recovery: an event resumes after a crashed batch", f"{seconds:.1f} s", ratio)]


def run(environment: dict[str, str]) -> float:
    import boto3

    from chalicelib.events.domain import Event
    from chalicelib.events.dynamodb import DynamoEventRepository
    from chalicelib.registrations.domain import RequestType
    from chalicelib.registrations.messages import CommandMessage
    from devstack.runner import QueuePoller, load_handler

    region = environment["AWS_DEFAULT_REGION"]
    dynamodb, sqs = boto3.client("dynamodb", region_name=region), boto3.client("sqs", region_name=region)
    table, url = environment["TURNSTILE_TABLE"], environment["TURNSTILE_REGISTRATIONS_QUEUE_URL"]
    event_id = f"bench-{uuid.uuid4().hex[:6]}"
    DynamoEventRepository(dynamodb, table).add(Event(event_id, "Bench", "2026-09-01", 10, created_at="c"))
    requests = [f"{event_id}-r{i}" for i in range(3)]
    for request_id in requests:
        message = CommandMessage(
            type=RequestType.REGISTER, requestId=request_id, eventId=event_id, userId=request_id
        )
        sqs.send_message(
            QueueUrl=url,
            MessageBody=message.body(),
            MessageGroupId=event_id,
            MessageDeduplicationId=request_id,
        )
    crashed = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert crashed, "the worker that crashed received nothing"
    started = time.monotonic()  # the worker dies here, holding the batch
    poller = QueuePoller(url, load_handler("workers.registration.handler"), name="registrations", sqs=sqs)
    while not all(_completed(dynamodb, table, r) for r in requests):
        poller.poll_once(wait_seconds=1)
        if time.monotonic() - started > 4 * BASELINE_VISIBILITY_SECONDS:
            raise SystemExit("the event never resumed")
    return time.monotonic() - started


def _completed(dynamodb, table: str, request_id: str) -> bool:
    from chalicelib.shared import table as keys

    item = dynamodb.get_item(TableName=table, Key=keys.request_key(request_id), ConsistentRead=True).get(
        "Item"
    )
    return bool(item) and item["status"]["S"] == "completed"


if __name__ == "__main__":
    main()
