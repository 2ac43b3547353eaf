"""The worker's use case on the in-memory store: lost races, redelivery, multi-round batches."""

from __future__ import annotations

import pytest

from chalicelib.registrations.decisions import DecisionService, DecisionsExhausted
from chalicelib.registrations.domain import Outcome
from chalicelib.registrations.memory import MemorySeatStore
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.ports import ConcurrentChange
from tests.fakes import FixedClock

NOW = "2026-12-02T10:00:00.000000Z"  # when the decisions are made


def register(user: str, request: str) -> CommandMessage:
    return CommandMessage(type="register", requestId=request, eventId="e", userId=user)


@pytest.fixture
def store() -> MemorySeatStore:
    store = MemorySeatStore()
    store.add_event("e", capacity=1, waitlist_enabled=True)
    return store


def service(store, **kwargs) -> DecisionService:
    return DecisionService(store, FixedClock(), **kwargs)


def test_a_lost_race_is_reloaded_and_decided_again(store):
    original_commit = store.commit
    raced = []

    def commit_after_a_rival(snapshot, plan, messages, now):
        if not raced:  # a rival worker takes the last seat between our load and our commit
            raced.append(True)
            rival = store.load("e", {"rival"}, {"rival-request"}, 1)
            original_commit(rival, _decide_one(rival, register("rival", "rival-request")), {}, now)
        return original_commit(snapshot, plan, messages, now)

    store.commit = commit_after_a_rival
    outcomes = service(store).process("e", [register("ada", "r1")]).outcomes
    assert outcomes == {"r1": Outcome("waitlisted", position=1)}


def _decide_one(snapshot, message):
    from chalicelib.registrations.domain import decide

    return decide(snapshot.seats, [message.to_command()], now=NOW)


def test_losing_every_race_gives_up_so_the_queue_redelivers(store):
    def always_lose(*args):
        raise ConcurrentChange("e")

    store.commit = always_lose
    with pytest.raises(DecisionsExhausted):
        service(store, max_attempts=3).process("e", [register("ada", "r1")])


def test_a_batch_is_one_commit_unless_an_item_would_be_written_twice(store):
    batch = [register(u, f"r{u}") for u in "abcdef"]
    service(store).process("e", batch)
    assert store.commits == 1
    again = [CommandMessage(type="cancel", requestId="c1", eventId="e", userId="a"), register("a", "r-again")]
    outcomes = service(store).process("e", again).outcomes
    assert store.commits == 3  # cancel and re-register of one user need two transactions
    assert outcomes["c1"] == Outcome("cancelled", promoted_user_ids=("b",))
    assert outcomes["r-again"] == Outcome("waitlisted", position=5)


def test_a_large_capacity_raise_commits_in_budget_sized_rounds(store):
    service(store).process("e", [register(f"u{i}", f"r{i}") for i in range(10)])
    commits = store.commits
    raise_ = CommandMessage(type="change_capacity", requestId="grow", eventId="e", capacity=10)
    outcomes = service(store, promotion_budget=4).process("e", [raise_]).outcomes
    assert outcomes == {"grow": Outcome("capacity_changed", capacity=10)}
    assert store.commits - commits == 3  # 9 promotions: 4 + 4 + 1
    assert store.events["e"]["confirmed"] == 10 and store.events["e"]["waitlisted"] == 0


def test_redelivered_requests_are_skipped(store):
    service(store).process("e", [register("a", "r1")])
    assert service(store).process("e", [register("a", "r1"), register("a", "r1")]).outcomes == {}


def test_redelivering_a_capacity_raise_changes_nothing_even_where_it_would_take_several_rounds(store):
    grow = CommandMessage(type="change_capacity", requestId="grow", eventId="e", capacity=3)
    cut = CommandMessage(type="change_capacity", requestId="cut", eventId="e", capacity=0)
    service(store).process("e", [grow, cut])
    service(store).process("e", [register(u, f"r{u}") for u in "abc"])  # all three wait
    before = (dict(store.events["e"]), dict(store.registrations["e"]))
    # redelivered: deciding it again would promote in two rounds of at most 2
    assert service(store, promotion_budget=2).process("e", [grow]).outcomes == {}
    assert (store.events["e"], store.registrations["e"]) == before


def test_a_request_whose_own_data_cannot_be_committed_is_rejected_and_the_rest_decided(store):
    """As a store that cannot convert one request's value: that request alone is rejected."""
    original_commit = store.commit

    def commit(snapshot, plan, messages, now):
        if "r2" in plan.outcomes and plan.outcomes["r2"].kind != "rejected":
            raise OverflowError("date value out of range")
        return original_commit(snapshot, plan, messages, now)

    store.commit = commit
    outcomes = (
        service(store).process("e", [register("a", "r1"), register("b", "r2"), register("c", "r3")]).outcomes
    )
    assert {r: (o.kind, o.reason) for r, o in outcomes.items()} == {
        "r1": ("confirmed", None),
        "r2": ("rejected", "invalid_request"),
        "r3": ("waitlisted", None),
    }
    assert store.outcomes["r2"].reason == "invalid_request"


def test_an_infrastructure_error_still_fails_the_batch_for_redelivery(store):
    def unreachable(*args):
        raise ConnectionError("DynamoDB unreachable")

    store.commit = unreachable
    with pytest.raises(ConnectionError):
        service(store).process("e", [register("a", "r1")])


def test_work_that_does_not_fit_the_invocation_is_handed_back_in_order(store):
    """A raise over a long waitlist needs rounds; with no time for a second one, the raise and
    everything after it come back unfinished, and finishing them later ends where one go would."""
    service(store).process("e", [register(f"u{i}", f"r{i}") for i in range(10)])  # 1 in, 9 wait
    raise_ = CommandMessage(type="change_capacity", requestId="grow", eventId="e", capacity=10)
    after = register("late", "r-late")
    seconds = iter([0.5] * 100)  # the first round always runs; no time for a second
    first = service(store, promotion_budget=4).process("e", [raise_, after], lambda: next(seconds))
    assert first.outcomes == {} and first.unfinished == [raise_, after]
    assert store.events["e"]["confirmed"] == 5  # one round: four promoted
    rest = service(store, promotion_budget=4).process("e", [m.continued() for m in first.unfinished])
    assert rest.unfinished == []
    assert rest.outcomes == {
        "grow": Outcome("capacity_changed", capacity=10),
        "r-late": Outcome("waitlisted", position=1),  # ten seats, ten people before them
    }
    assert (store.events["e"]["capacity"], store.events["e"]["confirmed"]) == (10, 10)


def test_a_continuation_is_a_new_message_for_the_same_request():
    message = register("a", "r1")
    again = message.continued().continued()
    assert (again.requestId, again.continuation) == ("r1", 2)
    assert {message.deduplication_id, message.continued().deduplication_id, again.deduplication_id} == {
        "r1",
        "r1#c1",
        "r1#c2",
    }
