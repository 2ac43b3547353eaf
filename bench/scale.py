"""How fast one hot event is decided on AWS: a model built from mechanics, not from wall clocks.

Nothing here is timed. What the code does is measured on DynamoDB Local (the calls the worker
makes per batch, the items in its transaction, and the write units each decision puts on each
partition, priced as `bench.cost` prices them); what AWS does is a set of figures, each with its
source; the model combines them:

- every AWS call's latency is a distribution (lognormal through a p50 and a p99), sampled, so a
  serial pipeline runs at the mean, not at the p50; SQS and Lambda overheads are ranges
  (uniform) because AWS publishes no figure for them;
- the hard caps: one FIFO message group has one batch (at most 10) in flight; a FIFO partition
  takes about 300 API calls a second (3,000 messages with batching); a DynamoDB partition takes
  1,000 write units and 3,000 read units a second; the event source mapping runs at most
  `max_concurrency` invocations (the prod stage's setting);
- conflicts: a transaction that touches an item another transaction is writing is cancelled
  (`TransactionConflict`), simulated event by event for every design that shares an item.

Designs, for one event in a rush (arrivals always ahead of decisions, a third of them seated):

- Turnstile: K message groups (K = 1 is what is built: one group an event); each group a
  pipeline of receive, invoke, the worker's calls as measured, delete. Larger K is the seat-shard
  design, which is not built: its rows are projections (the same measured group, each shard on
  its own partitions, with the caps that stay per event);
- the best synchronous design: N API writers, each request a conditional `UpdateItem` on a small
  counter item (and a second one when the event is full: the failed condition is charged too)
  and a `PutItem` of the registration elsewhere; no transaction, so no conflict: DynamoDB
  serializes the counter's updates, bounded by its partition's 1,000 write units a second;
- the seed's design: N writers, each request one transaction of the seat update on the event
  item (3 KB) and the registration put, cancelled while another holds the event item, retried
  with full-jitter backoff, given up after 30 tries (an error the user sees).

Turnstile's own transactions do not conflict at K = 1: one group's batches are decided one after
another, and nothing else writes the seats item during a rush (an organizer's edit would). The
projected rows leave out the moves of seats between shards at sell-out.

Run: `.venv/bin/python -m bench bench.scale` (part of `make bench`).
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from dataclasses import dataclass
from typing import Any

from bench.common import Summary, fifo_record, start_emulators, table

SAMPLES = 20_000  # batches (or requests) sampled per figure
SALE = 100_000  # seats of the on-sale the headline times
SEATED_SHARE = 1 / 3  # the rush: 300,000 requests for 100,000 seats
MEASURED_SEATS, MEASURED_REQUESTS = 200, 400  # the run on DynamoDB Local that gives the call pattern
ONE_PER_ID = "(one per id) "  # marks a partition of one user or request: never a hot one


# --- what AWS does: figures and their sources ----------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """A call's time on AWS: lognormal through its p50 and p99."""

    p50_ms: float
    p99_ms: float
    source: str

    @property
    def sigma(self) -> float:
        return math.log(self.p99_ms / self.p50_ms) / 2.3263  # z of the 99th percentile

    @property
    def mean_ms(self) -> float:
        return self.p50_ms * math.exp(self.sigma**2 / 2)

    def sample(self, rng: random.Random) -> float:
        return self.p50_ms * math.exp(self.sigma * rng.gauss(0, 1))


@dataclass(frozen=True)
class Span:
    """An overhead known only as a range: uniform between its ends."""

    low_ms: float
    high_ms: float
    source: str

    @property
    def mean_ms(self) -> float:
        return (self.low_ms + self.high_ms) / 2

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low_ms, self.high_ms)


SINGLE_DIGIT = "AWS: single-digit ms at any scale (p50 assumed within it; p99 assumed 3x)"
DYNAMODB = {
    "GetItem": Latency(5.0, 15.0, SINGLE_DIGIT),
    "BatchGetItem": Latency(8.0, 24.0, SINGLE_DIGIT + "; a batch is parallel gets"),
    "Query": Latency(8.0, 24.0, SINGLE_DIGIT),
    "PutItem": Latency(6.0, 18.0, SINGLE_DIGIT),
    "UpdateItem": Latency(6.0, 18.0, SINGLE_DIGIT),
    "DeleteItem": Latency(6.0, 18.0, SINGLE_DIGIT),
}
TRANSACTION_P50_MS, TRANSACTION_ITEM_MS = 23.25, 0.35  # p50: 25 ms for 5 items, 32 ms for 25
TRANSACTION_SOURCE = "no AWS figure; assumed: a two-phase commit, 23.25 ms + 0.35 ms an item (p50), p99 2.5x"


def transaction(items: float) -> Latency:
    p50 = TRANSACTION_P50_MS + TRANSACTION_ITEM_MS * items
    return Latency(p50, 2.5 * p50, TRANSACTION_SOURCE)


OVERHEADS = {  # per FIFO batch, besides DynamoDB: no published figures, so ranges
    "SQS receive (the mapping's poll that returns the batch)": Span(10.0, 30.0, "assumed range"),
    "Lambda invoke (warm, synchronous from the mapping)": Span(5.0, 20.0, "assumed range"),
    "SQS delete (DeleteMessageBatch after success)": Span(8.0, 20.0, "assumed range"),
}


@dataclass(frozen=True)
class Caps:
    """AWS's hard limits that can bind one event (published quotas), and the prod stage's."""

    batch: int = 10  # FIFO: one batch of at most 10 in flight per message group
    fifo_calls_per_partition: float = 300.0  # high-throughput FIFO: API calls/s per partition
    partition_write_units: float = 1_000.0  # DynamoDB, per partition (and per GSI partition)
    partition_read_units: float = 3_000.0
    mapping_concurrency: int = 20  # infrastructure/stages.py, prod: max_concurrency


CAPS = Caps()


@dataclass(frozen=True)
class Conditions:
    """What the model runs with: the figures above, or a what-if (sensitivity)."""

    name: str = "as above"
    dynamodb: float = 1.0  # latency multiplier
    overheads: float = 1.0

    def call_ms(self, operation: str, items: float, rng: random.Random) -> float:
        latency = transaction(items) if operation == "TransactWriteItems" else DYNAMODB[operation]
        return latency.sample(rng) * self.dynamodb

    def overhead_ms(self, rng: random.Random) -> float:
        return sum(span.sample(rng) for span in OVERHEADS.values()) * self.overheads


# What `bench.cost` prices its pipeline with: the means (a serial pipeline runs at the mean).
FLAT_MS = {name: latency.mean_ms for name, latency in DYNAMODB.items()}
_MEAN_OVER_P50 = transaction(10).mean_ms / transaction(10).p50_ms
TRANSACTION_MS, PER_ITEM_MS = TRANSACTION_P50_MS * _MEAN_OVER_P50, TRANSACTION_ITEM_MS * _MEAN_OVER_P50
BATCH_OVERHEAD_MS = sum(span.mean_ms for span in OVERHEADS.values())


# --- what the code does: measured on DynamoDB Local ----------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """The worker's calls per batch, and the write units a decision puts on each hot partition."""

    calls: dict[str, float]  # calls per batch, by operation
    transaction_items: float  # items per TransactWriteItems, on average
    decisions_per_batch: float
    hot_units: dict[str, tuple[float, float]]  # partition -> units a decision (index x1, index x2)
    read_units: float  # per decision, all partitions of the event


def measure() -> Pattern:
    """Run the worker on one event (MEASURED_REQUESTS registrations, half of them seated) in
    batches of 10, recording every call and every write's images (`bench.cost.Recorder`)."""
    from bench.cost import Recorder
    from bench.worker import BATCH, _store, create_event, registrations
    from chalicelib.shared.aws import client as aws_client
    from workers.registration import handler

    store = _store()
    event_id = f"scale-{uuid.uuid4().hex[:6]}"
    create_event(store._client, store._table, event_id, MEASURED_SEATS)
    messages = registrations(event_id, MEASURED_REQUESTS)
    batches = [messages[i : i + BATCH] for i in range(0, MEASURED_REQUESTS, BATCH)]
    with Recorder(store._client, aws_client("dynamodb"), store._table) as recorder:
        for sequence, batch in enumerate(batches):
            records = [fifo_record(m, sequence) for m in batch]
            assert not handler({"Records": records}, None)["batchItemFailures"]
    ledger = recorder.ledger
    units = {doubled: partition_units(ledger.writes, doubled) for doubled in (False, True)}
    shared = [p for p in units[True] if ONE_PER_ID not in p]  # partitions many decisions share
    hottest = sorted(shared, key=lambda p: -units[True][p])[:3]
    return Pattern(
        calls={op: n / len(batches) for op, n in ledger.requests.items()},
        transaction_items=sum(ledger.transaction_items) / max(1, len(ledger.transaction_items)),
        decisions_per_batch=MEASURED_REQUESTS / len(batches),
        hot_units={
            p: (units[False][p] / MEASURED_REQUESTS, units[True][p] / MEASURED_REQUESTS) for p in hottest
        },
        read_units=ledger.read_units / MEASURED_REQUESTS,
    )


def partition_units(writes: list[Any], doubled: bool) -> dict[str, float]:
    """Write units by partition: an item's own units and its local index's go to the table's
    partition of its key; a global index's go to that index's partition of the item's key there.
    Partitions named by key shape (ids replaced), so an event's registrations add up while each
    user's or request's partition stays its own."""
    from chalicelib.shared import resources

    load: dict[str, float] = {}
    for write in writes:
        image = write.after or write.before or {}
        multiplier = 2 if write.transactional and doubled else 1
        base = f"table {_shape(image['PK']['S'])}"
        load[base] = load.get(base, 0.0) + write.item_units()
        for index in resources.TABLE.indexes:
            units = write.index_writes(index) * write.size() * multiplier
            if not units:
                continue
            keyed = write.after if write.after and index.partition_key in write.after else write.before
            assert keyed is not None
            partition = base if index.local else f"{index.name} {_shape(keyed[index.partition_key]['S'])}"
            load[partition] = load.get(partition, 0.0) + units
    return load


def _shape(key: str) -> str:
    """`EVENT#scale-1a2b3c` -> `EVENT#{event}`; per-user and per-request keys keep a marker of
    their own, so they are never summed into one partition."""
    head, _, rest = key.partition("#")
    if head in ("EVENT", "EVENTREG"):
        return f"{head}#{{event}}" + rest.partition("#")[1] + rest.partition("#")[2]
    if head in ("OFFERS", "EVENTS", "WEBHOOKS"):
        return key
    return f"{head}#{ONE_PER_ID}{key}"


# --- the designs ---------------------------------------------------------------------------------


@dataclass
class Rate:
    design: str
    decisions_per_second: float
    binds: str  # what stops it
    conflicts: float = 0.0  # cancelled transactions per decision
    gave_up: float = 0.0  # share of requests abandoned
    skew_ms: float = 0.0  # how far out of acceptance order a decision can be

    @property
    def sale_seconds(self) -> float:
        return SALE / self.decisions_per_second


def turnstile(pattern: Pattern, shards: int, conditions: Conditions, rng: random.Random) -> Rate:
    """K groups, each a serial pipeline of batches; the caps that bind it."""
    cycles = [_cycle_ms(pattern, conditions, rng) for _ in range(SAMPLES)]
    mean_cycle = sum(cycles) / len(cycles)
    group = pattern.decisions_per_batch / (mean_cycle / 1000)
    running = min(shards, CAPS.mapping_concurrency)
    pipeline = f"the FIFO pipeline: {running} group(s), one batch in flight each, {mean_cycle:.0f} ms a cycle"
    limits = {pipeline: group * running}
    for partition, (_, doubled) in pattern.hot_units.items():
        spread = shards if partition.startswith("table") else 1  # seat shards: per-shard keys
        cap = f"{partition}: {CAPS.partition_write_units:,.0f} WCU/s, {doubled:.2f} a decision (index x2)"
        limits[cap] = CAPS.partition_write_units * spread / doubled
    reads = (
        f"the event's partition: {CAPS.partition_read_units:,.0f} RCU/s, {pattern.read_units:.2f} a decision"
    )
    limits[reads] = (
        CAPS.partition_read_units * shards / pattern.read_units
    )  # all counted there: the worst case
    calls = CAPS.fifo_calls_per_partition
    receive_delete = f"FIFO partitions: {calls:.0f} calls/s each (a receive and a delete a batch)"
    limits[receive_delete] = calls / 2 * pattern.decisions_per_batch * shards
    limits[f"FIFO partitions: {calls:.0f} sends/s each (the API sends one a request)"] = calls * shards
    binds, rate = min(limits.items(), key=lambda item: item[1])
    name = "turnstile, K=1 (built)" if shards == 1 else f"turnstile, K={shards} (seat shards: projected)"
    return Rate(name, rate, binds, skew_ms=_order_skew_ms(shards, group) if shards > 1 else 0.0)


def _cycle_ms(pattern: Pattern, conditions: Conditions, rng: random.Random) -> float:
    total = conditions.overhead_ms(rng)
    for operation, per_batch in pattern.calls.items():
        calls = int(per_batch) + (1 if rng.random() < per_batch - int(per_batch) else 0)
        items = pattern.transaction_items if operation == "TransactWriteItems" else 1
        total += sum(conditions.call_ms(operation, items, rng) for _ in range(calls))
    return total


def _order_skew_ms(shards: int, group_rate: float, requests: int = 300_000) -> float:
    """Within a shard, requests are decided in the order the API accepted them; between shards,
    one shard's backlog can be longer than another's by a uniform hash's imbalance (three
    standard deviations of a shard's share of the rush), which takes that many decisions' time
    to catch up at one group's rate."""
    share = 1 / shards
    imbalance = 3 * math.sqrt(requests * share * (1 - share))
    return imbalance / group_rate * 1000


def synchronous(writers: int, conditions: Conditions, rng: random.Random) -> Rate:
    """Counter `UpdateItem` + `PutItem`, N writers: no conflicts, the counter's partition caps it."""
    waitlisted = 1 - SEATED_SHARE
    times = []
    for _ in range(SAMPLES):
        took = conditions.call_ms("GetItem", 1, rng) + conditions.call_ms("UpdateItem", 1, rng)
        if rng.random() < waitlisted:  # full: the failed update, then the waitlist's
            took += conditions.call_ms("UpdateItem", 1, rng)
        times.append(took + conditions.call_ms("PutItem", 1, rng))
    request_ms = sum(times) / len(times)
    counter_units = SEATED_SHARE * 1 + waitlisted * 2  # a 1 KB counter item; a failed condition is charged
    partition = f"the counter item's partition: {CAPS.partition_write_units:,.0f} WCU/s"
    limits = {
        f"{writers} writer(s), {request_ms:.0f} ms a request": writers * 1000 / request_ms,
        f"{partition}, {counter_units:.2f} a decision": CAPS.partition_write_units / counter_units,
    }
    binds, rate = min(limits.items(), key=lambda item: item[1])
    return Rate(f"best synchronous, {writers} writers", rate, binds)


def seed(writers: int, conditions: Conditions, rng: random.Random, requests: int = 2_000) -> Rate:
    """The seed's transactions on the event item, simulated event by event: a transaction that
    starts while another holds the event item is cancelled and retried after a full-jitter
    backoff; 30 tries, then the request is given up. One transaction a request (the seed's
    second, joining the waitlist when the event is full, is left out: that flatters it)."""
    held_until = finished_at = 0.0
    clock = [(rng.uniform(0, 5), writer, 0) for writer in range(writers)]  # (at, writer, tries)
    heapq.heapify(clock)
    done = cancelled = abandoned = 0
    while done + abandoned < requests:
        at, writer, tries = heapq.heappop(clock)
        if tries == 0:
            at += conditions.call_ms("GetItem", 1, rng)  # the request reads the event first
        took = conditions.call_ms("TransactWriteItems", 2, rng)
        if at < held_until:  # another transaction holds the event item: cancelled
            cancelled += 1
            if tries + 1 >= MAX_TRIES:
                abandoned += 1
                heapq.heappush(clock, (at + took, writer, 0))
            else:
                backoff = rng.uniform(0, min(640.0, 10.0 * 2**tries))
                heapq.heappush(clock, (at + took + backoff, writer, tries + 1))
            continue
        held_until = finished_at = at + took
        done += 1
        heapq.heappush(clock, (at + took, writer, 0))
    event_units = 2 * 3 + 2  # a 3 KB event item and a 1 KB registration, doubled in the transaction
    per_decision = SEATED_SHARE * event_units + (1 - SEATED_SHARE) * 2 * event_units  # full: two tries
    partition = f"the event's partition: {CAPS.partition_write_units:,.0f} WCU/s"
    limits = {
        f"one transaction at a time on the event item, {writers} writer(s)": done / (finished_at / 1000),
        f"{partition}, {per_decision:.1f} a decision": CAPS.partition_write_units / per_decision,
    }
    binds, rate = min(limits.items(), key=lambda item: item[1])
    conflicts, gave_up = cancelled / max(1, done), abandoned / (done + abandoned)
    return Rate(f"seed (transaction), {writers} writers", rate, binds, conflicts, gave_up)


MAX_TRIES = 30  # what an SDK client might allow before answering the user with an error


# --- the report ----------------------------------------------------------------------------------

SHARDS = (1, 4, 16, 32)
WRITERS = (1, 4, 16, 32, 64)
WHAT_IFS = (
    Conditions(),
    Conditions("SQS and Lambda overheads x2", overheads=2.0),
    Conditions("DynamoDB latencies x2", dynamodb=2.0),
)


def designs(pattern: Pattern, conditions: Conditions) -> list[Rate]:
    rng = random.Random(7)
    return (
        [turnstile(pattern, k, conditions, rng) for k in SHARDS]
        + [synchronous(n, conditions, rng) for n in WRITERS]
        + [seed(n, conditions, rng) for n in (1, 4, 16, 32)]
    )


def best(rates: list[Rate], prefix: str) -> Rate:
    return max((r for r in rates if r.design.startswith(prefix)), key=lambda r: r.decisions_per_second)


def print_figures(pattern: Pattern) -> None:
    print("AWS figures the model uses (each a distribution; a serial pipeline runs at the mean):")
    rows = [("call", "p50 ms", "p99 ms", "mean ms", "source")]
    for name, latency in [*DYNAMODB.items(), ("TransactWriteItems (10 items)", transaction(10))]:
        figures = (f"{latency.p50_ms:.1f}", f"{latency.p99_ms:.1f}", f"{latency.mean_ms:.1f}")
        rows.append((name, *figures, latency.source))
    for name, span in OVERHEADS.items():
        rows.append((name, f"{span.low_ms:.0f}-{span.high_ms:.0f}", "", f"{span.mean_ms:.1f}", span.source))
    print(table(rows))
    print(
        f"caps: one batch of at most {CAPS.batch} in flight per FIFO group; "
        f"{CAPS.fifo_calls_per_partition:.0f} FIFO calls/s per partition; "
        f"{CAPS.partition_write_units:,.0f} WCU/s and {CAPS.partition_read_units:,.0f} RCU/s per DynamoDB "
        f"partition; mapping concurrency {CAPS.mapping_concurrency} (prod)"
    )
    calls = ", ".join(f"{op} {n:.2f}" for op, n in sorted(pattern.calls.items()))
    print(
        f"the worker, measured on DynamoDB Local ({MEASURED_REQUESTS} registrations, {MEASURED_SEATS} seats) "
        f"per batch of {pattern.decisions_per_batch:.0f}: {calls}; {pattern.transaction_items:.1f} items a "
        f"transaction; {pattern.read_units:.2f} read units a decision"
    )
    for partition, (units, doubled) in pattern.hot_units.items():
        print(f"  write units a decision on {partition}: {units:.2f} (index writes doubled: {doubled:.2f})")


def report(pattern: Pattern) -> list[Rate]:
    print_figures(pattern)
    results = [designs(pattern, conditions) for conditions in WHAT_IFS]
    rows: list[tuple[str, ...]] = [
        ("design", "decisions/s", f"{SALE:,} seats", "conflicts a decision", "gave up", "order skew", "binds")
    ]
    for rate in results[0]:
        skew = f"{rate.skew_ms:,.0f} ms" if rate.skew_ms else "-"
        sale = f"{rate.sale_seconds:,.0f} s"
        conflicts, gave_up = f"{rate.conflicts:.2f}", f"{rate.gave_up:.1%}"
        rows.append(
            (rate.design, f"{rate.decisions_per_second:,.0f}", sale, conflicts, gave_up, skew, rate.binds)
        )
    print(table(rows))
    print("sensitivity: decisions/s if the overheads or DynamoDB's latencies double")
    rows = [("design", *(c.name for c in WHAT_IFS))]
    for index, rate in enumerate(results[0]):
        rows.append((rate.design, *(f"{r[index].decisions_per_second:,.0f}" for r in results)))
    print(table(rows))
    print(
        "order across shards (projected rows): first come, first served within a shard; between shards, "
        "by acceptance time within the skew shown"
    )
    return results[0]


def main() -> Summary:
    emulators, _ = start_emulators()
    try:
        pattern = measure()
    finally:
        emulators.stop()
    rates = report(pattern)
    built = rates[0]
    ours = built.decisions_per_second
    theirs = best(rates, "best synchronous").decisions_per_second
    seed_rate = best(rates, "seed").decisions_per_second
    print(
        f"built (K=1): {ours / theirs:.2f}x the best synchronous design, {ours / seed_rate:.1f}x the seed's"
    )
    print(
        f"figure: one event, K=1: {ours:,.0f} decisions/s, 100,000 seats in {built.sale_seconds:,.0f} s "
        f"(model); best synchronous design {theirs:,.0f} decisions/s"
    )
    figure = f"{ours:,.0f} vs {theirs:,.0f}"
    return [
        (
            "scale: one event decisions/s on AWS, K=1 (model) vs best synchronous",
            figure,
            f"{ours / theirs:.2f}x",
        )
    ]


if __name__ == "__main__":
    main()
