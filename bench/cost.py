"""What a registration costs on AWS: every write the API and the worker make for it, recorded from
the code itself on DynamoDB Local, and priced by DynamoDB's published rules (not the emulator's
`ConsumedCapacity`, which reports 4 write units per table and per index for a `TransactWriteItems`
of 1, 2 or 10 items alike).

How a write is priced:

- 1 write unit per started KB of the larger of the item's images before and after the call (a
  write whose condition fails is charged too), doubled inside a transaction (cancelled ones too);
- plus, for each index the item is in (before or after), one index write (two when its index key
  changes: a delete and a put), sized like the item (every index projects all attributes). AWS
  documents the doubling for the table's item only, so every figure is given under both readings:
  index writes in a transaction doubled like the item, and not doubled;
- a read: 1 read unit per started 4 KB (per item for GetItem/BatchGetItem, per response for
  Query), counted as consistent (the worst case), doubled inside a transaction.

What a registration is charged, per traffic profile (one event):

- trickle: 1 registration a second; busy: 50 a second; rush: a 100,000-seat on-sale where
  300,000 requests arrive in its first minute;
- the batch the worker gets comes from the mechanics of one FIFO group: a group releases its next
  batch only when the last one is deleted, so a batch holds what arrived during one cycle (receive,
  invoke, one read, one transaction, delete: `bench.scale`'s latencies), at most 10;
- polls of `GET /requests/{id}` come from the protocol as it is (`Retry-After`: the seconds
  until the request's estimated decision while that is 30 or less, else halfway to it, at most
  300) and the time a request waits: one cycle and a half when the group keeps up, its place in
  the backlog when it does not; what a poll reads is measured through the API's service, once
  while the request is pending and once when it is decided (all but the last poll find it
  pending);
- two event sizes: a small event and a realistic one (a 2,000-character description).

Baselines, measured the same way on the same table, item shapes and indexes: a synchronous API
written as a competent engineer would (a conditional `UpdateItem` on a counter item, then a
`PutItem` of the registration, no transaction), and the seed's (a transaction of the seat update
on the event item and the registration). Neither queues or polls.

Prices (`PRICES`) are the public on-demand prices in us-east-1 as published in 2025.

Run: `.venv/bin/python -m bench bench.cost` (part of `make bench`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from bench.common import DynamoCalls, Summary, start_emulators, table
from bench.scale import BATCH_OVERHEAD_MS, FLAT_MS, PER_ITEM_MS, TRANSACTION_MS
from bench.worker import seed_counters
from chalicelib.registrations.domain import Registration, Standing
from chalicelib.registrations.items import LSI1_SEQ, WAITLIST_SEQ, marked_request_id, registration_item
from chalicelib.shared import resources
from chalicelib.shared.table import JOINERS_PREFIX

TRANSACTIONAL_WRITES = {"Put", "Update", "Delete", "ConditionCheck"}
MAX_BATCH = 10  # SQS FIFO: one receive, one Lambda batch
REALISTIC_DESCRIPTION = 2_000


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


# --- pricing one write ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """One item write: its images before and after, and whether it was inside a transaction."""

    before: dict[str, Any] | None
    after: dict[str, Any] | None
    transactional: bool

    @property
    def kind(self) -> str:
        """What was written, for the breakdown: the table's item types by key."""
        image = self.after or self.before or {}
        pk, sk = image.get("PK", {}).get("S", ""), image.get("SK", {}).get("S", "")
        if sk.startswith("REG#"):
            return "mark" if pk.startswith("USER#") else "registration"  # a person's mark: their list
        if sk.startswith(JOINERS_PREFIX):
            return "waitlist joiners"  # a batch's joiners, the waitlist's order
        if sk not in ("META", ""):
            return f"{pk.split('#')[0].lower()} {sk.split('#')[0].lower()}"  # e.g. "event seats"
        return pk.split("#")[0].lower() or "unknown"

    def item_units(self) -> float:
        return self.size() * (2 if self.transactional else 1)

    def index_units(self, doubled: bool) -> float:
        """Index writes; `doubled`: inside a transaction they count twice, like the item."""
        multiplier = 2 if self.transactional and doubled else 1
        return sum(self.index_writes(index) for index in resources.TABLE.indexes) * self.size() * multiplier

    def units(self, doubled: bool) -> float:
        return self.item_units() + self.index_units(doubled)

    def size(self) -> int:
        return _kilobytes(max(item_size(self.before), item_size(self.after)))

    def index_writes(self, index: resources.Index) -> int:
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
    transaction_items: list[int] = field(default_factory=list)

    def write_units(self, doubled: bool) -> float:
        return sum(w.units(doubled) for w in self.writes)

    def by_kind(self, doubled: bool) -> dict[str, float]:
        """Write units by what was written: the item itself, and its index writes."""
        parts: dict[str, float] = {}
        for w in self.writes:
            parts[w.kind] = parts.get(w.kind, 0.0) + w.item_units()
            if index := w.index_units(doubled):
                parts[f"{w.kind} indexes"] = parts.get(f"{w.kind} indexes", 0.0) + index
        return parts


class Recorder(DynamoCalls):
    """Records the DynamoDB requests sent while it is open (a context manager). `peek` (another
    client on the same table) reads the images of the items a write touches, before and after
    it; its own reads are not recorded. (botocore shares event handlers between clients, so
    every client of the process is recorded while it is open.)"""

    def __init__(self, client: Any, peek: Any, table_name: str) -> None:
        super().__init__(client)
        self.ledger = Ledger()
        self._peek, self._table = peek, table_name
        self._pending: list[tuple[dict[str, Any], dict[str, Any] | None, bool]] = []
        self._peeking = False
        self._asked = 0  # keys the BatchGetItem in flight asked for

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self._peeking:
            return
        self.ledger.requests[model.name] = self.ledger.requests.get(model.name, 0) + 1
        if model.name == "TransactWriteItems":
            self.ledger.transaction_items.append(len(params["TransactItems"]))
        touched = _keys(model.name, params)
        self._pending = [(key, self._image(key), transactional) for key, transactional in touched]
        asked = params.get("RequestItems", {}).values() if model.name == "BatchGetItem" else []
        self._asked = sum(len(request["Keys"]) for request in asked)

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if self._peeking:
            return
        for key, before, transactional in self._pending:
            self.ledger.writes.append(Written(before, self._image(key), transactional))
        self._pending = []
        self.ledger.read_units += _read_units(model.name, parsed, self._asked)

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


def _read_units(operation: str, parsed: dict[str, Any], asked: int = 0) -> float:
    """Read units of one read; a key asked for and not found is charged as one unit too."""
    if operation == "GetItem":
        return math.ceil(max(item_size(parsed.get("Item")), 1) / 4096)
    if operation == "BatchGetItem":
        items = [i for found in parsed.get("Responses", {}).values() for i in found]
        missing = max(0, asked - len(items))
        return sum(math.ceil(max(item_size(i), 1) / 4096) for i in items) + missing
    if operation == "Query":
        return max(1, math.ceil(sum(item_size(i) for i in parsed.get("Items", [])) / 4096))
    if operation == "TransactGetItems":
        return 2 * sum(
            math.ceil(max(item_size(r.get("Item")), 1) / 4096) for r in parsed.get("Responses", [])
        )
    return 0.0


# --- traffic: batches and polls from the mechanics -------------------------------------------------


@dataclass(frozen=True)
class Profile:
    name: str
    arrivals_per_second: float
    requests: int  # how many arrive in the profile (the rush: the whole on-sale)
    seats: int

    @property
    def arrival_seconds(self) -> float:
        return self.requests / self.arrivals_per_second


PROFILES = (
    Profile("trickle", 1, 3_600, 3_600),
    Profile("busy", 50, 180_000, 180_000),
    Profile("rush", 5_000, 300_000, 100_000),
)


@dataclass(frozen=True)
class Pipeline:
    """One event's FIFO group on AWS: a cycle per batch (the mapping's receive and delete and
    the invocation, one consistent read, one transaction of `items(batch)` items)."""

    items: Callable[[float], float]  # transaction items for a batch of this many

    def cycle_seconds(self, batch: float) -> float:
        ms = BATCH_OVERHEAD_MS + FLAT_MS["BatchGetItem"] + TRANSACTION_MS + PER_ITEM_MS * self.items(batch)
        return ms / 1000

    def batch(self, arrivals_per_second: float) -> float:
        """What a batch holds in steady state: what arrives during one cycle, 1 to 10."""
        size = 1.0
        for _ in range(50):
            size = min(MAX_BATCH, max(1.0, arrivals_per_second * self.cycle_seconds(size)))
        return size

    def rate(self) -> float:
        """Decisions a second when the group is never empty (full batches)."""
        return MAX_BATCH / self.cycle_seconds(MAX_BATCH)

    def mean_polls(self, profile: Profile, retry_after: Callable[[float], float]) -> float:
        """Polls per request: a client polls after each `Retry-After` until its request is
        decided. Without a backlog a request waits about one and a half cycles; in a rush the
        i-th request is decided at i / rate, having arrived at i / arrivals."""
        rate = self.rate()
        if profile.arrivals_per_second < rate:
            return polls(1.5 * self.cycle_seconds(self.batch(profile.arrivals_per_second)), retry_after)
        lag = 1 / rate - 1 / profile.arrivals_per_second
        sample = range(0, profile.requests, max(1, profile.requests // 2_000))
        return sum(polls(i * lag, retry_after) for i in sample) / len(sample)


def polls(wait_seconds: float, retry_after: Callable[[float], float]) -> int:
    """GET /requests calls until the answer is decided: the first after `Retry-After`."""
    count, waited = 0, 0.0
    while True:
        count += 1
        waited += retry_after(wait_seconds - waited)
        if waited >= wait_seconds:
            return count


def protocol_retry_after(left: float) -> float:
    """The `Retry-After` a pending request answers (`registrations.lanes`), taking the estimate
    as right: the seconds until its decision while near, else halfway there."""
    from chalicelib.registrations.lanes import ask_again_after

    return float(ask_again_after(left))


# --- measuring one design ------------------------------------------------------------------------


@dataclass
class Phase:
    """What deciding `decisions` registrations of one outcome wrote and read."""

    decisions: int
    api: Ledger
    worker: Ledger
    # read units of one `GET /requests/{id}`: while the request is pending, and once decided
    polls: tuple[float, float] = (0.0, 0.0)

    def poll_reads(self, polls: float) -> float:
        """Read units of `polls` polls of one request: all but the last find it pending."""
        pending, decided = self.polls
        return max(polls - 1, 0) * pending + min(polls, 1) * decided

    def units(self, doubled: bool) -> float:
        return (self.api.write_units(doubled) + self.worker.write_units(doubled)) / self.decisions

    def reads(self) -> float:
        return (self.api.read_units + self.worker.read_units) / self.decisions

    def breakdown(self, doubled: bool) -> str:
        parts: dict[str, float] = {}
        for side, ledger in (("API", self.api), ("worker", self.worker)):
            for kind, units in ledger.by_kind(doubled).items():
                parts[f"{side} {kind}"] = units / self.decisions
        return ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items(), key=lambda p: -p[1]))


@dataclass
class Measured:
    design: str
    event: str
    batch: int
    confirmed: Phase
    waitlisted: Phase
    queue_requests: float = 0.0  # SQS requests per registration
    worker_invocations: float = 0.0
    polls: float = 0.0

    def poll_reads(self) -> float:
        """Read units of the polls of one registration (half confirmed, half waitlisted)."""
        return (self.confirmed.poll_reads(self.polls) + self.waitlisted.poll_reads(self.polls)) / 2

    def usd_per_million(self, prices: Prices = PRICES) -> float:
        """USD for a million registrations, half confirmed, half waitlisted. Lambda GB-seconds
        assume 512 MB functions running 30 ms per API call (40 ms for the synchronous one) and
        100 ms per worker batch (assumptions, not measured on AWS)."""
        writes = (self.confirmed.units(False) + self.waitlisted.units(False)) / 2
        reads = (self.confirmed.reads() + self.waitlisted.reads()) / 2 + self.poll_reads()
        api_calls = 1 + self.polls
        api_seconds = 0.030 * api_calls if self.worker_invocations else 0.040
        gb_seconds = 0.5 * (api_seconds + 0.100 * self.worker_invocations)
        return (
            writes * prices.dynamodb_write_per_million
            + reads * prices.dynamodb_read_per_million
            + self.queue_requests * prices.sqs_fifo_per_million
            + (api_calls + self.worker_invocations) * prices.lambda_per_million_requests
            + gb_seconds * 1_000_000 * prices.lambda_per_gb_second
            + api_calls * prices.api_gateway_rest_per_million
        )


class World:
    """The emulators' table, recording clients, and a fresh event with users to register."""

    def __init__(self) -> None:
        from chalicelib.bootstrap import services
        from chalicelib.shared.aws import client as aws_client

        self.services = services()
        self.client = aws_client("dynamodb")
        self.peek = aws_client("dynamodb")
        self.sqs = aws_client("sqs")
        self.table = self.services.settings.table_name

    def recording(self) -> Recorder:
        return Recorder(self.client, self.peek, self.table)

    def event(self, capacity: int, description: str) -> str:
        from chalicelib.events.domain import Event
        from chalicelib.events.dynamodb import DynamoEventRepository

        event_id = f"cost-{uuid.uuid4().hex[:8]}"
        event = Event(
            event_id,
            "An event people queue for",
            "2027-06-01",
            capacity,
            description=description,
            location="Main hall, 1 Example Street, Springfield",
            organizer="Example Promotions",
            waitlist_enabled=True,
            created_at="2026-12-01T09:00:00.000000Z",
            updated_at="2026-12-01T09:00:00.000000Z",
            owner_id="organizer-1",
        )
        DynamoEventRepository(self.client, self.table).add(event)
        return event_id

    def users(self, count: int) -> list[str]:
        from chalicelib.users.domain import User
        from chalicelib.users.dynamodb import DynamoUserRepository

        ids = [f"user-{uuid.uuid4().hex[:12]}" for _ in range(count)]
        people = [User(i, "A. Person", f"{i}@example.com", "2026-12-01T09:00:00Z") for i in ids]
        DynamoUserRepository(self.client, self.table).add_many(people)
        return ids


def measure_turnstile(world: World, event: str, description: str, batch: int, count: int) -> Measured:
    """Through the API's service (its reads and its request record), the registrations queue on
    LocalStack, and the worker's handler fed batches of `batch`: `count` confirmed, then `count`
    waitlisted."""
    event_id = world.event(count, description)
    users = world.users(2 * count)
    confirmed = _turnstile_phase(world, event_id, users[:count], batch)
    waitlisted = _turnstile_phase(world, event_id, users[count:], batch)
    return Measured("turnstile", event, batch, confirmed, waitlisted)


POLLED = 5  # requests of a phase whose `GET /requests/{id}` is measured, pending and decided


def _turnstile_phase(world: World, event_id: str, users: list[str], batch: int) -> Phase:
    from chalicelib.shared.caller import Caller

    registrations = world.services.registrations
    with world.recording() as api:
        requests = [registrations.register(Caller(user), event_id, None, None) for user in users]
    polled = [(Caller(r.requested_by), r.request_id) for r in requests[:POLLED]]
    with world.recording() as pending:
        assert all(registrations.request(*poll).status == "pending" for poll in polled)
    with world.recording() as worker:
        decided = _drain(world, batch)
    assert decided == len(users), (decided, len(users))
    with world.recording() as answered:
        assert all(registrations.request(*poll).status == "completed" for poll in polled)
    polls = (pending.ledger.read_units / len(polled), answered.ledger.read_units / len(polled))
    return Phase(len(users), api.ledger, worker.ledger, polls)


def _drain(world: World, batch: int) -> int:
    """Receive the queue in batches of `batch` and hand each to the worker, as the mapping does."""
    from devstack.runner import lambda_event
    from workers.registration import handler

    url, decided = world.services.settings.registrations_queue_url, 0
    while True:
        received = world.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=batch, WaitTimeSeconds=1, AttributeNames=["All"]
        ).get("Messages", [])
        if not received:
            return decided
        assert not handler(lambda_event(received, "registrations.fifo"), None)["batchItemFailures"]
        world.sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
        )
        decided += len(received)


class CounterBaseline:
    """A synchronous API as a competent engineer writes it: a conditional `UpdateItem` on a small
    counter item (no index projects it), then a `PutItem` of the registration; when the event is
    full, an `UpdateItem` that takes a waitlist number, then the put. No transaction: a failed put
    (already registered) gives the seat back."""

    def __init__(self, world: World, event_id: str, capacity: int) -> None:
        self.world, self.event_id = world, event_id
        self.counter = {"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": "SEATS"}}
        world.client.put_item(
            TableName=world.table,
            Item=self.counter
            | {"capacity": {"N": str(capacity)}, "confirmed": {"N": "0"}, "waiting": {"N": "0"}},
        )

    def register(self, user_id: str) -> None:
        from chalicelib.shared.dynamo import to_item

        _api_reads(self.world, self.event_id, user_id)
        client, now = self.world.client, "2026-12-01T10:00:00.000000Z"
        try:
            client.update_item(
                TableName=self.world.table,
                Key=self.counter,
                UpdateExpression="SET confirmed = confirmed + :one",
                ConditionExpression="confirmed < #capacity",
                ExpressionAttributeNames={"#capacity": "capacity"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            item = _registration_item(self.event_id, user_id, Standing.CONFIRMED, now)
        except ClientError:  # full: take a place in the waitlist
            taken = client.update_item(
                TableName=self.world.table,
                Key=self.counter,
                UpdateExpression="SET waiting = waiting + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
            seq = int(taken["Attributes"]["waiting"]["N"])
            item = _registration_item(self.event_id, user_id, Standing.WAITLISTED, now, seq)
        client.put_item(
            TableName=self.world.table, Item=to_item(item), ConditionExpression="attribute_not_exists(PK)"
        )


def _registration_item(
    event_id: str, user_id: str, standing: Standing, now: str, seq: int | None = None
) -> dict[str, Any]:
    """A baseline's registration: the item Turnstile stores (the same indexes), unstamped, and in
    a user index as well: a synchronous design writes no mark (Turnstile's list of a person's
    events), so the registration's entry in an index keyed by user is its cheapest list (one
    write unit, outside any transaction in the competent design). The seed listed a user's events
    so (`USER#{userId}#{status}` / `{eventId}`). A waitlisted one is in the waitlist's index too
    (LSI1, by its place): a design that writes one registration at a time has no batch to share
    an item of its joiners with, so the index entry is its cheapest order."""
    confirmed_at = now if standing is Standing.CONFIRMED else None
    registration = Registration(user_id, standing, seq, registered_at=now, confirmed_at=confirmed_at)
    users_list = {"GSI1PK": f"USER#{user_id}#{standing.value}", "GSI1SK": event_id}
    item = registration_item(event_id, registration) | users_list
    if seq is not None:
        item[LSI1_SEQ] = item.pop(WAITLIST_SEQ)
    return item


class TransactionalBaseline:
    """The seed's synchronous API: one transaction of the seat update on the event item and the
    registration put (a second transaction, joining the waitlist, when the event is full)."""

    def __init__(self, world: World, event_id: str) -> None:
        self.world, self.event_id = world, event_id
        self.key = {"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": "META"}}
        seed_counters(world.client, world.table, event_id)

    def register(self, user_id: str) -> None:
        _api_reads(self.world, self.event_id, user_id)
        seat = (
            "SET confirmedCount = confirmedCount + :one",
            "confirmedCount < #capacity",
            {"#capacity": "capacity"},
            {":one": {"N": "1"}},
        )
        if self._try(seat, user_id, "confirmed"):
            return
        wait = ("SET waitlistCount = waitlistCount + :one", "#w = :true", {"#w": "waitlistEnabled"})
        assert self._try((*wait, {":one": {"N": "1"}, ":true": {"BOOL": True}}), user_id, "waitlisted")

    def _try(self, seat: tuple[str, str, dict[str, str], dict[str, Any]], user_id: str, status: str) -> bool:
        from chalicelib.shared.dynamo import to_item

        update, condition, names, values = seat
        seq = 1 if status == "waitlisted" else None
        item = _registration_item(self.event_id, user_id, Standing(status), "2026-12-01T10:00:00Z", seq)
        try:
            self.world.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.world.table,
                            "Key": self.key,
                            "UpdateExpression": update,
                            "ConditionExpression": condition,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    },
                    {"Put": {"TableName": self.world.table, "Item": to_item(item)}},
                ]
            )
        except ClientError:
            return False
        return True


def _api_reads(world: World, event_id: str, user_id: str) -> None:
    """What any API reads before deciding: the event and the user."""
    from chalicelib.shared import table as keys

    world.client.get_item(TableName=world.table, Key=keys.event_key(event_id), ConsistentRead=True)
    world.client.get_item(TableName=world.table, Key=keys.user_key(user_id))


def measure_baseline(world: World, name: str, event: str, description: str, count: int) -> Measured:
    event_id = world.event(count, description)
    users = world.users(2 * count)
    design: Any = (
        CounterBaseline(world, event_id, count)
        if name.startswith("competent")
        else TransactionalBaseline(world, event_id)
    )

    def phase(part: list[str]) -> Phase:
        with world.recording() as api:
            for user in part:
                design.register(user)
        return Phase(len(part), api.ledger, Ledger())

    return Measured(name, event, 1, phase(users[:count]), phase(users[count:]))


# --- the benchmark -------------------------------------------------------------------------------

EVENTS = {"small event": "", "realistic event": "x" * REALISTIC_DESCRIPTION}
COUNT = 40  # registrations measured per outcome, design, event and batch size
BASELINES = ("competent synchronous (UpdateItem + PutItem)", "seed synchronous (transaction)")


def run(world: World) -> tuple[dict[int, list[Measured]], list[Measured]]:
    """Turnstile at each batch size the profiles need, and the baselines (batch-independent)."""
    sizes = {1, MAX_BATCH}
    probe = measure_turnstile(world, "small event", "", MAX_BATCH, COUNT)
    pipeline = _pipeline(probe)
    sizes |= {round(pipeline.batch(p.arrivals_per_second)) for p in PROFILES}
    turnstile = {
        size: [measure_turnstile(world, name, text, size, COUNT) for name, text in EVENTS.items()]
        for size in sorted(sizes)
    }
    baselines = [
        measure_baseline(world, name, event, text, COUNT)
        for name in BASELINES
        for event, text in EVENTS.items()
    ]
    return turnstile, baselines


def _pipeline(measured: Measured) -> Pipeline:
    """Transaction items per batch, from what the worker committed: fixed ones plus per decision."""
    ledger = measured.waitlisted.worker
    per_transaction = sum(ledger.transaction_items) / len(ledger.transaction_items)
    per_decision = (per_transaction - 1) / measured.batch
    return Pipeline(lambda batch: 1 + per_decision * batch)


def main() -> Summary:
    emulators, _ = start_emulators()
    try:
        world = World()
        turnstile, baselines = run(world)
        freed = [measure_freed_seats(world, offers=False), measure_freed_seats(world, offers=True)]
    finally:
        emulators.stop()
    pipeline = _pipeline(turnstile[MAX_BATCH][0])
    print(f"{PRICES.dated}; {COUNT} registrations measured per outcome; write units per decided registration")
    rush = _report(pipeline, turnstile, baselines)
    _report_freed(freed)
    realistic = rush[1]
    confirmed, waitlisted = realistic.confirmed, realistic.waitlisted
    print("the figure: the rush profile, realistic event")
    print(
        "figure: write units per decided registration (rush): "
        f"confirmed {confirmed.units(False):.2f}, waitlisted {waitlisted.units(False):.2f}; "
        f"index writes doubled in transactions: {confirmed.units(True):.2f}, {waitlisted.units(True):.2f}"
    )
    best = baselines[1]
    return [
        (
            "cost: write units per confirmed registration, rush (model)",
            f"{confirmed.units(False):.2f} vs {best.confirmed.units(False):.2f}",
            f"{confirmed.units(False) / best.confirmed.units(False):.2f}x",
        ),
        (
            "cost: USD per million registrations, rush (model)",
            f"{realistic.usd_per_million():.2f} vs {best.usd_per_million():.2f}",
            f"{realistic.usd_per_million() / best.usd_per_million():.2f}x",
        ),
    ]


def _report(
    pipeline: Pipeline, turnstile: dict[int, list[Measured]], baselines: list[Measured]
) -> list[Measured]:
    """A table per profile; returns the rush's Turnstile figures (small, realistic event)."""
    shown: list[Measured] = []
    for profile in PROFILES:
        batch = pipeline.batch(profile.arrivals_per_second)
        mean_polls = pipeline.mean_polls(profile, protocol_retry_after)
        shown = turnstile[round(batch)]
        for measured in shown:
            measured.polls = mean_polls
            measured.worker_invocations = 1 / measured.batch
            measured.queue_requests = 1 + 2 / measured.batch  # send; receive and delete per batch
        cycle_ms = pipeline.cycle_seconds(batch) * 1000
        print(
            f"\n{profile.name}: {profile.arrivals_per_second:g} registrations/s "
            f"({profile.requests:,} for {profile.seats:,} seats); what binds the batch: "
            f"one FIFO group, a {cycle_ms:.0f} ms cycle, so {batch:.1f} a batch (measured at "
            f"{round(batch)}); the group decides at most {pipeline.rate():.0f}/s; "
            f"polls per registration {mean_polls:.1f} (Retry-After: the estimate up to 30 s, else "
            "halfway to it, at most 300 s)"
        )
        if profile.arrivals_per_second > pipeline.rate():
            last = profile.requests / pipeline.rate()
            print(f"  the backlog: the last request is decided {last:.0f} s after the sale opens")
        rows = [
            (
                "design",
                "event",
                "confirmed",
                "waitlisted",
                "confirmed (index x2)",
                "waitlisted (index x2)",
                "reads",
                "reads of its polls",
                "USD per 1M",
            )
        ]
        for m in [*shown, *baselines]:
            reads = (m.confirmed.reads() + m.waitlisted.reads()) / 2
            rows.append(
                (
                    m.design,
                    m.event,
                    f"{m.confirmed.units(False):.2f}",
                    f"{m.waitlisted.units(False):.2f}",
                    f"{m.confirmed.units(True):.2f}",
                    f"{m.waitlisted.units(True):.2f}",
                    f"{reads:.2f}",
                    f"{m.poll_reads():.2f}",
                    f"{m.usd_per_million():.2f}",
                )
            )
        print(table(rows))
    print("\nwhere the write units go (rush, realistic event; index writes doubled in transactions):")
    for m in (shown[1], baselines[1]):
        print(f"  {m.design}, confirmed: {m.confirmed.breakdown(True)}")
        print(f"  {m.design}, waitlisted: {m.waitlisted.breakdown(True)}")
    return shown


# --- a freed seat ----------------------------------------------------------------------------------


def measure_freed_seats(world: World, offers: bool, seats: int = 20) -> Phase:
    """Seats freed and taken again, per seat, in the worker: a cancellation that promotes the head
    of the waitlist; or, with waitlist offers on, a cancellation that offers the head the seat and
    the offer's accept."""
    from bench.common import fifo_record
    from bench.worker import create_event, registrations
    from chalicelib.shared.clock import SystemClock
    from workers.registration import handler

    event_id = f"cost-freed-{uuid.uuid4().hex[:6]}"
    create_event(world.client, world.table, event_id, seats, offer_ttl=600 if offers else None)

    def decide(messages: list[dict[str, Any]]) -> None:
        for sequence, start in enumerate(range(0, len(messages), MAX_BATCH)):
            batch = messages[start : start + MAX_BATCH]
            records = [fifo_record(m, sequence) for m in batch]
            assert not handler({"Records": records}, None)["batchItemFailures"]

    decide(registrations(event_id, 2 * seats))  # seats taken, as many waiting (not counted)

    def command(kind: str, user: int) -> dict[str, Any]:
        user_id = f"user-{user}"  # kept as their mark, as the API keeps it
        request = {"type": kind, "requestId": marked_request_id(event_id, user_id, uuid.uuid4().hex)}
        return {**request, "eventId": event_id, "userId": user_id, "createdAt": SystemClock().now()}

    requests = [command("cancel", i) for i in range(seats)]
    if offers:
        requests += [command("accept_offer", seats + i) for i in range(seats)]
    with world.recording() as worker:
        decide(requests)
    return Phase(seats, Ledger(), worker.ledger)


def _report_freed(freed: list[Phase]) -> None:
    print("\na freed seat taken again, in the worker (per seat: the cancellation; with offers, the accept)")
    rows = [("freed seat", "write units", "write units (index x2)", "read units")]
    for name, phase in zip(("promoted at once", "offered, then accepted"), freed, strict=True):
        rows.append((name, f"{phase.units(False):.2f}", f"{phase.units(True):.2f}", f"{phase.reads():.2f}"))
    print(table(rows))


if __name__ == "__main__":
    main()
