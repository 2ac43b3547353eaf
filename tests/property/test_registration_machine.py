"""Stateful property tests: the decision service against a tiny reference model.

One machine, two stores: the in-memory store (many examples, fast) and DynamoDB Local through
the real adapter (few examples). After every step the stored state must equal the model's and
every invariant of docs/architecture.md must hold.

The machine owns the clock: it moves forward only when a rule says so, so waitlist offers made
in one step can be accepted, declined or left to lapse (the real offer sweep finds them) in
later ones, before or after their expiry.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chalicelib.events.domain import Event, EventStatus
from chalicelib.events.dynamodb import DynamoEventRepository
from chalicelib.registrations.decisions import DecisionService
from chalicelib.registrations.dynamodb import DynamoOpenOffers
from chalicelib.registrations.items import marked_request_id
from chalicelib.registrations.memory import MemoryCommandQueue, MemorySeatStore
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.offers import OfferSweep
from chalicelib.registrations.seat_store import DynamoSeatStore
from chalicelib.shared.clock import iso
from tests.property.model import SeatModel
from tests.property.stores import StoredSeats, dynamo_reader, read_memory

USERS = [f"u{i}" for i in range(10)]
PROMOTION_BUDGET = 2  # small, so capacity raises are split over several rounds
OFFER_TTL = 30  # seconds; the clock moves 1-45 s at a time, so offers lapse now and then
START = datetime(2026, 1, 1, tzinfo=UTC)

register = st.tuples(st.just("register"), st.sampled_from(USERS))
cancel = st.tuples(st.just("cancel"), st.sampled_from(USERS))
accept = st.tuples(st.just("accept_offer"), st.sampled_from(USERS))
decline = st.tuples(st.just("decline_offer"), st.sampled_from(USERS))
change = st.tuples(
    st.just("change_capacity"),
    st.integers(0, 9),
    st.sampled_from([None, "active", "closed"]),
    st.sampled_from([None, True, False]),  # waitlistEnabled, sent with the capacity
    st.sampled_from(["keep", "keep", None, OFFER_TTL]),  # waitlistOffer: unchanged, off, on
)
commands = st.one_of(register, register, register, cancel, change, accept, decline)


class MachineClock:
    """Moves only when told: `seconds` by the machine's rules, and a microsecond per message so
    that requests accepted in one step keep their order."""

    def __init__(self) -> None:
        self.seconds = 0
        self.micros = 0

    def tick(self) -> str:
        self.micros += 1
        return self.now()

    def now(self) -> str:
        return iso(START + timedelta(seconds=self.seconds, microseconds=self.micros))

    def epoch_seconds(self) -> int:
        return int((START + timedelta(seconds=self.seconds)).timestamp())


class SeatMachine(RuleBasedStateMachine):
    """Subclasses provide `make_store(event_id, capacity, waitlist)` and `read(event_id)`."""

    def __init__(self) -> None:
        super().__init__()
        self.event_id = f"ev-{uuid.uuid4().hex[:10]}"
        self.counter = itertools.count(1)
        self.processed: list[CommandMessage] = []
        self.outcomes: dict[str, object] = {}
        self.clock = MachineClock()
        self.late: list[CommandMessage] = []  # expiries a slow sweep has yet to queue

    @initialize(
        capacity=st.integers(0, 4),
        waitlist=st.sampled_from([True, True, False]),
        offer_ttl=st.sampled_from([None, OFFER_TTL, OFFER_TTL]),
    )
    def create_event(self, capacity: int, waitlist: bool, offer_ttl: int | None) -> None:
        self.open_event(capacity, waitlist, offer_ttl)

    def open_event(self, capacity: int, waitlist: bool, offer_ttl: int | None) -> None:
        self.model = SeatModel(capacity, waitlist, offer_ttl=offer_ttl)
        self.store = self.make_store(self.event_id, capacity, waitlist, offer_ttl)
        self.service = DecisionService(self.store, self.clock, promotion_budget=PROMOTION_BUDGET)

    def message(self, command: tuple, accepted_at: str | None = None) -> CommandMessage:
        number = next(self.counter)
        request_id = f"{self.event_id}-r{number}"
        created = accepted_at or self.clock.tick()  # the order they were accepted
        if command[0] == "change_capacity":
            changes: dict = {"status": command[2]} if command[2] else {}
            if command[3] is not None:
                changes["waitlistEnabled"] = command[3]
            if command[4] != "keep":
                changes["waitlistOffer"] = None if command[4] is None else {"ttlSeconds": command[4]}
            return CommandMessage(
                type=command[0],
                requestId=request_id,
                eventId=self.event_id,
                capacity=command[1],
                changes=changes or None,
                createdAt=created,
            )
        # a person's request is kept as their mark, as the API keeps it: its id starts with the
        # mark, and a register that confirms or waitlists them keeps its decision on the
        # registration (which a redelivery must find decided)
        marked = marked_request_id(self.event_id, command[1], f"r{number}")
        return CommandMessage(
            type=command[0], requestId=marked, eventId=self.event_id, userId=command[1], createdAt=created
        )

    def expected(self, command: tuple, message: CommandMessage, now: str):
        if command[0] == "register":
            return self.model.register(command[1])
        if command[0] == "cancel":
            return self.model.cancel(command[1], now)
        if command[0] == "accept_offer":
            return self.model.accept(command[1], message.createdAt or "")
        if command[0] == "decline_offer":
            return self.model.decline(command[1], now)
        is_open = None if command[2] is None else command[2] == "active"
        return self.model.change(command[1], is_open, command[3], message.createdAt or "", now, command[4])

    def edit(self, is_open: bool) -> None:
        """An organizer opens or closes the event through the API: applied at once."""
        raise NotImplementedError

    def edit_offers(self, ttl: int | None) -> None:
        """An organizer turns waitlist offers on or off through the API: applied at once."""
        raise NotImplementedError

    def open_offers(self):
        """The sweep's view of the open offers (every event's)."""
        raise NotImplementedError

    def commits(self) -> int | None:
        """How many transactions the store has committed (None: it does not say)."""
        return None

    @rule(batch=st.lists(commands, min_size=1, max_size=6))
    def process_batch(self, batch: list[tuple]) -> None:
        self.decide(batch, [self.message(c) for c in batch])

    @rule(seconds=st.integers(1, 45))
    def time_passes(self, seconds: int) -> None:
        self.clock.seconds += seconds

    @rule()
    def sweep(self) -> None:
        """The offer sweep runs: every due offer (and only those) lapses, in its event's group."""
        queue = MemoryCommandQueue()
        OfferSweep(self.open_offers(), queue, self.clock).run()
        mine = [m for m in queue.sent if m.eventId == self.event_id]
        now = self.clock.now()
        assert {(m.userId, m.offerExpiresAt) for m in mine} == self.model.due(now)
        outcomes = self.service.process(self.event_id, mine).outcomes
        for message in mine:
            assert message.userId and message.offerExpiresAt
            wanted = self.model.expire(message.userId, message.offerExpiresAt, now)
            assert outcomes[message.requestId] == wanted
        self.outcomes.update(outcomes)
        self.processed += mine

    @precondition(lambda self: hasattr(self, "model") and self.model.offers)
    @rule(data=st.data(), answer=st.sampled_from(["accept_offer", "decline_offer"]))
    def answer_an_offer(self, data: st.DataObject, answer: str) -> None:
        """Someone offered a seat answers (random commands rarely name them), maybe too late."""
        batch = [(answer, data.draw(st.sampled_from(sorted(self.model.offers))))]
        self.decide(batch, [self.message(c) for c in batch])

    @rule(users=st.lists(st.sampled_from(USERS), min_size=3, max_size=8, unique=True))
    def crowd_arrives(self, users: list[str]) -> None:
        """Many register at once: the event fills and a waitlist forms (so seats get offered)."""
        batch = [("register", user) for user in users]
        self.decide(batch, [self.message(c) for c in batch])

    @precondition(lambda self: hasattr(self, "model") and (self.model.confirmed or self.model.offers))
    @rule(data=st.data())
    def free_a_seat(self, data: st.DataObject) -> None:
        """Someone holding a seat (or an offer of one) cancels: the seat goes to the waitlist."""
        holders = sorted({*self.model.confirmed, *self.model.offers})
        batch = [("cancel", data.draw(st.sampled_from(holders)))]
        self.decide(batch, [self.message(c) for c in batch])

    @rule()
    def a_sweep_is_slow(self) -> None:
        """A sweep finds the due offers now, but its commands reach the queue only later."""
        queue = MemoryCommandQueue()
        OfferSweep(self.open_offers(), queue, self.clock).run()
        self.late += [m for m in queue.sent if m.eventId == self.event_id]

    @precondition(lambda self: self.late)
    @rule()
    def late_expiries_arrive(self) -> None:
        """Expiries that arrive after their offer was answered, lapsed by another sweep, or
        followed by a new offer to the same user: each is decided once, and only for its own
        offer."""
        late = list({m.requestId: m for m in self.late}.values())
        self.late = []
        now = self.clock.now()
        outcomes = self.service.process(self.event_id, late).outcomes
        for message in late:
            if message.requestId in self.outcomes:
                assert message.requestId not in outcomes  # decided already: never again
                continue
            assert message.userId and message.offerExpiresAt
            wanted = self.model.expire(message.userId, message.offerExpiresAt, now)
            assert outcomes[message.requestId] == wanted
        self.outcomes.update(outcomes)
        self.processed += late

    @precondition(lambda self: hasattr(self, "model") and self.model.offers)
    @rule(late=st.integers(0, 5))
    def an_offer_lapses(self, late: int) -> None:
        """Time passes to just after the first open offer's expiry (plus `late` s), then the
        sweep runs."""
        first = min(self.model.offers.values())
        while self.clock.now() < first:
            self.clock.seconds += 1
        self.clock.seconds += late
        self.sweep()

    @rule(ttl=st.sampled_from([None, OFFER_TTL]))
    def edit_offer_setting(self, ttl: int | None) -> None:
        """`PUT {"waitlistOffer": ...}` alone: offers already made keep their expiry."""
        self.edit_offers(ttl)
        self.model.offer_ttl = ttl

    @rule(is_open=st.booleans())
    def edit_status(self, is_open: bool) -> None:
        """A status edit between queued batches: the next batch is decided on it."""
        self.edit(is_open)
        self.model.is_open = is_open

    @rule(batch=st.lists(commands, min_size=1, max_size=4), is_open=st.booleans())
    def lose_a_race(self, batch: list[tuple], is_open: bool) -> None:
        """The organizer edits the event between the worker's read and its commit: the commit
        loses, and the batch is decided again on the edited event."""
        real_load, loads = self.store.load, []

        def load_then_edit(*args, **kwargs):
            snapshot = real_load(*args, **kwargs)
            if not loads:
                self.edit(is_open)
            loads.append(1)
            return snapshot

        self.store.load = load_then_edit
        try:
            self.model.is_open = is_open
            self.decide(batch, [self.message(c) for c in batch])
        finally:
            self.store.load = real_load
        assert len(loads) >= 2, "the first commit must have lost"

    def _stale_raises(self) -> list[CommandMessage]:
        """Completed capacity changes that would take several rounds if decided again now."""
        if len(self.model.waitlist) <= PROMOTION_BUDGET:
            return []
        return [
            m
            for m in self.processed
            if m.type == "change_capacity" and (m.capacity or 0) > self.model.capacity
        ]

    @precondition(lambda self: any(m.type == "change_capacity" for m in self.processed))
    @rule(data=st.data())
    def redeliver_a_capacity_change(self, data: st.DataObject) -> None:
        """Invariant 5 for the command that may take several rounds: a completed raise redelivered
        after capacity went down again, with more waiting than one round promotes (1945996)."""
        changes = self._stale_raises() or [m for m in self.processed if m.type == "change_capacity"]
        again = data.draw(st.lists(st.sampled_from(changes), min_size=1, max_size=2))
        before = self.read(self.event_id)
        assert self.service.process(self.event_id, again).outcomes == {}
        assert self.read(self.event_id) == before

    @precondition(lambda self: hasattr(self, "model") and self.model.changed_at)
    @rule(command=change)
    def redrive_a_stale_change(self, command: tuple) -> None:
        """A capacity change accepted before the last one applied (it sat in the dead-letter
        queue) is superseded: it changes nothing."""
        before = self.read(self.event_id)
        self.decide([command], [self.message(command, accepted_at="2026-01-01T00:00:00.000000Z")])
        assert self.read(self.event_id) == before

    def decide(self, batch: list[tuple], messages: list[CommandMessage]) -> None:
        before = self.commits()
        now = self.clock.now()
        outcomes = self.service.process(self.event_id, messages).outcomes
        one_commit = before is not None and self.commits() == before + 1
        expected = [
            self.expected(command, message, now) for command, message in zip(batch, messages, strict=True)
        ]
        for index, (command, outcome) in enumerate(zip(batch, expected, strict=True)):
            if outcome.kind == "waitlisted" and command[1] in self.model.waitlist:
                # the position after the commit: later promotions in the batch move it up
                expected[index] = replace(outcome, position=self.model.waitlist.index(command[1]) + 1)
        for command, message, wanted in zip(batch, messages, expected, strict=True):
            got = outcomes[message.requestId]
            if not one_commit and wanted.kind == "waitlisted":
                # decided over several commits: its position is the one after its own commit,
                # which the model does not track; whether it waits is still checked
                got, wanted = replace(got, position=None), replace(wanted, position=None)
            assert got == wanted, command
        self.outcomes.update(outcomes)
        self.processed += messages

    @precondition(lambda self: self.processed)
    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        """Invariant 5: a redelivered message changes nothing and is not decided again."""
        again = data.draw(st.lists(st.sampled_from(self.processed), min_size=1, max_size=4))
        before = self.read(self.event_id)
        assert self.service.process(self.event_id, again).outcomes == {}
        assert self.read(self.event_id) == before

    @invariant()
    def store_matches_model_and_invariants_hold(self) -> None:
        if not hasattr(self, "model"):
            return
        stored: StoredSeats = self.read(self.event_id)
        assert stored.confirmed == frozenset(self.model.confirmed)
        assert stored.waitlist == tuple(self.model.waitlist)  # 3: first come, first served
        assert stored.offers == frozenset(self.model.offers.items())  # 3: offers went to the head
        assert stored.ended == frozenset(self.model.ended.items())
        assert stored.capacity == self.model.capacity
        offered = {user for user, _ in stored.offers}
        assert not stored.confirmed & set(stored.waitlist)  # 2: one active registration per user
        assert not offered & (stored.confirmed | set(stored.waitlist))
        assert (stored.confirmed_count, stored.waitlist_count, stored.offered_count) == (
            len(stored.confirmed),
            len(stored.waitlist),
            len(offered),
        )  # 7
        if stored.confirmed_count + stored.offered_count < stored.capacity:
            assert stored.waitlist_count == 0  # 4: no free seat while someone waits
        # 1 (never overbooked: confirmed + offered <= capacity) holds because the model only
        # seats or offers while seats remain; each single decision is checked seat by seat in
        # test_decide_properties.py. 8 (no offer accepted after it expires) and 9 (an offer is
        # decided once) are checked by the outcomes against the model and by `redeliver`.


class MemorySeatMachine(SeatMachine):
    def make_store(self, event_id: str, capacity: int, waitlist: bool, offer_ttl: int | None):
        store = MemorySeatStore()
        store.add_event(event_id, capacity, waitlist, offer_ttl=offer_ttl)
        self.read = lambda e: read_memory(store, e)
        return store

    def commits(self) -> int | None:
        return self.store.commits

    def edit(self, is_open: bool) -> None:
        self.store.edit(self.event_id, is_open=is_open)

    def edit_offers(self, ttl: int | None) -> None:
        self.store.edit(self.event_id, offer_ttl=ttl)

    def open_offers(self):
        return self.store


MemorySeatMachine.TestCase.settings = settings(
    max_examples=400,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestDecisionsInMemory = MemorySeatMachine.TestCase


class MemoryOfferMachine(MemorySeatMachine):
    """The same machine on an event that offers freed seats, from the start: most steps then
    make, answer or lapse offers."""

    @initialize(capacity=st.integers(1, 3))
    def create_event(self, capacity: int) -> None:  # type: ignore[override]
        self.open_event(capacity, True, OFFER_TTL)


MemoryOfferMachine.TestCase.settings = settings(MemorySeatMachine.TestCase.settings, max_examples=1000)
TestOffersInMemory = MemoryOfferMachine.TestCase


@pytest.fixture
def dynamo_machine(emulators):
    client, table = emulators.client("dynamodb"), emulators.environment["TURNSTILE_TABLE"]

    class DynamoSeatMachine(SeatMachine):
        def make_store(self, event_id: str, capacity: int, waitlist: bool, offer_ttl: int | None):
            event = Event(
                event_id, "t", "2026-01-01", capacity, waitlist_enabled=waitlist, waitlist_offer_ttl=offer_ttl
            )
            DynamoEventRepository(client, table).add(replace(event, created_at="c", updated_at="c"))
            store = DynamoSeatStore(client, table)
            self.read = dynamo_reader(store)
            return store

        def edit(self, is_open: bool) -> None:
            events = DynamoEventRepository(client, table)
            current = events.get(self.event_id)
            status = EventStatus.ACTIVE if is_open else EventStatus.CLOSED
            assert events.update(
                replace(current, status=status, version=current.version + 1), current.version
            )

        def edit_offers(self, ttl: int | None) -> None:
            events = DynamoEventRepository(client, table)
            current = events.get(self.event_id)
            changed = replace(current, waitlist_offer_ttl=ttl, version=current.version + 1)
            assert events.update(changed, current.version)

        def open_offers(self):
            return DynamoOpenOffers(client, table)

    DynamoSeatMachine.TestCase.settings = settings(
        max_examples=6,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    return DynamoSeatMachine


@pytest.mark.emulators
def test_decisions_on_dynamodb_local(dynamo_machine):
    dynamo_machine.TestCase().runTest()


@pytest.mark.emulators
def test_offers_on_dynamodb_local(dynamo_machine):
    class DynamoOfferMachine(dynamo_machine):
        @initialize(capacity=st.integers(1, 3))
        def create_event(self, capacity: int) -> None:  # type: ignore[override]
            self.open_event(capacity, True, OFFER_TTL)

    DynamoOfferMachine.TestCase.settings = settings(
        dynamo_machine.TestCase.settings, max_examples=15, stateful_step_count=20
    )
    DynamoOfferMachine.TestCase().runTest()
