"""`make dlq ARGS="list|redrive [--queue NAME]"`: inspect and redrive a dead-letter queue.

Talks to whatever `AWS_ENDPOINT_URL_SQS` points at (default: the `make dev` stack's LocalStack
on 127.0.0.1:$LOCALSTACK_PORT, 8002 unless set, as `make dev` uses); set it to a deployed stage's SQS
endpoint, with AWS credentials, to use that stage's queues.
A redriven message goes back to its source queue in its original message group, with a fresh
deduplication id; the worker skips any request that already completed, so a redrive is safe.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any
from urllib.parse import urlparse

import boto3

from chalicelib.shared import resources

SOURCES = {q.dead_letter: q.name for q in resources.QUEUES if q.dead_letter}


def sqs_client() -> Any:
    os.environ.setdefault(
        "AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '8002')}"
    )
    if is_local(os.environ["AWS_ENDPOINT_URL_SQS"]):  # an emulator takes any keys; AWS: the caller's
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    return boto3.client("sqs", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def is_local(endpoint: str) -> bool:
    """Whether an endpoint is on this machine (an emulator), not a deployed stage's."""
    return urlparse(endpoint).hostname in ("127.0.0.1", "localhost", "::1")


def peek(sqs: Any, url: str, limit: int = 100) -> list[dict[str, Any]]:
    """Messages in the queue, left in place (received with a zero visibility timeout)."""
    seen: dict[str, dict[str, Any]] = {}
    for _ in range(max(limit // 10, 1)):
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        fresh = [m for m in batch.get("Messages", []) if m["MessageId"] not in seen]
        if not fresh:
            break
        seen.update({m["MessageId"]: m for m in fresh})
    return list(seen.values())


def redrive(sqs: Any, dlq_url: str, source_url: str, fifo: bool) -> int:
    moved = 0
    while True:
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return moved
        for message in batch:
            extra: dict[str, Any] = {}
            if fifo:
                extra = {
                    "MessageGroupId": message["Attributes"]["MessageGroupId"],
                    "MessageDeduplicationId": f"redrive-{message['MessageId']}",
                }
            sqs.send_message(QueueUrl=source_url, MessageBody=_redriven(message["Body"]), **extra)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def _redriven(body: str) -> str:
    """Mark a webhook delivery as redriven, so the dispatcher reopens what it had given up (a
    registration command needs no mark: the worker skips what it already decided)."""
    try:
        message = json.loads(body)
    except ValueError:
        return body
    if isinstance(message, dict) and "deliveryId" in message:
        return json.dumps({**message, "redrive": True})
    return body


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make dlq", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["list", "redrive"])
    parser.add_argument("--queue", default=resources.REGISTRATIONS_DLQ.name, choices=sorted(SOURCES))
    args = parser.parse_args(argv)
    sqs = sqs_client()
    dlq_url = sqs.get_queue_url(QueueName=args.queue)["QueueUrl"]
    if args.action == "list":
        messages = peek(sqs, dlq_url)
        for message in messages:
            error = message.get("MessageAttributes", {}).get("error", {}).get("StringValue", "")
            group = message.get("Attributes", {}).get("MessageGroupId", "-")
            print(f"{message['MessageId']}  group={group}  {message['Body'][:120]}  {error[:120]}")
        print(f"{len(messages)} message(s) in {args.queue}")
        return 0
    source = resources.queue_named(SOURCES[args.queue])
    source_url = sqs.get_queue_url(QueueName=source.name)["QueueUrl"]
    print(f"redrove {redrive(sqs, dlq_url, source_url, source.fifo)} message(s) to {source.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
