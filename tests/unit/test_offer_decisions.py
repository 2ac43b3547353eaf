"""Waitlist offers in the decision core, case by case: who is offered a freed seat and until
when, and how an offer ends (accepted in time, too late, declined, lapsed, or a stale expiry)."""

from __future__ import annotations

import pytest

from chalicelib.registrations.domain import (
    AcceptOffer,
    Cancel,
    ChangeCapacity,
    DeclineOffer,
    EventEdit,
    EventSeats,
    ExpireOffer,
    Move,
    Outcome,
    Register,
    Registration,
    Standing,
    decide,
    offer_expiry,
    waitlist_needed,
)
from chalicelib.registrations.messages import CommandMessage, MalformedMessage, parse_message

NOW = "2026-05-01T10:00:00.000000Z"
LATER = "2026-05-01T10:05:00.000000Z"  # NOW + 300 s, when offers made at NOW lapse
TTL = 300


W, OF, C = Standing.WAITLISTED, Standing.OFFERED, Standing.CONFIRMED


def moves(plan) -> dict[str, Move]:
    return {change.user_id: change for change in plan.changes if isinstance(change, Move)}


def offered(plan, user: str, freed_by: str) -> bool:
    move = moves(plan).get(user)
    return (
        move is not None
        and move.standings == (W, OF)
        and move.after is not None
        and (move.after.offer_expires_at, move.after.freed_by, move.before.wait_seq) == (LATER, freed_by, 1)
        and (move.after.offered_at, move.after.wait_seq, move.cause) == (NOW, None, freed_by)
    )


def ended(plan, user: str, standing: Standing, by: str, at: str) -> bool:
    move = moves(plan).get(user)
    return (
        move is not None
        and move.standings == (OF, standing)
        and move.after is not None
        and (move.after.offer_expires_at, move.after.ended_by, move.cause) == (LATER, by, by)
        and move.after.ended_at == at
    )


def promoted(plan) -> list[str]:
    return [user for user, move in moves(plan).items() if move.standings == (W, C)]


def seats(
    confirmed: list[str],
    waiting: list[str],
    offered: dict[str, str] | None = None,
    ended: dict[str, Standing] | None = None,
    **extra,
) -> EventSeats:
    """An event with offers on: `confirmed` in seats, `offered` holding seats until their expiry,
    `waiting` in line; capacity is exactly the seats held unless given."""
    offered = offered or {}
    registrations = {
        **{u: Registration(u, Standing.CONFIRMED) for u in confirmed},
        **{u: Registration(u, Standing.WAITLISTED, i + 1) for i, u in enumerate(waiting)},
        **{u: Registration(u, Standing.OFFERED, offer_expires_at=at) for u, at in offered.items()},
        **{u: Registration(u, standing, offer_expires_at=NOW) for u, standing in (ended or {}).items()},
    }
    values = dict(
        event_id="e",
        exists=True,
        is_open=True,
        capacity=len(confirmed) + len(offered),
        waitlist_enabled=True,
        confirmed=len(confirmed),
        waitlisted=len(waiting),
        next_wait_seq=len(waiting) + 1,
        registrations=registrations,
        waitlist=list(waiting),
        offered=len(offered),
        offer_ttl=TTL,
    )
    return EventSeats(**{**values, **extra})


def test_an_offer_lapses_ttl_seconds_after_it_is_made():
    assert offer_expiry(NOW, TTL) == LATER
    assert offer_expiry("2026-12-31T23:59:50.000001Z", 10) == "2027-01-01T00:00:00.000001Z"


def test_a_cancellation_offers_the_seat_to_the_head_of_the_waitlist_until_now_plus_ttl():
    plan = decide(seats(["ada"], ["bob", "cy"]), [Cancel("c", "ada")], now=NOW)
    assert plan.outcomes == {"c": Outcome("cancelled", offered_user_ids=("bob",))}
    assert offered(plan, "bob", freed_by="c")
    assert promoted(plan) == []
    assert (plan.confirmed, plan.offered, plan.waitlisted) == (0, 1, 1)


def test_without_offers_the_head_is_promoted_at_once():
    plan = decide(seats(["ada"], ["bob"], offer_ttl=None), [Cancel("c", "ada")], now=NOW)
    assert plan.outcomes == {"c": Outcome("cancelled", promoted_user_ids=("bob",))}
    assert (plan.confirmed, plan.offered) == (1, 0)


def test_an_offered_seat_is_taken_so_a_newcomer_waits():
    plan = decide(seats([], [], {"bob": LATER}), [Register("r", "dan")], now=NOW)
    assert plan.outcomes == {"r": Outcome("waitlisted", position=1)}


def test_accepting_before_the_expiry_confirms():
    plan = decide(seats(["ada"], [], {"bob": LATER}), [AcceptOffer("a", "bob", NOW)], now=LATER)
    assert plan.outcomes == {"a": Outcome("confirmed")}
    taken = moves(plan)["bob"]
    assert taken.standings == (OF, C) and taken.cause == "a"
    assert taken.after is not None and (taken.after.confirmed_at, taken.after.offer_expires_at) == (
        LATER,
        None,
    )
    assert (plan.confirmed, plan.offered) == (2, 0)


def test_later_commands_of_a_batch_see_how_an_offer_ended():
    """Within one round: after an accept bob is confirmed; after a lapse, a late accept names the
    lapse; after an answer, a command that writes bob's registration again (a new registration
    after a decline, a cancellation after an accept) is left to the next round (one write per
    item per transaction)."""
    accepted = decide(
        seats([], [], {"bob": LATER}), [AcceptOffer("a", "bob", NOW), Register("r", "bob")], now=NOW
    )
    assert accepted.outcomes["r"] == Outcome("already_registered", current_status="confirmed")
    lapsed = decide(
        seats([], [], {"bob": LATER}),
        [ExpireOffer("x", "bob", LATER), AcceptOffer("a", "bob", NOW)],
        now=LATER,
    )
    assert lapsed.outcomes["a"] == Outcome("rejected", reason="offer_expired")
    for answer, again in [
        (DeclineOffer("d", "bob"), Register("r", "bob")),
        (AcceptOffer("a", "bob", NOW), Cancel("c", "bob")),
    ]:
        plan = decide(seats([], [], {"bob": LATER}), [answer, again], now=NOW)
        assert list(plan.outcomes) == [answer.request_id] and plan.unfinished == [again]


@pytest.mark.parametrize("asked_at", [LATER, "2026-05-01T10:05:00.000001Z"])
def test_accepting_at_or_after_the_expiry_is_rejected_even_before_the_sweep_lapses_it(asked_at):
    plan = decide(seats([], [], {"bob": LATER}), [AcceptOffer("a", "bob", asked_at)], now=NOW)
    assert plan.outcomes == {"a": Outcome("rejected", reason="offer_expired")}
    assert plan.offered == 1 and len(plan.changes) == 1  # only the outcome: the sweep lapses it


@pytest.mark.parametrize(
    ("ended", "reason"),
    [(None, "no_offer"), (Standing.DECLINED, "no_offer"), (Standing.OFFER_EXPIRED, "offer_expired")],
)
def test_answering_without_an_open_offer_is_rejected_with_why(ended, reason):
    snapshot = seats(["ada"], [], ended={"bob": ended} if ended else None)
    plan = decide(snapshot, [AcceptOffer("a", "bob", NOW), DeclineOffer("d", "ada")], now=NOW)
    assert plan.outcomes == {
        "a": Outcome("rejected", reason=reason),
        "d": Outcome("rejected", reason="no_offer"),
    }


def test_declining_offers_the_seat_to_the_next_in_line():
    plan = decide(seats([], ["cy"], {"bob": LATER}), [DeclineOffer("d", "bob")], now=NOW)
    assert plan.outcomes == {"d": Outcome("declined", offered_user_ids=("cy",))}
    assert ended(plan, "bob", Standing.DECLINED, by="d", at=NOW)
    assert offered(plan, "cy", freed_by="d")
    assert (plan.offered, plan.waitlisted) == (1, 0)


def test_a_lapsed_offer_moves_on_and_a_stale_expiry_touches_nothing():
    snapshot = seats([], ["cy"], {"bob": LATER})
    lapsed = decide(snapshot, [ExpireOffer("x", "bob", LATER)], now=LATER)
    assert lapsed.outcomes == {"x": Outcome("offer_expired", offered_user_ids=("cy",))}
    assert ended(lapsed, "bob", Standing.OFFER_EXPIRED, by="x", at=LATER)
    # an expiry of an earlier offer to bob (bob since declined, came back and was offered again)
    stale = decide(snapshot, [ExpireOffer("x0", "bob", NOW)], now=LATER)
    assert stale.outcomes == {"x0": Outcome("rejected", reason="no_offer")}
    assert (stale.offered, stale.waitlisted) == (1, 1) and len(stale.changes) == 1


def test_whoever_let_an_offer_lapse_may_register_again_at_the_back():
    snapshot = seats([], ["cy"], {"dan": LATER}, ended={"bob": Standing.OFFER_EXPIRED})
    plan = decide(snapshot, [Register("r", "bob"), Cancel("c", "bob")], now=NOW)
    assert plan.outcomes["r"] == Outcome("waitlisted", position=2)
    # Cancelling an ended offer is "not registered"; here bob's cancel follows the register, so
    # it is decided in a round of its own (one write per registration per transaction).
    assert [type(c).__name__ for c in plan.unfinished] == ["Cancel"]


def test_cancelling_an_offer_frees_its_seat_for_the_next():
    plan = decide(seats(["ada"], ["cy"], {"bob": LATER}), [Cancel("c", "bob")], now=NOW)
    assert plan.outcomes == {"c": Outcome("cancelled", offered_user_ids=("cy",))}
    assert (plan.confirmed, plan.offered, plan.waitlisted) == (1, 1, 0)


def test_a_capacity_raise_offers_each_new_seat_and_may_turn_offers_off():
    raise_ = ChangeCapacity("k", 3)
    plan = decide(seats(["ada"], ["bob", "cy", "dan"]), [raise_], now=NOW)
    assert [u for u, m in moves(plan).items() if m.standings == (W, OF)] == ["bob", "cy"]
    off = ChangeCapacity("k", 3, EventEdit(sets_offer=True, offer_ttl=None))
    plan = decide(seats(["ada"], ["bob", "cy", "dan"]), [off], now=NOW)
    assert promoted(plan) == ["bob", "cy"]


def test_offers_already_made_keep_their_expiry_when_offers_are_turned_off():
    snapshot = seats([], ["cy"], {"bob": LATER}, offer_ttl=None)
    plan = decide(snapshot, [AcceptOffer("a", "bob", NOW)], now=NOW)
    assert plan.outcomes == {"a": Outcome("confirmed")}
    plan = decide(snapshot, [DeclineOffer("d", "bob")], now=NOW)
    assert plan.outcomes == {"d": Outcome("declined", promoted_user_ids=("cy",))}


def test_declines_and_expiries_may_reach_into_the_waitlist_accepts_never():
    assert waitlist_needed([AcceptOffer("a", "u", NOW)]) == 0
    assert waitlist_needed([DeclineOffer("d", "u"), ExpireOffer("x", "v", NOW)]) == 4


def test_offer_commands_on_the_queue_need_their_fields():
    accept = CommandMessage(type="accept_offer", requestId="r", eventId="e", userId="u", createdAt=NOW)
    assert accept.to_command() == AcceptOffer("r", "u", NOW)
    expire = CommandMessage(type="expire_offer", requestId="x", eventId="e", userId="u", offerExpiresAt=NOW)
    assert expire.to_command() == ExpireOffer("x", "u", NOW)
    for incomplete in (
        '{"type": "accept_offer", "requestId": "r", "eventId": "e", "userId": "u"}',  # when asked?
        '{"type": "expire_offer", "requestId": "r", "eventId": "e", "userId": "u"}',  # which offer?
    ):
        with pytest.raises(MalformedMessage):
            parse_message(incomplete)
