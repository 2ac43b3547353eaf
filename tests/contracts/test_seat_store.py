"""SeatStore: the registration worker's store, in memory and on DynamoDB Local, under one contract
(the property machine in tests/property drives both through long random histories as well)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from chalicelib.events.domain import Event, EventStatus
from chalicelib.events.dynamodb import DynamoEventRepository
from chalicelib.registrations.domain import (
    AcceptOffer,
    Cancel,
    Command,
    DeclineOffer,
    Register,
    RequestStatus,
    RequestType,
    Standing,
    decide,
)
from chalicelib.registrations.dynamodb import DynamoOpenOffers
from chalicelib.registrations.memory import MemorySeatStore
from chalicelib.registrations.ports import (
    ConcurrentChange,
    DueOffer,
    OpenOffers,
    RequestRecord,
    SeatStore,
    Snapshot,
)
from chalicelib.registrations.seat_store import DynamoSeatStore
from tests.contracts.conftest import unique

NOW = "2026-01-01T00:00:00.000000Z"


@dataclass
class Seats:
    store: SeatStore
    add_event: Callable[..., None]  # event id, capacity (waitlist enabled)[, offer ttl]
    delete_event: Callable[[str], None]  # what DELETE /events/{id} does before the purge
    close_event: Callable[[str], None]  # what PUT /events/{id} {"status": "closed"} does
    offers: OpenOffers  # what the offer sweep reads


@pytest.fixture(params=["memory", "dynamodb"])
def seats(request) -> Seats:
    if request.param == "memory":
        store = MemorySeatStore()
        return Seats(
            store,
            lambda e, c, ttl=None: store.add_event(e, c, True, offer_ttl=ttl),
            lambda e: None,
            lambda e: store.edit(e, is_open=False),
            store,
        )
    real = request.getfixturevalue("real")
    events = DynamoEventRepository(real.dynamodb, real.table)

    def add(event_id: str, capacity: int, ttl: int | None = None) -> None:
        event = Event(event_id, "t", "2026-01-01", capacity, waitlist_enabled=True, waitlist_offer_ttl=ttl)
        events.add(replace(event, created_at="c"))

    def close(event_id: str) -> None:
        current = events.get(event_id)
        assert current is not None
        events.update(
            replace(current, status=EventStatus.CLOSED, version=current.version + 1), current.version
        )

    store = DynamoSeatStore(real.dynamodb, real.table)
    return Seats(store, add, events.mark_deleting, close, DynamoOpenOffers(real.dynamodb, real.table))


KINDS = {
    Register: RequestType.REGISTER,
    Cancel: RequestType.CANCEL,
    AcceptOffer: RequestType.ACCEPT_OFFER,
    DeclineOffer: RequestType.DECLINE_OFFER,
}


def record(command: Command, event_id: str) -> RequestRecord:
    """The pending record of the request a command carries, as the worker hands it to the store."""
    assert isinstance(command, Register | Cancel | AcceptOffer | DeclineOffer)
    return RequestRecord(
        request_id=command.request_id,
        type=KINDS[type(command)],
        event_id=event_id,
        user_id=command.user_id,
        status=RequestStatus.PENDING,
        created_at=NOW,
    )


def load(
    seats: Seats,
    event_id: str,
    users: set[str] = frozenset(),
    requests: set[str] = frozenset(),
    head: int = 0,
) -> Snapshot:
    return seats.store.load(event_id, set(users), set(requests), head)


def apply(seats: Seats, event_id: str, commands: list[Command], snapshot: Snapshot | None = None) -> None:
    users = {c.user_id for c in commands}
    snapshot = snapshot or load(seats, event_id, users, head=10)
    plan = decide(snapshot.seats, commands, now=NOW)
    seats.store.commit(snapshot, plan, {c.request_id: record(c, event_id) for c in commands}, NOW)


def test_a_missing_event_loads_as_not_existing(seats):
    assert not load(seats, unique("none")).seats.exists


def test_a_commit_is_visible_to_the_next_load(seats):
    event = unique("ev")
    seats.add_event(event, 1)
    apply(seats, event, [Register(f"{event}-r1", "ada"), Register(f"{event}-r2", "bob")])
    loaded = load(seats, event, {"ada", "bob"}, head=10).seats
    assert (loaded.confirmed, loaded.waitlisted, loaded.waitlist) == (1, 1, ["bob"])
    assert {u: r.standing.value for u, r in loaded.registrations.items()} == {
        "ada": "confirmed",
        "bob": "waitlisted",
    }


def test_a_commit_on_a_stale_snapshot_is_a_concurrent_change(seats):
    event = unique("ev")
    seats.add_event(event, 5)
    stale = load(seats, event, {"ada", "bob"})
    apply(seats, event, [Register(f"{event}-r1", "ada")])
    with pytest.raises(ConcurrentChange):
        apply(seats, event, [Register(f"{event}-r2", "bob")], snapshot=stale)
    assert load(seats, event).seats.confirmed == 1


def test_a_redelivered_request_cannot_be_decided_twice(seats):
    event = unique("ev")
    seats.add_event(event, 5)
    apply(seats, event, [Register(f"{event}-r1", "ada")])
    assert not load(seats, event, requests={f"{event}-r1"}).is_pending(f"{event}-r1")
    with pytest.raises(ConcurrentChange):  # as if the completed check had been skipped
        apply(seats, event, [Register(f"{event}-r1", "bob")])


def test_the_waitlist_head_comes_in_order_and_says_whether_it_is_all(seats):
    event = unique("ev")
    seats.add_event(event, 1)
    apply(seats, event, [Register(f"{event}-{u}", u) for u in ("ada", "bob", "cy", "dan")])
    head = load(seats, event, head=2).seats
    assert (head.waitlist, head.waitlist_complete) == (["bob", "cy"], False)
    whole = load(seats, event, head=10).seats
    assert (whole.waitlist, whole.waitlist_complete) == (["bob", "cy", "dan"], True)
    apply(seats, event, [Cancel(f"{event}-c1", "ada")])
    after = load(seats, event, {"bob"}, head=10).seats
    assert (after.confirmed, after.waitlist, after.registrations["bob"].standing.value) == (
        1,
        ["cy", "dan"],
        "confirmed",
    )


def test_purging_a_deleted_event_removes_it_and_its_registrations(seats):
    event = unique("ev")
    seats.add_event(event, 2)
    apply(seats, event, [Register(f"{event}-{u}", u) for u in ("ada", "bob", "cy")])
    seats.delete_event(event)
    assert seats.store.purge(event) == (3, True)
    assert not load(seats, event, {"ada"}).seats.exists
    assert seats.store.purge(event) == (0, True), "a redelivered purge finds nothing left"


def test_an_edit_between_load_and_commit_is_a_concurrent_change(seats):
    event = unique("ev")
    seats.add_event(event, 5)
    loaded = load(seats, event, {"ada"})
    seats.close_event(event)
    with pytest.raises(ConcurrentChange):
        apply(seats, event, [Register(f"{event}-r1", "ada")], snapshot=loaded)
    assert not load(seats, event).seats.is_open


EXPIRES = "2026-01-01T00:01:00.000000Z"  # offers made at NOW, with a 60 s hold


def test_an_offer_holds_a_seat_is_found_due_and_ends_as_answered(seats):
    event_id = unique("offers")
    seats.add_event(event_id, 1, 60)
    apply(seats, event_id, [Register("r1", "ada"), Register("r2", "bob"), Register("r3", "cy")])
    apply(seats, event_id, [Cancel("c", "ada")])
    snapshot = load(seats, event_id, {"bob"})
    bob = snapshot.seats.registrations["bob"]  # read back whole: who registered, who freed the seat
    assert (bob.standing, bob.offer_expires_at, bob.request_id, bob.freed_by) == (
        Standing.OFFERED,
        EXPIRES,
        "r2",
        "c",
    )
    assert (snapshot.seats.offered, snapshot.seats.waitlisted, snapshot.seats.offer_ttl) == (1, 1, 60)

    def due(now: str) -> list[DueOffer]:
        return [offer for offer in seats.offers.due(now, 1000) if offer.event_id == event_id]

    assert due("2026-01-01T00:00:59.999999Z") == []
    assert due(EXPIRES) == [DueOffer(event_id, "bob", EXPIRES)]

    apply(seats, event_id, [DeclineOffer("d", "bob")])  # cy is offered the seat
    apply(seats, event_id, [AcceptOffer("a", "cy", NOW)])
    snapshot = load(seats, event_id, {"bob", "cy"})
    assert snapshot.seats.registrations["bob"].standing is Standing.DECLINED
    cy = snapshot.seats.registrations["cy"]
    assert (cy.standing, cy.offer_expires_at, cy.request_id, cy.freed_by) == (
        Standing.CONFIRMED,
        None,
        "r3",
        "d",
    )
    assert snapshot.seats.registrations["bob"].ended_by == "d"
    assert (snapshot.seats.confirmed, snapshot.seats.offered, snapshot.seats.waitlisted) == (1, 0, 0)
    assert due("2099-01-01T00:00:00.000000Z") == []  # no open offer is left to sweep

    apply(seats, event_id, [Register("r4", "bob")])  # over the record of the declined offer
    bob = load(seats, event_id, {"bob"}).seats.registrations["bob"]
    assert (bob.standing, bob.wait_seq) == (Standing.WAITLISTED, 3)


# --- DynamoDB: the counters on an item of their own ----------------------------------------------


def _item(real, event_id: str, sort_key: str) -> dict:
    key = {"PK": {"S": f"EVENT#{event_id}"}, "SK": {"S": sort_key}}
    return real.dynamodb.get_item(TableName=real.table, Key=key, ConsistentRead=True).get("Item", {})


def _dynamo_seats(real) -> Seats:
    events = DynamoEventRepository(real.dynamodb, real.table)

    def add(event_id: str, capacity: int, ttl: int | None = None) -> None:
        events.add(Event(event_id, "t", "2026-01-01", capacity, waitlist_enabled=True, created_at="c"))

    store, offers = DynamoSeatStore(real.dynamodb, real.table), DynamoOpenOffers(real.dynamodb, real.table)
    return Seats(store, add, events.mark_deleting, lambda e: None, offers)


def test_a_decision_rewrites_the_seats_item_and_leaves_the_event_item_and_its_index_entries(real):
    seats, event = _dynamo_seats(real), unique("ev")
    seats.add_event(event, 1)
    before = _item(real, event, "META")
    apply(seats, event, [Register(f"{event}-r1", "ada"), Register(f"{event}-r2", "bob")])
    assert _item(real, event, "META") == before
    stored = _item(real, event, "SEATS")
    assert (stored["confirmedCount"], stored["waitlistCount"], stored["seatVersion"]) == (
        {"N": "1"},
        {"N": "1"},
        {"N": "1"},
    )
    shown = DynamoEventRepository(real.dynamodb, real.table).get(event)
    assert shown is not None and (shown.confirmed_count, shown.waitlist_count) == (1, 1)
    listed, _ = DynamoEventRepository(real.dynamodb, real.table).list(None, 100, None)
    assert [(e.confirmed_count, e.waitlist_count) for e in listed if e.event_id == event] == [(1, 1)]


def test_a_deletion_between_load_and_commit_is_a_concurrent_change(real):
    seats, event = _dynamo_seats(real), unique("ev")
    seats.add_event(event, 5)
    loaded = load(seats, event, {"ada"})
    seats.delete_event(event)
    with pytest.raises(ConcurrentChange):
        apply(seats, event, [Register(f"{event}-r1", "ada")], snapshot=loaded)
    assert not load(seats, event, {"ada"}).seats.exists


def test_an_event_stored_with_its_counters_on_the_event_item_continues_from_them(real):
    """Events stored before the counters had an item of their own: the first decision moves them."""
    seats, event = _dynamo_seats(real), unique("ev")
    seats.add_event(event, 2)
    apply(seats, event, [Register(f"{event}-r1", "ada")])
    counters = {"confirmedCount": {"N": "1"}, "waitlistCount": {"N": "0"}, "nextWaitSeq": {"N": "1"}}
    legacy = {**_item(real, event, "META"), **counters, "seatVersion": {"N": "7"}}
    real.dynamodb.put_item(TableName=real.table, Item=legacy)
    real.dynamodb.delete_item(TableName=real.table, Key={"PK": legacy["PK"], "SK": {"S": "SEATS"}})
    events = DynamoEventRepository(real.dynamodb, real.table)
    shown = events.get(event)
    assert shown is not None and shown.confirmed_count == 1
    apply(seats, event, [Register(f"{event}-r2", "bob"), Register(f"{event}-r3", "cy")])
    after = load(seats, event, {"ada"}).seats
    assert (after.confirmed, after.waitlisted, after.next_wait_seq) == (2, 1, 2)
    shown = events.get(event)
    assert shown is not None and (shown.confirmed_count, shown.waitlist_count) == (2, 1)
