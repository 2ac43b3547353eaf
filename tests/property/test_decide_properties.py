"""Properties of one decision round over arbitrary snapshots (the pure core, many examples)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.registrations.domain import (
    Cancel,
    ChangeCapacity,
    Complete,
    EventSeats,
    Move,
    Register,
    Registration,
    SetCapacity,
    Standing,
    decide,
)

NOW = "2026-12-02T10:00:00.000000Z"  # when the decisions are made

USERS = [f"u{i}" for i in range(10)]


@st.composite
def snapshots(draw):
    capacity = draw(st.integers(0, 6))
    users = draw(st.permutations(USERS))
    confirmed = users[: draw(st.integers(0, capacity + 2))]  # may exceed capacity after a cut
    rest = users[len(confirmed) :]
    waiting = rest[: draw(st.integers(0, len(rest)))] if len(confirmed) >= capacity else []
    registrations = {u: Registration(u, Standing.CONFIRMED) for u in confirmed}
    registrations |= {u: Registration(u, Standing.WAITLISTED, i + 1) for i, u in enumerate(waiting)}
    return EventSeats(
        "e",
        True,
        draw(st.booleans()),
        capacity,
        draw(st.booleans()),
        len(confirmed),
        len(waiting),
        len(waiting) + 1,
        registrations,
        list(waiting),
        True,
    )


batches = st.lists(
    st.one_of(
        st.builds(Register, st.uuids().map(str), st.sampled_from(USERS)),
        st.builds(Cancel, st.uuids().map(str), st.sampled_from(USERS)),
        st.builds(ChangeCapacity, st.uuids().map(str), st.integers(0, 8)),
    ),
    max_size=10,
)


@settings(max_examples=1500, deadline=None)
@given(snapshots(), batches, st.integers(1, 5))
def test_every_seat_is_given_only_while_one_remains(seats, commands, budget):
    plan = decide(seats, commands, budget, now=NOW)
    capacity, confirmed, waiting = seats.capacity, seats.confirmed, seats.waitlisted
    for change in plan.changes:
        if isinstance(change, Move):
            before, after = change.standings
            if after is Standing.CONFIRMED:
                assert confirmed < capacity  # invariant 1
            confirmed += (after is Standing.CONFIRMED) - (before is Standing.CONFIRMED)
            waiting += (after is Standing.WAITLISTED) - (before is Standing.WAITLISTED)
        elif isinstance(change, SetCapacity):
            capacity = change.capacity
    assert (plan.confirmed, plan.waitlisted) == (confirmed, waiting)  # invariant 7


@settings(max_examples=1500, deadline=None)
@given(snapshots(), batches, st.integers(1, 5))
def test_each_command_completes_once_or_is_left_for_the_next_round(seats, commands, budget):
    plan = decide(seats, commands, budget, now=NOW)
    completed = [c.request_id for c in plan.changes if isinstance(c, Complete)]
    assert len(completed) == len(set(completed))
    assert completed + [c.request_id for c in plan.unfinished] == [c.request_id for c in commands]


@settings(max_examples=1500, deadline=None)
@given(snapshots(), batches, st.integers(1, 5))
def test_the_plan_leaves_no_seat_empty_while_someone_waits(seats, commands, budget):
    plan = decide(seats, commands, budget, now=NOW)
    capacity = plan.capacity if plan.capacity is not None else seats.capacity
    if plan.confirmed < capacity:
        assert plan.waitlisted == 0  # invariant 4
