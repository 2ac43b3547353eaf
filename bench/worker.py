"""The registration worker's throughput and write cost, against DynamoDB Local (not through SQS).

Scenarios (issue 3):
  hot    one event, 5,000 registrations, capacity 1,000, waitlist on
  spread 50 events x 100 registrations (capacity 50 each)

Turnstile: `workers.registration.handler` gets Lambda-shaped FIFO batches of 10 (one group per
batch, as SQS FIFO fills a receive from one group when it can) and commits each batch in one
TransactWriteItems. Baseline: what a synchronous API does per request: one transaction of a
conditional seat update plus the registration put (and, when full, a second one that joins the
waitlist). Both run side by side in one process, on one DynamoDB Local, one boto3 client.

Write units are what DynamoDB Local reports in ReturnConsumedCapacity (asked for by this
benchmark on both sides' transactions, `ReportedWriteUnits`), which is not what AWS charges for
transactions; `bench.cost` models the real cost.
Run: `make bench` or `.venv/bin/python -m bench bench.worker`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from bench.common import Summary, fifo_record, start_emulators, table
from chalicelib.registrations.items import marked_request_id
from chalicelib.registrations.seat_store import DynamoSeatStore

BATCH = 10


@dataclass
class Result:
    name: str
    decisions: int
    seconds: float
    write_units: float

    @property
    def per_second(self) -> float:
        return self.decisions / self.seconds

    @property
    def units_per_decision(self) -> float:
        return self.write_units / self.decisions


def create_event(
    client: Any, table_name: str, event_id: str, capacity: int, offer_ttl: int | None = None
) -> None:
    from chalicelib.events.domain import Event
    from chalicelib.events.dynamodb import DynamoEventRepository

    event = Event(
        event_id,
        "bench",
        "2026-01-01",
        capacity,
        waitlist_enabled=True,
        created_at="c",
        updated_at="c",
        waitlist_offer_ttl=offer_ttl,
    )
    DynamoEventRepository(client, table_name).add(event)


def registrations(event_id: str, count: int) -> list[dict[str, Any]]:
    """Register commands as the API queues them: each request kept as its person's mark (so the
    registration it makes keeps its decision)."""
    users = [f"user-{i}" for i in range(count)]
    marked = [marked_request_id(event_id, u, uuid.uuid4().hex) for u in users]
    return [
        {"type": "register", "requestId": r, "eventId": event_id, "userId": u}
        for u, r in zip(users, marked, strict=True)
    ]


def run_turnstile(name: str, events: dict[str, int], per_event: int) -> Result:
    from workers.registration import handler

    store = _store()
    client, table_name = store._client, store._table
    for event_id, capacity in events.items():
        create_event(client, table_name, event_id, capacity)
    batches = []
    for event_id in events:
        messages = registrations(event_id, per_event)
        batches += [messages[i : i + BATCH] for i in range(0, per_event, BATCH)]
    batches = _interleave(batches, len(events))
    with ReportedWriteUnits(client) as reported:
        started = time.perf_counter()
        for sequence, batch in enumerate(batches):
            result = handler({"Records": [fifo_record(m, sequence) for m in batch]}, None)
            assert not result["batchItemFailures"], result
        elapsed = time.perf_counter() - started
    return Result(name, len(events) * per_event, elapsed, reported.units)


def _store() -> DynamoSeatStore:
    """The registration worker's own store (its client, table and write-unit count)."""
    from chalicelib.bootstrap import services

    store = services().decisions.store
    assert isinstance(store, DynamoSeatStore)
    return store


class ReportedWriteUnits:
    """While in use, every TransactWriteItems the client makes asks for its consumed capacity, and
    the units reported are added up (the worker's own code does not ask: it costs DynamoDB Local
    about a tenth of its CPU per transaction, for a figure that is wrong for transactions)."""

    def __init__(self, client: Any) -> None:
        self.units = 0.0
        self._events = client.meta.events
        self._hooks = (
            ("before-parameter-build.dynamodb.TransactWriteItems", self._ask),
            ("after-call.dynamodb.TransactWriteItems", self._count),
        )

    def __enter__(self) -> ReportedWriteUnits:
        for event, hook in self._hooks:
            self._events.register(event, hook)
        return self

    def __exit__(self, *_: object) -> None:
        for event, hook in self._hooks:
            self._events.unregister(event, hook)

    @staticmethod
    def _ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.units += sum(c.get("CapacityUnits", 0) for c in parsed.get("ConsumedCapacity", []))


def _interleave(batches: list[list[dict[str, Any]]], groups: int) -> list[list[dict[str, Any]]]:
    """Batches of different events alternate, as concurrent events' traffic would."""
    per_group = len(batches) // groups
    return [batches[g * per_group + i] for i in range(per_group) for g in range(groups)]


class SynchronousBaseline:
    """Per request: conditional seat update + registration put in one transaction."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client, self.table = client, table_name

    def register(self, event_id: str, user_id: str) -> str:
        key = {"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": "META"}}
        seat = {
            "Update": {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": "SET confirmedCount = confirmedCount + :one",
                "ConditionExpression": "confirmedCount < #capacity",
                "ExpressionAttributeNames": {"#capacity": "capacity"},
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
        if self._try(seat, self._registration(event_id, user_id, "confirmed")):
            return "confirmed"
        wait = {
            "Update": {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": "SET waitlistCount = waitlistCount + :one",
                "ConditionExpression": "waitlistEnabled = :true",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":true": {"BOOL": True}},
            }
        }
        return (
            "waitlisted"
            if self._try(wait, self._registration(event_id, user_id, "waitlisted"))
            else "rejected"
        )

    def _registration(self, event_id: str, user_id: str, status: str) -> dict[str, Any]:
        item = {
            "PK": {"S": f"EVENT#{event_id}"},
            "SK": {"S": f"REG#{user_id}"},
            "status": {"S": status},
            "userId": {"S": user_id},
            "eventId": {"S": event_id},
            "GSI1PK": {"S": f"USER#{user_id}#{status}"},
            "GSI1SK": {"S": event_id},
        }
        return {
            "Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
        }

    def _try(self, *writes: dict[str, Any]) -> bool:
        try:
            self.client.transact_write_items(TransactItems=list(writes))
        except ClientError as error:
            reasons = {r.get("Code") for r in error.response.get("CancellationReasons") or []}
            if error.response["Error"]["Code"] == "TransactionCanceledException" and (
                "TransactionConflict" not in reasons
            ):
                return False  # a condition failed: the event is full (or the user registered)
            raise  # a conflict with another writer's transaction: the caller may retry
        return True


def seed_counters(client: Any, table_name: str, event_id: str) -> None:
    """The seed's counters on the event item, where the synchronous baseline keeps them."""
    client.update_item(
        TableName=table_name,
        Key={"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": "META"}},
        UpdateExpression="SET confirmedCount = :zero, waitlistCount = :zero",
        ExpressionAttributeValues={":zero": {"N": "0"}},
    )


def run_baseline(name: str, events: dict[str, int], per_event: int) -> Result:
    store = _store()
    baseline = SynchronousBaseline(store._client, store._table)
    for event_id, capacity in events.items():
        create_event(store._client, store._table, event_id, capacity)
        seed_counters(store._client, store._table, event_id)
    order = [(e, f"user-{i}") for i in range(per_event) for e in events]
    with ReportedWriteUnits(store._client) as reported:
        started = time.perf_counter()
        for event_id, user_id in order:
            baseline.register(event_id, user_id)
        elapsed = time.perf_counter() - started
    return Result(name, len(order), elapsed, reported.units)


def scenarios() -> dict[str, tuple[dict[str, int], int]]:
    return {
        "hot (1 event x 5,000, capacity 1,000)": ({f"hot-{uuid.uuid4().hex[:6]}": 1000}, 5000),
        "spread (50 events x 100, capacity 50)": (
            {f"spread-{uuid.uuid4().hex[:6]}-{i}": 50 for i in range(50)},
            100,
        ),
    }


def main() -> Summary:
    emulators, _ = start_emulators()
    try:
        rows = [
            (
                "scenario",
                "system",
                "decisions",
                "seconds",
                "decisions/s",
                "DynamoDB Local write units (not AWS: bench.cost)",
            )
        ]
        ratios, speeds = [], []
        for name, (events, per_event) in scenarios().items():
            ours = run_turnstile("turnstile (batched)", events, per_event)
            theirs = run_baseline(
                "baseline (per request)", {f"{e}-b": c for e, c in events.items()}, per_event
            )
            for result in (ours, theirs):
                rows.append(
                    (
                        name,
                        result.name,
                        str(result.decisions),
                        f"{result.seconds:.1f}",
                        f"{result.per_second:.0f}",
                        f"{result.units_per_decision:.2f}",
                    )
                )
            ratios.append((name, ours.per_second / theirs.per_second))
            speeds.append(f"{ours.per_second:.0f} vs {theirs.per_second:.0f}")
        print(table(rows))
        for name, ratio in ratios:
            print(f"throughput ratio turnstile/baseline, {name}: {ratio:.1f}x")
    finally:
        emulators.stop()
    return [
        (f"worker: decisions/s, {name} (DynamoDB Local)", speed, f"{ratio:.1f}x")
        for (name, ratio), speed in zip(ratios, speeds, strict=True)
    ]


if __name__ == "__main__":
    main()
