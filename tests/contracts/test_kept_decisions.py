"""A person's register that confirms or waitlists them keeps its decision on the registration it
makes (no request item of its own). These tests hold the request repository and the seat store
to what a client sees of that, in memory and on DynamoDB Local: `GET /requests/{id}` shows the
decision while the registration keeps it, after a later move takes it off (a cancellation, a
registration anew) and after the event's purge; a redelivered register is seen as decided; and
the table's changes announce each decision once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.registrations.decisions import DecisionService
from chalicelib.registrations.domain import Cancel, Command, Register, RequestStatus, RequestType, decide
from chalicelib.registrations.dynamodb import DynamoRequestRepository
from chalicelib.registrations.items import marked_request_id
from chalicelib.registrations.memory import MemoryRequestRepository, MemorySeatStore
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import RequestRecord, RequestRepository
from chalicelib.shared import table
from chalicelib.webhooks.notifications import from_change
from tests.contracts.conftest import unique
from tests.contracts.test_seat_store import NOW, Seats, _dynamo_seats
from tests.fakes import FixedClock

TYPES = {Register: RequestType.REGISTER, Cancel: RequestType.CANCEL}


@dataclass
class World:
    seats: Seats
    requests: RequestRepository


@pytest.fixture(params=["memory", "dynamodb"])
def world(request) -> World:
    if request.param == "memory":
        requests = MemoryRequestRepository()
        store = MemorySeatStore(requests=requests)
        seats = Seats(
            store, lambda e, c, ttl=None: store.add_event(e, c, True), lambda e: None, lambda e: None, store
        )
        return World(seats, requests)
    real = request.getfixturevalue("real")
    return World(_dynamo_seats(real), DynamoRequestRepository(real.dynamodb, real.table))


def accepted(world: World, command: Register | Cancel, event_id: str) -> RequestRecord:
    """What the API does with a person's register or cancel: keep it as their mark."""
    record = RequestRecord(
        command.request_id,
        TYPES[type(command)],
        event_id,
        command.user_id,
        RequestStatus.PENDING,
        NOW,
        requested_by=command.user_id,
    )
    holder = world.requests.claim(record, 100)
    if holder is not None:
        assert world.requests.take_over(record, holder.request_id, 100)
    return record


def decided(world: World, event_id: str, commands: list[Command], records: list[RequestRecord]) -> None:
    """One batch, as the worker decides it."""
    users = {c.user_id for c in commands if isinstance(c, Register | Cancel)}
    snapshot = world.seats.store.load(event_id, users, set(), 10)
    plan = decide(snapshot.seats, commands, now=NOW)
    world.seats.store.commit(snapshot, plan, {r.request_id: r for r in records}, NOW)


def register(world: World, event_id: str, user: str) -> str:
    command = Register(marked_request_id(event_id, user, unique("r")), user, requested_by=user)
    decided(world, event_id, [command], [accepted(world, command, event_id)])
    return command.request_id


def cancel(world: World, event_id: str, user: str) -> str:
    command = Cancel(marked_request_id(event_id, user, unique("c")), user)
    decided(world, event_id, [command], [accepted(world, command, event_id)])
    return command.request_id


def outcome(world: World, request_id: str) -> dict[str, Any] | None:
    record = world.requests.get(request_id)
    assert record is not None, f"{request_id} is not found"
    assert record.status == RequestStatus.COMPLETED, record
    return record.outcome


def test_a_registers_decision_is_shown_while_the_registration_keeps_it_and_after_a_cancel(world):
    event = unique("ev")
    world.seats.add_event(event, 1)
    ada = register(world, event, "ada")
    bob = register(world, event, "bob")
    assert outcome(world, ada) == {"type": "confirmed"}
    assert outcome(world, bob) == {"type": "waitlisted", "position": 1}
    record = world.requests.get(ada)
    assert (record.type, record.event_id, record.user_id, record.requested_by) == (
        "register",
        event,
        "ada",
        "ada",
    )
    cancelled = cancel(world, event, "ada")  # bob is promoted: his registration keeps its request
    assert outcome(world, cancelled) == {"type": "cancelled", "promotedUserId": "bob"}
    assert outcome(world, ada) == {"type": "confirmed"}, "moved to a request item with the cancel"
    assert outcome(world, bob) == {"type": "waitlisted", "position": 1}, "the decision as it was made"
    again = register(world, event, "ada")  # waitlisted now: nobody's seat is free
    assert outcome(world, again) == {"type": "waitlisted", "position": 1}
    assert outcome(world, ada) == {"type": "confirmed"}


def test_a_decision_kept_on_a_registration_outlives_the_events_purge(world):
    event = unique("ev")
    world.seats.add_event(event, 1)
    ada, bob = register(world, event, "ada"), register(world, event, "bob")
    world.seats.delete_event(event)
    assert world.seats.store.purge(event) == (2, True)
    assert outcome(world, ada) == {"type": "confirmed"}
    assert outcome(world, bob) == {"type": "waitlisted", "position": 1}


def test_a_register_whose_registration_keeps_its_decision_loads_as_decided(world):
    event = unique("ev")
    world.seats.add_event(event, 5)
    ada = register(world, event, "ada")
    snapshot = world.seats.store.load(event, {"ada"}, set(), 0)  # a redelivery asks about nobody
    assert not snapshot.is_pending(ada)


def test_each_decision_is_announced_once_wherever_it_is_kept():
    """The in-memory store's record of the stream's images (the relay on DynamoDB Local reads the
    real stream: tests/webhooks)."""
    requests = MemoryRequestRepository()
    store = MemorySeatStore(requests=requests)

    def nothing(event_id: str) -> None:  # this test neither deletes nor closes the event
        return None

    world = World(Seats(store, lambda e, c: store.add_event(e, c, True), nothing, nothing, store), requests)
    event = unique("ev")
    world.seats.add_event(event, 1)
    ada, bob = register(world, event, "ada"), register(world, event, "bob")
    cancelled = cancel(world, event, "ada")
    told = [n for n in (from_change(old, new) for old, new in store.changes) if n is not None]
    assert sorted((n.type, n.data.get("requestId"), n.data.get("userId")) for n in told) == sorted(
        [
            ("registration.confirmed", ada, "ada"),
            ("registration.waitlisted", bob, "bob"),
            ("registration.cancelled", cancelled, "ada"),
            ("registration.promoted", cancelled, "bob"),
        ]
    )


def test_on_dynamodb_a_kept_decision_writes_no_request_item_until_it_moves(real):
    world = World(_dynamo_seats(real), DynamoRequestRepository(real.dynamodb, real.table))
    event = unique("ev")
    world.seats.add_event(event, 1)
    ada = register(world, event, "ada")

    def request_item(request_id: str) -> dict[str, Any]:
        key = table.request_key(request_id)
        return real.dynamodb.get_item(TableName=real.table, Key=key, ConsistentRead=True).get("Item", {})

    assert request_item(ada) == {}
    cancelled = cancel(world, event, "ada")
    assert request_item(ada)["status"] == {"S": "completed"}
    assert request_item(cancelled)["outcome"]["M"]["type"] == {"S": "cancelled"}


@pytest.mark.parametrize("batches", [1, 2], ids=["one-batch", "a-later-batch"])
def test_a_register_delivered_again_after_a_later_cancel_is_not_decided_again(world, batches):
    """The register's decision has moved off the cancelled registration when the register comes
    again: its batch redelivered after both were committed (in two rounds) and the worker crashed
    before deleting it, or a copy sent again later (an Idempotency-Key's replay of a request it
    read as pending). It must still be found decided, and nobody registered again."""
    event = unique("ev")
    world.seats.add_event(event, 5)
    service = DecisionService(world.seats.store, FixedClock())
    register_, cancel_ = (
        CommandMessage(
            type=kind, requestId=marked_request_id(event, "ada", unique(kind)), eventId=event, userId="ada"
        )
        for kind in ("register", "cancel")
    )
    first = service.process(event, [register_, cancel_] if batches == 1 else [register_]).outcomes
    if batches == 2:
        first.update(service.process(event, [cancel_]).outcomes)
    assert [first[m.requestId].kind for m in (register_, cancel_)] == ["confirmed", "cancelled"]
    assert service.process(event, [register_, cancel_][: 3 - batches]).outcomes == {}
    snapshot = world.seats.store.load(event, {"ada"}, set(), 0)
    assert "ada" not in snapshot.seats.registrations and snapshot.seats.confirmed == 0


def test_a_register_with_a_record_of_its_own_shows_the_decision_its_registration_keeps(world):
    """An Idempotency-Key's register has its own record (pending, claimed with the key) besides the
    mark; its decision is still kept on the registration, and that is what is shown."""
    event = unique("ev")
    world.seats.add_event(event, 5)
    command = Register(marked_request_id(event, "ada", unique("r")), "ada", requested_by="ada")
    record = accepted(world, command, event)
    world.requests.create(record, (unique("key"), "fingerprint"))
    assert world.requests.get(command.request_id).status == RequestStatus.PENDING
    decided(world, event, [command], [record])
    assert outcome(world, command.request_id) == {"type": "confirmed"}
