"""What one hot event decides per second on AWS: a scale model with AWS's latencies injected.

Every DynamoDB call the code under test makes is held until it has taken what the same call
takes on AWS (public p50 figures: PutItem and GetItem about 8 ms; TransactWriteItems about 25 ms
for 5 items and 32 ms for 25, nearly flat: 23.25 ms + 0.35 ms per item). A call DynamoDB Local
answers more slowly (a 21-item transaction takes it about 50 ms) is counted at AWS's figure:
the time reported is the wall time minus what DynamoDB Local took plus what AWS would take.
DynamoDB Local also runs concurrent transactions on one item one after another, where AWS
cancels all but one (`TransactionConflict`): the model does what AWS does, holding the event
item for the length of a transaction and cancelling any other that touches it meanwhile. Then,
on one event:

- Turnstile: one FIFO group, batches of ten decided one after another (as SQS FIFO delivers one
  group), each a consistent BatchGetItem and one TransactWriteItems, plus BATCH_OVERHEAD_MS per
  batch for SQS and Lambda;
- the synchronous baseline: N concurrent writers, each deciding one request in its own
  transaction on the same event item, retrying (with jittered backoff) when DynamoDB cancels the
  transaction for a conflict with another writer's.

Run: `.venv/bin/python -m bench bench.scale` (part of `make bench`).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from bench.common import DynamoCalls, Summary, fifo_record, start_emulators, table

FLAT_MS = {"GetItem": 8.0, "PutItem": 8.0, "UpdateItem": 8.0, "BatchGetItem": 8.0, "Query": 8.0}
TRANSACTION_MS, PER_ITEM_MS = 23.25, 0.35  # TransactWriteItems: 25 ms for 5 items, 32 ms for 25
SEATS, REQUESTS = 200, 400
SALE = 100_000
# Per FIFO batch on AWS, besides DynamoDB: the event source mapping's receive and delete and the
# Lambda invocation (an assumption, not a published figure: about 30 ms together).
BATCH_OVERHEAD_MS = 30.0
MAX_TRIES = 30  # what an SDK client might allow before answering the user with an error


def aws_ms(operation: str, params: dict[str, Any]) -> float:
    if operation == "TransactWriteItems":
        return TRANSACTION_MS + PER_ITEM_MS * len(params.get("TransactItems", []))
    return FLAT_MS.get(operation, 8.0)


class AwsLatency(DynamoCalls):
    """Holds each call of `client` until it took at least its AWS p50, counts what DynamoDB Local
    took and what AWS would, and cancels a transaction on `hot` (an item key) while another
    holds it, as AWS does (a context manager)."""

    def __init__(self, client: Any, hot: dict[str, Any] | None = None) -> None:
        super().__init__(client)
        self._started = threading.local()
        self._hot, self._holder = hot, threading.Lock()
        self._counts = threading.Lock()
        self.local_seconds = self.aws_seconds = 0.0

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        holds = self._hot is not None and model.name == "TransactWriteItems" and self._touches_hot(params)
        if holds and not self._holder.acquire(blocking=False):
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "modelled conflict"},
                    "CancellationReasons": [{"Code": "TransactionConflict"}],
                },
                "TransactWriteItems",
            )
        self._started.at = (time.perf_counter(), aws_ms(model.name, params) / 1000, holds)

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        started, target, holds = self._started.at
        took = time.perf_counter() - started
        if target > took:
            time.sleep(target - took)
        if holds:
            self._holder.release()
        with self._counts:
            self.local_seconds += took
            self.aws_seconds += target

    def _touches_hot(self, params: dict[str, Any]) -> bool:
        for entry in params.get("TransactItems", []):
            for request in entry.values():
                if request.get("Key") == self._hot or _key(request.get("Item")) == self._hot:
                    return True
        return False


def _key(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return {"PK": item["PK"], "SK": item["SK"]} if item else None


@dataclass
class Rate:
    design: str
    writers: int
    decisions: int
    seconds: float
    retries: int = 0
    abandoned: int = 0

    @property
    def per_second(self) -> float:
        return self.decisions / self.seconds


def turnstile() -> Rate:
    from bench.worker import BATCH, _store, create_event, registrations
    from workers.registration import handler

    store = _store()
    event_id = f"scale-{uuid.uuid4().hex[:6]}"
    create_event(store._client, store._table, event_id, SEATS)
    messages = registrations(event_id, REQUESTS)
    batches = [messages[i : i + BATCH] for i in range(0, REQUESTS, BATCH)]
    with AwsLatency(store._client) as latency:
        started = time.perf_counter()
        for sequence, batch in enumerate(batches):
            assert not handler({"Records": [fifo_record(m, sequence) for m in batch]}, None)[
                "batchItemFailures"
            ]
        wall = time.perf_counter() - started
    modelled = wall - max(latency.local_seconds, latency.aws_seconds) + latency.aws_seconds
    modelled += len(batches) * BATCH_OVERHEAD_MS / 1000
    return Rate("turnstile: one FIFO group, batches of 10", 1, REQUESTS, modelled)


class RetryingBaseline:
    """The synchronous baseline, retrying a transaction cancelled by a conflict."""

    def __init__(self, client: Any, table_name: str) -> None:
        from bench.worker import SynchronousBaseline

        self.inner = SynchronousBaseline(client, table_name)
        self.retries = self.abandoned = 0
        self._lock = threading.Lock()
        original = self.inner._try

        def attempt(*writes: dict[str, Any]) -> bool:
            for tries in range(MAX_TRIES):
                try:
                    return original(*writes)
                except ClientError as error:
                    if not _conflict(error):
                        raise
                with self._lock:
                    self.retries += 1
                time.sleep(random.uniform(0, 0.01 * 2 ** min(tries, 6)))  # full jitter, up to 640 ms
            with self._lock:
                self.abandoned += 1  # the client gives up: an error to the user
            return False

        self.inner._try = attempt  # type: ignore[method-assign]


def _conflict(error: ClientError) -> bool:
    reasons = error.response.get("CancellationReasons") or []
    codes = {r.get("Code") for r in reasons} | {error.response["Error"]["Code"]}
    return bool(
        codes & {"TransactionConflict", "TransactionConflictException", "TransactionInProgressException"}
    )


def baseline(writers: int) -> Rate:
    from bench.worker import _store, create_event
    from chalicelib.shared.aws import client as aws_client

    store = _store()
    client = aws_client("dynamodb")
    event_id = f"scale-base-{uuid.uuid4().hex[:6]}"
    create_event(client, store._table, event_id, SEATS)
    retrying = RetryingBaseline(client, store._table)
    event_key = {"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": "META"}}
    with AwsLatency(client, hot=event_key), ThreadPoolExecutor(writers) as pool:
        started = time.perf_counter()
        list(pool.map(lambda i: retrying.inner.register(event_id, f"user-{i}"), range(REQUESTS)))
        elapsed = time.perf_counter() - started
    name = f"baseline: {writers} concurrent writers"
    return Rate(name, writers, REQUESTS - retrying.abandoned, elapsed, retrying.retries, retrying.abandoned)


def run() -> list[Rate]:
    return [turnstile(), *[baseline(n) for n in (1, 4, 16, 32)]]


def main() -> Summary:
    emulators, _ = start_emulators()
    try:
        rates = run()
    finally:
        emulators.stop()
    print(f"one event, {SEATS} seats, {REQUESTS} registrations; AWS p50 latencies injected")
    rows = [("design", "decisions/s", "conflict retries", "gave up", f"a {SALE:,}-seat sale")]
    for rate in rates:
        minutes = f"{SALE / rate.per_second / 60:.1f} min"
        rows.append((rate.design, f"{rate.per_second:.0f}", str(rate.retries), str(rate.abandoned), minutes))
    print(table(rows))
    ours = rates[0].per_second
    best = max(rates[1:], key=lambda r: r.per_second)
    print(f"turnstile / best synchronous ({best.writers} writers): {ours / best.per_second:.1f}x")
    return [("scale: hot event decisions/s on AWS (model)", f"{ours:.0f}", f"{ours / best.per_second:.1f}x")]


if __name__ == "__main__":
    main()
