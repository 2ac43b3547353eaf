"""decide(, now=NOW): outcomes as they stand after the commit that records them."""

from __future__ import annotations

from chalicelib.registrations.domain import (
    Cancel,
    EventSeats,
    Outcome,
    Register,
    Registration,
    Reject,
    Standing,
    decide,
)

NOW = "2026-12-02T10:00:00.000000Z"  # when the decisions are made


def full_event(waiting: list[str]) -> EventSeats:
    """Two seats taken by a and b; `waiting` in line, in order."""
    registrations = {
        "a": Registration("a", Standing.CONFIRMED),
        "b": Registration("b", Standing.CONFIRMED),
        **{u: Registration(u, Standing.WAITLISTED, i + 1) for i, u in enumerate(waiting)},
    }
    return EventSeats(
        "e", True, True, 2, True, confirmed=2, waitlisted=len(waiting), next_wait_seq=len(waiting) + 1,
        registrations=registrations, waitlist=list(waiting),
    )  # fmt: skip


def test_a_waitlisted_position_counts_the_promotions_later_in_the_same_commit():
    plan = decide(full_event(["w1", "w2"]), [Register("rx", "x"), Cancel("ra", "a")], now=NOW)
    assert plan.outcomes["rx"] == Outcome("waitlisted", position=2)  # was 3 before w1 moved up
    assert plan.outcomes["ra"] == Outcome("cancelled", promoted_user_ids=("w1",))
    assert plan.waitlisted == 2


def test_promoting_who_joined_in_this_commit_waits_for_the_next_one():
    """c would be written twice in one transaction: the round ends before the cancellation, and
    c's and d's outcomes hold their places after the commit that records them."""
    commands = [Register("rc", "c"), Register("rd", "d"), Cancel("ra", "a")]
    plan = decide(full_event([]), commands, now=NOW)
    assert plan.outcomes == {"rc": Outcome("waitlisted", position=1), "rd": Outcome("waitlisted", position=2)}
    assert plan.unfinished == commands[2:]


def test_positions_of_several_new_waiters_are_their_places_at_the_end():
    plan = decide(full_event(["w1"]), [Register(f"r{u}", u) for u in "xyz"] + [Cancel("rb", "b")], now=NOW)
    assert [plan.outcomes[f"r{u}"].position for u in "xyz"] == [1, 2, 3]


def test_a_rejected_command_completes_with_its_reason_and_changes_nothing_else():
    plan = decide(full_event([]), [Reject("bad", "invalid_change"), Register("rc", "c")], now=NOW)
    assert plan.outcomes == {
        "bad": Outcome("rejected", reason="invalid_change"),
        "rc": Outcome("waitlisted", position=1),
    }
    assert (plan.confirmed, plan.waitlisted) == (2, 1)
