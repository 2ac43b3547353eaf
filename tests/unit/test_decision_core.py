"""The decision core, case by case: what the property tests and the state machine reach only by
luck (mutation testing, `make mutation`, found each of these unchecked)."""

from __future__ import annotations

import time

import pytest

from chalicelib.events.domain import Event, EventStatus, apply_changes, date_sort_key
from chalicelib.registrations.domain import (
    Cancel,
    ChangeCapacity,
    EventSeats,
    Move,
    Outcome,
    Register,
    Registration,
    Standing,
    WaitlistNotLoaded,
    decide,
    waitlist_needed,
)

NOW = "2026-12-02T10:00:00.000000Z"  # when the decisions are made


def seats(confirmed: list[str], waiting: list[str], capacity: int | None = None, **extra) -> EventSeats:
    """An event with `confirmed` in its seats and `waiting` in line (wait_seq 1, 2, ...)."""
    registrations = {
        **{u: Registration(u, Standing.CONFIRMED) for u in confirmed},
        **{u: Registration(u, Standing.WAITLISTED, i + 1) for i, u in enumerate(waiting)},
    }
    values = dict(
        event_id="e",
        exists=True,
        is_open=True,
        capacity=len(confirmed) if capacity is None else capacity,
        waitlist_enabled=True,
        confirmed=len(confirmed),
        waitlisted=len(waiting),
        next_wait_seq=len(waiting) + 1,
        registrations=registrations,
        waitlist=list(waiting),
    )
    return EventSeats(**{**values, **extra})


def test_a_batch_reaches_two_head_entries_per_cancellation_and_the_budget_with_a_capacity_change():
    assert waitlist_needed([Register("r", "u")]) == 0
    assert waitlist_needed([Cancel("c1", "a"), Cancel("c2", "b"), Cancel("c3", "c")]) == 6
    assert waitlist_needed([ChangeCapacity("k", 9)], budget=7) == 7
    assert waitlist_needed([Cancel("c", "a"), ChangeCapacity("k", 9)], budget=5) == 7


@pytest.mark.parametrize("waiting", [2, 3])
def test_a_promotion_past_the_loaded_head_asks_for_more_of_the_waitlist(waiting):
    """Only w1 was loaded of a longer waitlist: the second freed seat needs w2, not loaded."""
    snapshot = seats(["a", "b"], ["w1"], waitlisted=waiting, waitlist_complete=False)
    with pytest.raises(WaitlistNotLoaded):
        decide(snapshot, [Cancel("ca", "a"), Cancel("cb", "b")], now=NOW)


def test_leaving_from_the_unloaded_middle_shortens_what_is_unloaded():
    """w2 (not in the loaded head) leaves, so nobody unloaded is left: the next freed seat goes to
    who joined in this round, which ends the round there (one write per registration)."""
    snapshot = seats(["a", "b", "c"], ["w1"], waitlisted=2, waitlist_complete=False)
    snapshot.registrations["w2"] = Registration("w2", Standing.WAITLISTED, 2)
    commands = [Cancel("c2", "w2"), Cancel("ca", "a"), Register("rx", "x"), Cancel("cb", "b")]
    plan = decide(snapshot, commands, now=NOW)
    assert plan.unfinished == commands[3:]
    assert plan.outcomes["ca"] == Outcome("cancelled", promoted_user_ids=("w1",))


def test_leaving_from_the_unloaded_middle_still_leaves_the_rest_unloaded():
    """w2 and w3 were not loaded; w2 leaves, so w3 still is: the second freed seat needs it."""
    snapshot = seats(["a", "b"], ["w1"], waitlisted=3, waitlist_complete=False)
    snapshot.registrations["w2"] = Registration("w2", Standing.WAITLISTED, 2)
    with pytest.raises(WaitlistNotLoaded):
        decide(snapshot, [Cancel("c2", "w2"), Cancel("ca", "a"), Cancel("cb", "b")], now=NOW)


def test_each_move_records_the_request_that_caused_it_and_when():
    now = "2026-05-01T10:00:00.000000Z"
    plan = decide(seats(["a"], ["w1"]), [Cancel("ca", "a"), Register("rx", "x", "x")], now=now)
    moves = {c.user_id: c for c in plan.changes if isinstance(c, Move)}
    assert (moves["a"].cause, moves["a"].after) == ("ca", None)
    promoted = moves["w1"].after
    assert promoted is not None and moves["w1"].cause == "ca"
    assert (promoted.standing, promoted.confirmed_at, promoted.freed_by, promoted.wait_seq) == (
        Standing.CONFIRMED,
        now,
        "ca",
        None,
    )
    joined = moves["x"].after
    assert joined is not None
    assert (joined.request_id, joined.registered_by, joined.registered_at) == ("rx", "x", now)
    seated = decide(seats([], [], capacity=1), [Register("ry", "y", "y")], now=now).changes[0]
    assert isinstance(seated, Move) and seated.after is not None
    assert (seated.after.standing, seated.after.confirmed_at) == (Standing.CONFIRMED, now), "seated at once"


def test_closed_or_missing_events_reject_with_event_closed():
    assert decide(seats(["a"], [], is_open=False), [Register("r", "x")], now=NOW).outcomes == {
        "r": Outcome("rejected", reason="event_closed")
    }
    gone = seats([], [], exists=False)
    plan = decide(gone, [Register("r", "x"), ChangeCapacity("k", 5)], now=NOW)
    assert plan.outcomes == {
        "r": Outcome("rejected", reason="event_closed"),
        "k": Outcome("rejected", reason="event_closed"),
    }


def test_each_write_names_its_user_request_and_wait_sequence():
    plan = decide(
        seats(["a"], [], capacity=2), [Register("rx", "x"), Register("ry", "y"), Register("rz", "z")], now=NOW
    )
    moves = [c for c in plan.changes if isinstance(c, Move)]
    assert [(m.user_id, m.before, m.cause) for m in moves] == [
        ("x", None, "rx"),
        ("y", None, "ry"),
        ("z", None, "rz"),
    ]
    assert [(m.after.standing, m.after.wait_seq, m.after.request_id) for m in moves if m.after] == [
        (Standing.CONFIRMED, None, "rx"),
        (Standing.WAITLISTED, 1, "ry"),
        (Standing.WAITLISTED, 2, "rz"),
    ]
    assert plan.next_wait_seq == 3


def test_a_promotion_names_the_request_that_freed_the_seat_and_the_wait_sequence_it_had():
    plan = decide(seats(["a"], ["w1", "w2"]), [Cancel("ca", "a"), ChangeCapacity("grow", 2)], now=NOW)
    promotions = [c for c in plan.changes if isinstance(c, Move) and c.standings[0] is Standing.WAITLISTED]
    assert [(m.user_id, m.before and m.before.wait_seq, m.cause) for m in promotions] == [
        ("w1", 1, "ca"),
        ("w2", 2, "grow"),
    ]
    assert all(m.after and m.after.standing is Standing.CONFIRMED for m in promotions)
    assert [m.after and m.after.freed_by for m in promotions] == ["ca", "grow"]


def test_a_raise_spends_the_promotion_budget_across_the_batch():
    """Budget 3: the first raise promotes w1 (2 left), so the second goes in a step of 2."""
    snapshot = seats(["a", "b"], ["w1", "w2", "w3", "w4"])
    first, second = ChangeCapacity("k1", 3), ChangeCapacity("k2", 6)
    plan = decide(snapshot, [first, second], promotion_budget=3, now=NOW)
    assert plan.outcomes == {"k1": Outcome("capacity_changed", capacity=3)}
    assert plan.capacity == 5 and plan.unfinished == [second]


def test_a_waitlist_exactly_the_budget_is_promoted_in_one_step():
    plan = decide(
        seats(["a", "b"], ["w1", "w2", "w3"]), [ChangeCapacity("k", 6)], promotion_budget=3, now=NOW
    )
    assert plan.outcomes == {"k": Outcome("capacity_changed", capacity=6)}
    assert (plan.capacity, plan.confirmed, plan.waitlisted) == (6, 5, 0)


def test_a_completed_capacity_change_moves_the_version_by_one():
    plan = decide(seats(["a"], [], version=7), [ChangeCapacity("k", 4)], now=NOW)
    assert plan.version == 8


def test_if_match_and_redrives_are_checked_against_the_version_and_the_last_change():
    snapshot = seats(["a"], [], version=7, changed_at="2026-01-01T00:00:00Z")
    cases = {
        ChangeCapacity("now", 4, expected_version=7): Outcome("capacity_changed", capacity=4),
        ChangeCapacity("stale", 4, expected_version=6): Outcome("rejected", reason="precondition_failed"),
        ChangeCapacity("same", 4, accepted_at="2026-01-01T00:00:00Z"): Outcome(
            "capacity_changed", capacity=4
        ),
        ChangeCapacity("older", 4, accepted_at="2025-12-31T23:59:59Z"): Outcome(
            "rejected", reason="superseded"
        ),
    }
    for command, outcome in cases.items():
        assert decide(snapshot, [command], now=NOW).outcomes == {command.request_id: outcome}


def test_a_status_change_is_stored_as_the_status_itself():
    event = Event("e", "t", "2026-01-01", 5)
    assert apply_changes(event, {"status": "closed"}, "now").status is EventStatus.CLOSED


def test_a_date_sorts_as_itself_and_a_space_separated_date_time_as_its_instant():
    assert date_sort_key("2026-01-01") == "2026-01-01"
    assert date_sort_key("2026-01-01 10:00:00+02:00") == "2026-01-01T08:00:00.000000Z"


def test_ten_characters_with_a_time_in_them_are_no_date():
    with pytest.raises(ValueError):  # `date.fromisoformat` would read it as 2026-09-01
        date_sort_key("20260901T1")


def test_date_times_are_read_as_utc_whatever_the_machines_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert date_sort_key("2026-01-01T10:00:00") == "2026-01-01T10:00:00.000000Z"  # no offset: UTC
        assert date_sort_key("2026-01-01T10:00:00+00:00") == "2026-01-01T10:00:00.000000Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_registering_and_cancelling_the_same_user_in_one_batch_takes_two_rounds():
    """One write per registration per transaction: the cancellation waits for the next round."""
    commands = [Register("rx", "x"), Cancel("cx", "x")]
    plan = decide(seats(["a"], [], capacity=2), commands, now=NOW)
    assert plan.outcomes == {"rx": Outcome("confirmed")}
    assert plan.unfinished == commands[1:]
