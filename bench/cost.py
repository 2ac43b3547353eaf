"""What a registration costs on AWS, from a model of what is written and read, not from the emulator.

DynamoDB Local's `ConsumedCapacity` is not AWS's: it reports 4 write units per table (plus 4 per
index) for a `TransactWriteItems` of 1, 2 or 10 items alike. So this benchmark records every
DynamoDB request the code under test sends (a botocore hook on its own client), looks up each
written item's image before and after the call (with a second, unrecorded client), and prices
them with DynamoDB's published rules:

- a write: 1 write unit per started KB of the larger of the item's before and after image,
  doubled inside a transaction (also when the transaction is cancelled);
- plus, for each index the item is in (before or after), one index write (two when the item's
  index key changes: a delete and a put), sized like the item (every index projects all
  attributes), doubled inside a transaction;
- a read: 1 read unit per started 4 KB (per item for GetItem/BatchGetItem, per response for
  Query), half of that for an eventually consistent read, doubled inside a transaction.

Prices (`PRICES`) are the public on-demand prices in us-east-1 as published in 2025.

Run: `.venv/bin/python -m bench bench.cost` (part of `make bench`).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.common import DynamoCalls, Summary, fifo_record, start_emulators, table
from chalicelib.shared import resources

TRANSACTIONAL_WRITES = {"Put", "Update", "Delete", "ConditionCheck"}


@dataclass(frozen=True)
class Prices:
    """USD, us-east-1, on demand, as published in 2025."""

    dated: str = "AWS public prices, us-east-1, as published in 2025"
    dynamodb_write_per_million: float = 0.625
    dynamodb_read_per_million: float = 0.125
    sqs_fifo_per_million: float = 0.50
    lambda_per_million_requests: float = 0.20
    lambda_per_gb_second: float = 0.0000166667  # x86
    api_gateway_rest_per_million: float = 3.50


PRICES = Prices()


# --- item sizes, as DynamoDB counts them ---------------------------------------------------------


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of an item in DynamoDB JSON: attribute names plus values (DynamoDB's documented rules:
    strings and binaries by length, numbers about one byte per two digits plus one, 1 byte for
    booleans and nulls, 3 bytes plus 1 per element for lists and maps)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in (item or {}).items())


def _value_size(value: dict[str, Any]) -> int:
    kind, content = next(iter(value.items()))
    if kind == "S":
        return len(content.encode())
    if kind == "B":
        return len(content)
    if kind == "N":
        digits = str(Decimal(content)).lstrip("-").replace(".", "").lstrip("0")
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in content.items())
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in content)
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in content)
    raise ValueError(kind)


def _kilobytes(size: int) -> int:
    return max(1, math.ceil(size / 1024))


# --- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """One item write: its images before and after, and whether it was inside a transaction."""

    before: dict[str, Any] | None
    after: dict[str, Any] | None
    transactional: bool

    def write_units(self) -> float:
        multiplier = 2 if self.transactional else 1
        size = _kilobytes(max(item_size(self.before), item_size(self.after)))
        units = size * multiplier
        for index in resources.TABLE.indexes:
            units += self._index_writes(index) * size * multiplier
        return units

    def _index_writes(self, index: resources.Index) -> int:
        keys = (index.partition_key, index.sort_key)

        def in_index(item: dict[str, Any] | None) -> bool:
            return item is not None and all(k in item for k in keys)

        was, is_ = in_index(self.before), in_index(self.after)
        if not was and not is_:
            return 0
        if was and is_:
            assert self.before is not None and self.after is not None
            if any(self.before[k] != self.after[k] for k in keys):
                return 2  # the index entry moves: a delete and a put
            return 1 if self.before != self.after else 0
        return 1


@dataclass
class Ledger:
    """Every DynamoDB request a client sent, priced."""

    writes: list[Written] = field(default_factory=list)
    read_units: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def write_units(self) -> float:
        return sum(w.write_units() for w in self.writes)


class Recorder(DynamoCalls):
    """Records the DynamoDB requests sent while it is open (a context manager). `peek` (another
    client on the same table) reads the images of the items a write touches, before and after
    it; its own reads are not recorded. (botocore shares event handlers between clients, so the
    recorder listens only while open, and only to the code under test.)"""

    def __init__(self, client: Any, peek: Any, table_name: str) -> None:
        super().__init__(client)
        self.ledger = Ledger()
        self._peek, self._table = peek, table_name
        self._pending: list[tuple[dict[str, Any], dict[str, Any] | None, bool]] = []
        self._peeking = False

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self._peeking:
            return
        self.ledger.requests[model.name] = self.ledger.requests.get(model.name, 0) + 1
        touched = _keys(model.name, params)
        self._pending = [(key, self._image(key), transactional) for key, transactional in touched]

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if self._peeking:
            return
        for key, before, transactional in self._pending:
            self.ledger.writes.append(Written(before, self._image(key), transactional))
        self._pending = []
        self.ledger.read_units += _read_units(model.name, parsed)

    def _image(self, key: dict[str, Any]) -> dict[str, Any] | None:
        self._peeking = True
        try:
            found = self._peek.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        finally:
            self._peeking = False
        item: dict[str, Any] | None = found.get("Item")
        return item


def _keys(operation: str, params: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
    """The key of every item a write request touches, and whether it is in a transaction."""
    if operation == "TransactWriteItems":
        touched = []
        for entry in params["TransactItems"]:
            [request] = [v for k, v in entry.items() if k in TRANSACTIONAL_WRITES]
            touched.append((_key_of(request.get("Key") or request["Item"]), True))
        return touched
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return [(_key_of(params.get("Key") or params["Item"]), False)]
    if operation == "BatchWriteItem":
        return [
            (_key_of(w.get("PutRequest", {}).get("Item") or w["DeleteRequest"]["Key"]), False)
            for writes in params["RequestItems"].values()
            for w in writes
        ]
    return []


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"PK": item["PK"], "SK": item["SK"]}


def _read_units(operation: str, parsed: dict[str, Any]) -> float:
    consistent = 1.0  # the code under test reads consistently where it decides (worst case)
    if operation == "GetItem":
        return consistent * math.ceil(max(item_size(parsed.get("Item")), 1) / 4096)
    if operation == "BatchGetItem":
        items = [i for found in parsed.get("Responses", {}).values() for i in found]
        return consistent * sum(math.ceil(max(item_size(i), 1) / 4096) for i in items)
    if operation == "Query":
        return consistent * max(1, math.ceil(sum(item_size(i) for i in parsed.get("Items", [])) / 4096))
    if operation == "TransactGetItems":
        return 2 * sum(
            math.ceil(max(item_size(r.get("Item")), 1) / 4096) for r in parsed.get("Responses", [])
        )
    return 0.0


# --- the benchmark -------------------------------------------------------------------------------


@dataclass
class Measured:
    name: str
    decisions: int
    ledger: Ledger
    queue_requests_per_decision: float  # SQS FIFO requests
    worker_invocations_per_decision: float
    polls_per_decision: float  # GET /requests calls a client makes (0 with Prefer: wait)

    @property
    def write_units(self) -> float:
        return self.ledger.write_units / self.decisions

    @property
    def read_units(self) -> float:
        return self.ledger.read_units / self.decisions

    def monthly_price(self, registrations: int = 1_000_000, prices: Prices = PRICES) -> dict[str, float]:
        """USD for `registrations` a month. Lambda GB-seconds assume 512 MB functions running
        30 ms per API call and 100 ms per worker batch (assumptions, not measured on AWS)."""
        millions = registrations / 1_000_000
        api_calls = 1 + self.polls_per_decision
        gb_seconds = 0.5 * (0.030 * api_calls + 0.100 * self.worker_invocations_per_decision)
        return {
            "DynamoDB": millions
            * (
                self.write_units * prices.dynamodb_write_per_million
                + self.read_units * prices.dynamodb_read_per_million
            ),
            "SQS FIFO": millions * self.queue_requests_per_decision * prices.sqs_fifo_per_million,
            "Lambda": millions
            * (
                (api_calls + self.worker_invocations_per_decision) * prices.lambda_per_million_requests
                + gb_seconds * 1_000_000 * prices.lambda_per_gb_second
            ),
            "API Gateway": millions * api_calls * prices.api_gateway_rest_per_million,
        }


def measure_turnstile(per_event: int, capacity: int) -> Measured:
    """The registration worker deciding one event's registrations in FIFO batches of 10."""
    from bench.worker import BATCH, _store, create_event, registrations
    from chalicelib.shared.aws import client as aws_client
    from workers.registration import handler

    store = _store()
    event_id = f"cost-{uuid.uuid4().hex[:6]}"
    create_event(store._client, store._table, event_id, capacity)
    messages = registrations(event_id, per_event)
    batches = [messages[i : i + BATCH] for i in range(0, per_event, BATCH)]
    with Recorder(store._client, aws_client("dynamodb"), store._table) as recorder:
        for sequence, batch in enumerate(batches):
            result = handler({"Records": [fifo_record(m, sequence) for m in batch]}, None)
            assert not result["batchItemFailures"], result
    # per registration: the API's SendMessage; per batch of 10: one ReceiveMessage and one
    # DeleteMessageBatch by the Lambda event source mapping
    return Measured("turnstile (batches of 10)", per_event, recorder.ledger, 1 + 2 / BATCH, 1 / BATCH, 1)


def measure_baseline(per_event: int, capacity: int) -> Measured:
    """A synchronous API: one transaction per request (and a second when the event is full)."""
    from bench.worker import SynchronousBaseline, _store, create_event
    from chalicelib.shared.aws import client as aws_client

    store = _store()
    client = aws_client("dynamodb")
    event_id = f"cost-base-{uuid.uuid4().hex[:6]}"
    create_event(client, store._table, event_id, capacity)
    baseline = SynchronousBaseline(client, store._table)
    with Recorder(client, aws_client("dynamodb"), store._table) as recorder:
        for i in range(per_event):
            baseline.register(event_id, f"user-{i}")
    return Measured("baseline (per request)", per_event, recorder.ledger, 0, 0, 0)


def measure_freed_seats(offers: bool, seats: int = 50) -> Measured:
    """Seats freed and taken again, per seat: a cancellation that promotes the head of the
    waitlist; or, with waitlist offers on, a cancellation that offers the head the seat and the
    offer's accept (two requests, each queued and polled)."""
    from bench.worker import BATCH, _store, create_event, registrations
    from chalicelib.shared.aws import client as aws_client
    from chalicelib.shared.clock import SystemClock
    from workers.registration import handler

    store = _store()
    event_id = f"cost-freed-{uuid.uuid4().hex[:6]}"
    create_event(store._client, store._table, event_id, seats, offer_ttl=600 if offers else None)

    def decide(messages: list[dict[str, Any]]) -> None:
        for sequence, start in enumerate(range(0, len(messages), BATCH)):
            batch = messages[start : start + BATCH]
            result = handler({"Records": [fifo_record(m, sequence) for m in batch]}, None)
            assert not result["batchItemFailures"], result

    decide(registrations(event_id, 2 * seats))  # seats taken, as many waiting (not counted)

    def command(kind: str, user: int) -> dict[str, Any]:
        request = {"type": kind, "requestId": uuid.uuid4().hex, "eventId": event_id}
        return {**request, "userId": f"user-{user}", "createdAt": SystemClock().now()}

    requests = [command("cancel", i) for i in range(seats)]
    if offers:
        requests += [command("accept_offer", seats + i) for i in range(seats)]
    with Recorder(store._client, aws_client("dynamodb"), store._table) as recorder:
        decide(requests)
    per_seat = len(requests) / seats  # requests per freed seat: each sent, received, polled
    name = "offered, then accepted" if offers else "promoted at once"
    return Measured(name, seats, recorder.ledger, per_seat * (1 + 2 / BATCH), per_seat / BATCH, per_seat)


def main() -> Summary:
    emulators, _ = start_emulators()
    try:
        per_event, capacity = 500, 100
        results = [measure_turnstile(per_event, capacity), measure_baseline(per_event, capacity)]
        print(f"{per_event} registrations for one event of {capacity} seats (waitlist on); {PRICES.dated}")
        rows = [("system", "write units/decision", "read units/decision", "USD per 1M registrations")]
        for result in results:
            price = result.monthly_price()
            rows.append(
                (
                    result.name,
                    f"{result.write_units:.2f}",
                    f"{result.read_units:.2f}",
                    f"{sum(price.values()):.2f} ("
                    + ", ".join(f"{k} {v:.2f}" for k, v in price.items())
                    + ")",
                )
            )
        print(table(rows))
        ours, theirs = results
        print(f"write units ratio turnstile/baseline: {ours.write_units / theirs.write_units:.2f}")
        print("requests recorded:", {r.name: r.ledger.requests for r in results})
        freed = [measure_freed_seats(offers=False), measure_freed_seats(offers=True)]
        print("a freed seat taken again (per seat: the cancellation, and the accept with offers)")
        rows = [("freed seat", "write units/seat", "read units/seat", "USD per 1M freed seats")]
        for result in freed:
            usd = sum(result.monthly_price().values())
            rows.append((result.name, f"{result.write_units:.2f}", f"{result.read_units:.2f}", f"{usd:.2f}"))
        print(table(rows))
    finally:
        emulators.stop()
    units = f"{ours.write_units / theirs.write_units:.2f}x"
    monthly = f"{sum(ours.monthly_price().values()):.2f} vs {sum(theirs.monthly_price().values()):.2f} USD"
    return [
        (
            "cost: write units per decision (model)",
            f"{ours.write_units:.2f} vs {theirs.write_units:.2f}",
            units,
        ),
        ("cost: a million registrations a month (model)", monthly, ""),
        (
            "cost: a freed seat offered+accepted vs promoted (model)",
            f"{freed[1].write_units:.2f} vs {freed[0].write_units:.2f} write units",
            f"{freed[1].write_units / freed[0].write_units:.2f}x",
        ),
    ]


if __name__ == "__main__":
    main()
