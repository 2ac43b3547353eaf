"""A pending request's place in line, from when it was accepted and the lane's progress (pure)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.registrations.lanes import (
    DEFAULT_RATE,
    IDLE_SECONDS,
    MAX_RETRY_AFTER,
    MIN_RETRY_AFTER,
    NEAR_SECONDS,
    PASSED_BY_SECONDS,
    LaneProgress,
    ask_again_after,
    passed_by,
    place_in_line,
    progressed,
)

NOW = "2026-12-02T10:00:00.000000Z"


def at(seconds: float) -> str:
    """NOW moved by `seconds`."""
    moment = datetime(2026, 12, 2, 10, tzinfo=None) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_ahead_counts_the_commands_accepted_between_the_last_decided_and_this_one():
    progress = LaneProgress(through=at(-5), arrivals=10.0, rate=10.0, at=NOW)
    place = place_in_line(accepted_at=at(0), progress=progress, now=NOW)
    assert place.ahead == 50  # accepted 5 s after the last decided, 10 accepted a second
    assert place.estimated_at == "2026-12-02T10:00:05Z"  # (50 + 1) / 10 a second
    assert place.retry_after == 6


def test_a_long_wait_is_asked_about_halfway_to_its_estimate_and_a_short_one_after_1():
    far = place_in_line(at(0), LaneProgress(through=at(-100), arrivals=100.0, rate=100.0, at=NOW), NOW)
    assert (far.ahead, far.retry_after, far.estimated_at) == (10_000, 51, "2026-12-02T10:01:40Z")
    near = place_in_line(at(0), LaneProgress(through=at(-0.001), arrivals=100.0, rate=100.0, at=NOW), NOW)
    assert (near.ahead, near.retry_after) == (0, 1)


def test_a_client_asks_again_at_a_near_estimate_and_halfway_to_a_far_one():
    waits = (0.2, 4.5, 30.0, 31.0, 100.01, 599.0, 601.0, 10_000.0)
    assert [ask_again_after(s) for s in waits] == [1, 5, 30, 30, 51, 300, 300, 300]


@given(st.floats(0, 24 * 3600))
def test_a_client_is_never_told_to_come_back_after_its_estimate_nor_sooner_than_halfway(seconds):
    again = ask_again_after(seconds)
    assert MIN_RETRY_AFTER <= again <= MAX_RETRY_AFTER
    assert again <= max(MIN_RETRY_AFTER, seconds + 1)  # never past the estimate (whole seconds)
    assert again >= min(MAX_RETRY_AFTER, seconds / 2)  # not before halfway, but for the cap
    if seconds <= NEAR_SECONDS:
        assert again == max(MIN_RETRY_AFTER, math.ceil(seconds))  # a near estimate: at it


def test_a_command_accepted_before_the_last_decided_one_is_next():
    progress = LaneProgress(through=at(0), arrivals=100.0, rate=10.0, at=NOW)
    assert place_in_line(at(-3), progress, NOW).ahead == 0


def test_an_unmeasured_lane_counts_nobody_ahead_and_assumes_the_default_rate():
    place = place_in_line(at(0), LaneProgress(), NOW)
    assert place.ahead == 0 and place.retry_after == round(1 / DEFAULT_RATE + 0.5)


@given(
    st.floats(-3600, 3600),
    st.floats(0, 10_000),
    st.floats(0, 5000),
)
def test_the_place_is_never_negative_and_retry_after_stays_in_bounds(behind, arrivals, rate):
    place = place_in_line(at(0), LaneProgress(at(-behind), arrivals, rate, NOW), NOW)
    assert place.ahead >= 0
    assert MIN_RETRY_AFTER <= place.retry_after <= MAX_RETRY_AFTER


def test_progress_keeps_the_latest_acceptance_time_decided():
    before = LaneProgress(through=at(-1))
    assert progressed(before, [at(-0.5), at(-0.9), at(-0.7)], NOW).through == at(-0.5)
    assert progressed(before, [at(-2)], NOW).through == at(-1), "an older command moves nothing back"
    assert progressed(before, [], NOW) == before, "a batch that decided no request"


def test_arrivals_are_the_commands_decided_per_second_of_acceptance_time():
    first = progressed(LaneProgress(), [at(0), at(0.1), at(0.2), at(0.3), at(0.4)], NOW)
    assert first.arrivals == 10.0  # 4 after the first within 0.4 s
    second = progressed(first, [at(0.5), at(0.6)], NOW)  # 2 in the 0.2 s after the last decided
    assert second.arrivals == round(0.7 * 10 + 0.3 * 10, 3)
    third = progressed(second, [at(0.7)], NOW)  # 1 in 0.1 s: 10 a second again
    assert third.arrivals == 10.0
    burst = progressed(third, [at(0.71), at(0.72)], NOW)  # 2 in 0.02 s: 100 a second
    assert burst.arrivals == round(0.7 * 10 + 0.3 * 100, 3)


def test_an_idle_gap_between_acceptances_keeps_the_arrivals():
    busy = LaneProgress(through=at(-3600), arrivals=80.0)
    assert IDLE_SECONDS < 3600
    assert progressed(busy, [at(0)], NOW).arrivals == 80.0


def test_the_rate_is_a_smoothed_decisions_per_second_while_the_lane_is_busy():
    first = progressed(LaneProgress(at="2026-12-02T09:59:59.900000Z"), [at(-1)] * 10, NOW)
    assert first.rate == 100.0  # 10 decided 0.1 s after the last commit
    second = progressed(first, [at(-1)] * 10, "2026-12-02T10:00:00.200000Z")  # 10 in 0.2 s: 50/s
    assert second.rate == round(0.7 * 100 + 0.3 * 50, 3)


def test_an_idle_gap_between_commits_keeps_the_rate():
    busy = LaneProgress(rate=80.0, at="2026-12-02T09:00:00.000000Z")
    assert progressed(busy, [at(0)], NOW).rate == 80.0


def test_a_command_is_passed_by_once_the_lane_decided_one_accepted_a_minute_after_it():
    assert not passed_by(LaneProgress(), at(-3600)), "a lane that decided nothing passed nobody"
    assert not passed_by(LaneProgress(through=at(0)), at(-PASSED_BY_SECONDS))
    assert passed_by(LaneProgress(through=at(0)), at(-PASSED_BY_SECONDS - 0.001))
    assert not passed_by(LaneProgress(through=at(0)), at(5)), "accepted after the last decided"
