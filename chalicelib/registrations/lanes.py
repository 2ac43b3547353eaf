"""A waiting client's place in line, from when its command was accepted. Pure: no I/O, no clock
of its own.

Every command in an event's lane (its FIFO message group) carries the time it was accepted
(`createdAt`: the API's, the import worker's or the offer sweep's clock). With each decision it
commits, the worker records for the lane:

- `through`: the acceptance time of the latest command it has decided;
- `arrivals`: how many commands the lane took a second of acceptance time, around `through`
  (measured from the acceptance times of what it decides, smoothed);
- `rate`: how many it decides a second while busy (from one commit to the next, smoothed).

A pending command accepted at `t` then has about `(t - through) * arrivals` commands ahead of it
and is due in about (ahead + 1) / rate seconds. Nothing is written per command to know this: no
counter for the API to take from, so accepting a command costs no write here and has no hot key.

How approximate: arrivals are measured where the worker is, so a lane whose traffic rose or fell
since then is estimated at the old density (a burst after a quiet spell is under-counted, a
quiet spell after a burst over-counted) until the worker gets there; the rate is the recent one;
and clocks of different senders (API instances, workers) may differ by their skew.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_RATE = 20.0  # decisions a second a lane is assumed to make before one was measured
MIN_RATE = 0.1  # a lane measured slower is estimated at this (an estimate stays within a day or so)
LONGEST_ESTIMATE = 24 * 3600.0
SMOOTHING = 0.3  # weight of the latest batch in a rate (exponentially weighted mean)
IDLE_SECONDS = 5.0  # a longer gap is an idle lane, not a slow one: the rates are kept
# When to ask again: at the estimate while it is near; beyond NEAR_SECONDS, halfway to it (at
# least NEAR_SECONDS, at most MAX_RETRY_AFTER). A long wait is then asked about a dozen times,
# not once every NEAR_SECONDS (a 45-minute wait: 13 polls instead of 90), and a client whose lane
# turns out faster than its estimate hears so by halfway.
MIN_RETRY_AFTER, NEAR_SECONDS, MAX_RETRY_AFTER = 1, 30, 300
# A pending command accepted this long before the latest one the lane decided was never queued
# (its sender died between recording and sending) or was dead-lettered: the lane decides in the
# order commands were accepted, give or take the senders' clock skew and a redelivery.
PASSED_BY_SECONDS = 60.0


@dataclass(frozen=True)
class LaneProgress:
    """What the worker last recorded for a lane."""

    through: str = ""  # acceptance time of the latest command decided (ISO 8601, UTC; "": none yet)
    arrivals: float = 0.0  # commands accepted a second of acceptance time (0: not measured yet)
    rate: float = 0.0  # decisions a second (0: not measured yet)
    at: str = ""  # when it committed last (ISO 8601, UTC)


@dataclass(frozen=True)
class Place:
    """Where a pending request stands: commands ahead of it, when it should be decided, and
    when to ask again."""

    ahead: int
    estimated_at: str
    retry_after: int


def place_in_line(accepted_at: str, progress: LaneProgress, now: str) -> Place:
    """Where a command accepted at `accepted_at` stands. In a lane with nothing decided yet, or
    no density measured, nobody is counted ahead of it."""
    behind = _seconds_between(progress.through, accepted_at) if progress.through else 0.0
    ahead = max(0, round(behind * progress.arrivals))
    seconds = min((ahead + 1) / max(progress.rate or DEFAULT_RATE, MIN_RATE), LONGEST_ESTIMATE)
    estimated = _moment(now) + timedelta(seconds=seconds)
    return Place(ahead, estimated.strftime("%Y-%m-%dT%H:%M:%SZ"), ask_again_after(seconds))


def ask_again_after(seconds: float) -> int:
    """Whole seconds until a client should ask again about a decision due in `seconds`."""
    if seconds <= NEAR_SECONDS:
        return max(MIN_RETRY_AFTER, math.ceil(seconds))
    return min(MAX_RETRY_AFTER, max(NEAR_SECONDS, math.ceil(seconds / 2)))


def passed_by(progress: LaneProgress, accepted_at: str) -> bool:
    """Whether the lane has decided commands accepted PASSED_BY_SECONDS after `accepted_at`: a
    command accepted then and still pending is not coming."""
    return bool(progress.through) and _seconds_between(accepted_at, progress.through) > PASSED_BY_SECONDS


def progressed(previous: LaneProgress, accepted: Iterable[str], now: str) -> LaneProgress:
    """The lane after a commit that decided commands accepted at these times."""
    times = sorted(accepted)
    if not times:
        return previous
    through = max(previous.through, times[-1])
    arrivals = _smoothed(previous.arrivals, _density(previous.through, times))
    rate = previous.rate
    if previous.at:
        gap = _seconds_between(previous.at, now)
        if 0 < gap <= IDLE_SECONDS:
            rate = _smoothed(rate, len(times) / gap)
    return LaneProgress(through, round(arrivals, 3), round(rate, 3), now)


def _density(through: str, times: list[str]) -> float | None:
    """Commands accepted a second, from these (sorted) acceptance times that follow `through`:
    None when they span no time, or an idle gap."""
    start, count = (through, len(times)) if through else (times[0], len(times) - 1)
    span = _seconds_between(start, times[-1])
    if count <= 0 or not 0 < span <= IDLE_SECONDS:
        return None
    return count / span


def _smoothed(previous: float, latest: float | None) -> float:
    if latest is None:
        return previous
    return latest if not previous else (1 - SMOOTHING) * previous + SMOOTHING * latest


def _seconds_between(earlier: str, later: str) -> float:
    return (_moment(later) - _moment(earlier)).total_seconds()


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
