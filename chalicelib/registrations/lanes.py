"""A waiting client's place in line, from tickets. Pure: no I/O, no clock of its own.

Every command the API queues into an event's lane (its FIFO message group) takes the lane's next
ticket (1, 2, 3...: one atomic counter per lane). The worker records, with each decision it
commits, the highest ticket it has decided in the lane and the lane's rate (decisions a second,
measured from one commit to the next while the lane is busy). A pending request is then
`ahead` = its ticket - the last ticket decided - 1 commands from its decision, and due in about
(ahead + 1) / rate seconds.

How approximate: commands that take no ticket (an import's rows, the offer sweep's expiries,
continuations) are decided in the same lane but not counted, so `ahead` can be low by as many
of them as are queued; the rate is the recent one, so a lane that speeds up or slows down is
estimated from its last few batches; and tickets are taken just before a command is sent, so two
concurrent requests may hold tickets in the other order from their messages (off by one, rarely).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_RATE = 20.0  # decisions a second a lane is assumed to make before one was measured
MIN_RATE = 0.1  # a lane measured slower is estimated at this (an estimate stays within a day or so)
LONGEST_ESTIMATE = 24 * 3600.0
SMOOTHING = 0.3  # weight of the latest batch in the rate (exponentially weighted mean)
IDLE_SECONDS = 5.0  # a longer gap between commits is an idle lane, not a slow one: rate kept
MIN_RETRY_AFTER, MAX_RETRY_AFTER = 1, 30


@dataclass(frozen=True)
class LaneProgress:
    """What the worker last recorded for a lane."""

    decided: int = 0  # the highest ticket decided
    rate: float = 0.0  # decisions a second (0: not measured yet)
    at: str = ""  # when it committed last (ISO 8601, UTC)


@dataclass(frozen=True)
class Place:
    """Where a pending request stands: commands ahead of it, when it should be decided, and
    when to ask again."""

    ahead: int
    estimated_at: str
    retry_after: int


def place_in_line(ticket: int, progress: LaneProgress, now: str) -> Place:
    ahead = max(0, ticket - progress.decided - 1)
    seconds = min((ahead + 1) / max(progress.rate or DEFAULT_RATE, MIN_RATE), LONGEST_ESTIMATE)
    estimated = _moment(now) + timedelta(seconds=seconds)
    retry_after = min(MAX_RETRY_AFTER, max(MIN_RETRY_AFTER, math.ceil(seconds)))
    return Place(ahead, estimated.strftime("%Y-%m-%dT%H:%M:%SZ"), retry_after)


def progressed(previous: LaneProgress, tickets: list[int | None], decided: int, now: str) -> LaneProgress:
    """The lane after a commit that decided `decided` commands, these `tickets` among them."""
    highest = max([previous.decided, *(t for t in tickets if t is not None)])
    rate = previous.rate
    if previous.at and decided:
        gap = (_moment(now) - _moment(previous.at)).total_seconds()
        if 0 < gap <= IDLE_SECONDS:
            latest = decided / gap
            rate = latest if not rate else (1 - SMOOTHING) * rate + SMOOTHING * latest
    return LaneProgress(highest, round(rate, 3), now)


def _moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
