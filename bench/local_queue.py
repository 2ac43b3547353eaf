"""The local queue under depth: sends and receive+deletes a second on one FIFO message group,
with 100, 1,000 and 10,000 messages already queued.

One group is the worst case for an emulator's FIFO bookkeeping and the shape of a rush for one
event. At each depth the queue is filled (untimed), then timed: `SAMPLE` single `SendMessage`
calls from `SENDERS` threads (the API sends one per registration, from many request threads),
and receiving and deleting `SAMPLE` messages ten at a time from one thread (what the runner
does per batch), so the depth stays within `SAMPLE` of the figure.

Against LocalStack (what `make dev` and the tests use), and against moto's in-process SQS at the
shallow depths as the baseline (moto 5.2.5 does O(depth) work on every FIFO call, so 10,000 deep
would take it many minutes). Run: `.venv/bin/python -m bench bench.local_queue`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from bench.common import Summary, start_emulators, table

DEPTHS = (100, 1_000, 10_000)
BASELINE_DEPTHS = (100, 1_000)
SAMPLE = 500
SENDERS = 8  # the API sends one message per registration, from many request threads at once
BASELINE_SAMPLE = 100


def main() -> Summary:
    import boto3

    emulators, _ = start_emulators()
    try:
        localstack = measure(boto3.client("sqs"), DEPTHS, SAMPLE)
    finally:
        emulators.stop()
    with moto_sqs() as sqs:
        moto = measure(sqs, BASELINE_DEPTHS, BASELINE_SAMPLE)
    print("messages a second: sent one per call (8 threads), sent ten per call, received+deleted")
    heading = (
        "depth",
        "LocalStack: sent",
        "batched",
        "received+deleted",
        "moto: sent",
        "batched",
        "received+deleted",
    )
    rows: list[tuple[str, ...]] = [heading]
    for depth in DEPTHS:
        base = moto.get(depth)
        figures = [*localstack[depth], *(base or ())]
        rows.append((f"{depth:,}", *(f"{f:,.0f}" for f in figures), *(["-"] * 3 if base is None else [])))
    print(table(rows))
    deepest, shallow = DEPTHS[-1], BASELINE_DEPTHS[-1]
    return [
        (
            f"local queue: sends/s at {deepest:,} deep (moto at {shallow:,})",
            f"{localstack[deepest][0]:,.0f} ({moto[shallow][0]:,.0f})",
            f"{localstack[deepest][0] / moto[shallow][0]:.0f}x",
        ),
        (
            f"local queue: receive+deletes/s at {deepest:,} deep (moto at {shallow:,})",
            f"{localstack[deepest][2]:,.0f} ({moto[shallow][2]:,.0f})",
            f"{localstack[deepest][2] / moto[shallow][2]:.0f}x",
        ),
    ]


@contextmanager
def moto_sqs() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1", endpoint_url="https://sqs.us-east-1.amazonaws.com")


def measure(sqs: Any, depths: tuple[int, ...], sample: int) -> dict[int, tuple[float, float, float]]:
    """depth -> messages a second: sent one per call, sent ten per call, received and deleted."""
    url = sqs.create_queue(
        QueueName=f"depth-{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true", "VisibilityTimeout": "300"},
    )["QueueUrl"]
    figures: dict[int, tuple[float, float, float]] = {}
    queued = 0
    for depth in depths:
        fill(sqs, url, depth - queued)
        started = time.perf_counter()
        with ThreadPoolExecutor(SENDERS) as pool:
            list(pool.map(lambda _: send_one(sqs, url), range(sample)))
        sends = sample / (time.perf_counter() - started)
        started = time.perf_counter()
        fill(sqs, url, sample)
        batched = sample / (time.perf_counter() - started)
        started = time.perf_counter()
        received = drain(sqs, url, 2 * sample)
        figures[depth] = (sends, batched, received / (time.perf_counter() - started))
        queued = depth
        print(f"depth {depth:>6,}: " + ", ".join(f"{f:,.0f}" for f in figures[depth]), flush=True)
    sqs.delete_queue(QueueUrl=url)
    return figures


def send_one(sqs: Any, url: str) -> None:
    sqs.send_message(
        QueueUrl=url, MessageBody="x" * 200, MessageGroupId="event", MessageDeduplicationId=uuid.uuid4().hex
    )


def fill(sqs: Any, url: str, count: int) -> None:
    for start in range(0, count, 10):
        entries = [
            {
                "Id": str(i),
                "MessageBody": "x" * 200,
                "MessageGroupId": "event",
                "MessageDeduplicationId": uuid.uuid4().hex,
            }
            for i in range(min(10, count - start))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def drain(sqs: Any, url: str, count: int) -> int:
    received = 0
    while received < count:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        received += len(messages)
    return received
