"""A pending request's place in line, from its ticket and the lane's progress (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.registrations.lanes import (
    DEFAULT_RATE,
    IDLE_SECONDS,
    MAX_RETRY_AFTER,
    MIN_RETRY_AFTER,
    LaneProgress,
    place_in_line,
    progressed,
)

NOW = "2026-12-02T10:00:00.000000Z"


def test_ahead_counts_the_tickets_between_the_last_decided_and_this_one():
    place = place_in_line(ticket=151, progress=LaneProgress(decided=100, rate=10.0, at=NOW), now=NOW)
    assert place.ahead == 50
    assert place.estimated_at == "2026-12-02T10:00:05Z"  # (50 + 1) / 10 a second
    assert place.retry_after == 6


def test_a_long_wait_is_asked_about_every_30_seconds_and_a_short_one_after_1():
    far = place_in_line(10_001, LaneProgress(decided=0, rate=100.0, at=NOW), NOW)
    assert (far.ahead, far.retry_after, far.estimated_at) == (10_000, 30, "2026-12-02T10:01:40Z")
    near = place_in_line(3, LaneProgress(decided=2, rate=100.0, at=NOW), NOW)
    assert (near.ahead, near.retry_after) == (0, 1)


def test_an_unmeasured_lane_is_assumed_to_decide_at_the_default_rate():
    place = place_in_line(41, LaneProgress(), NOW)
    assert place.ahead == 40 and place.retry_after == round(41 / DEFAULT_RATE + 0.5)


@given(st.integers(1, 10**7), st.integers(0, 10**7), st.floats(0, 5000))
def test_the_place_is_never_negative_and_retry_after_stays_in_bounds(ticket, decided, rate):
    place = place_in_line(ticket, LaneProgress(decided, rate, NOW), NOW)
    assert place.ahead >= 0
    assert MIN_RETRY_AFTER <= place.retry_after <= MAX_RETRY_AFTER


def test_progress_keeps_the_highest_ticket_even_from_a_batch_without_tickets():
    before = LaneProgress(decided=40, rate=0.0, at="")
    assert progressed(before, [41, None, 43, 42], 4, NOW).decided == 43
    assert progressed(before, [None, None], 2, NOW).decided == 40  # an import's rows: no tickets


def test_the_rate_is_a_smoothed_decisions_per_second_while_the_lane_is_busy():
    first = progressed(LaneProgress(decided=0, rate=0.0, at="2026-12-02T09:59:59.900000Z"), [10], 10, NOW)
    assert first.rate == 100.0  # 10 decided 0.1 s after the last commit
    second = progressed(first, [20], 10, "2026-12-02T10:00:00.200000Z")  # 10 in 0.2 s: 50/s
    assert second.rate == round(0.7 * 100 + 0.3 * 50, 3)


def test_an_idle_gap_keeps_the_rate():
    busy = LaneProgress(decided=10, rate=80.0, at="2026-12-02T09:00:00.000000Z")
    assert IDLE_SECONDS < 3600
    assert progressed(busy, [11], 1, NOW).rate == 80.0
