"""When to try a delivery again: exponential backoff with jitter, on a configurable schedule.

A schedule is the list of waits before attempts 2, 3, ...; the first attempt is immediate.
The default, about a day in all, follows the spirit of Standard Webhooks' recommendation:
5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 8 h, 8 h (9 attempts, 23.6 h). Written as a string such as
"5s,1m,5m,30m,2h,5h,8h,8h" (TURNSTILE_WEBHOOK_RETRY_SCHEDULE); tests use "0s,1s".
"""

from __future__ import annotations

DEFAULT_SCHEDULE = "5s,1m,5m,30m,2h,5h,8h,8h"
JITTER = 0.2  # each wait is drawn uniformly from [wait * (1 - JITTER), wait * (1 + JITTER)]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_schedule(text: str) -> tuple[int, ...]:
    """'5s,1m,2h' -> (5, 60, 7200). Raises ValueError for an empty or malformed schedule."""
    waits = []
    for part in (p.strip() for p in text.split(",")):
        if len(part) < 2 or part[-1] not in _UNITS or not part[:-1].isdigit():
            raise ValueError(f"bad retry schedule entry {part!r}: use e.g. 30s, 5m, 2h, 1d")
        waits.append(int(part[:-1]) * _UNITS[part[-1]])
    if not waits:
        raise ValueError("the retry schedule is empty")
    return tuple(waits)


def max_attempts(schedule: tuple[int, ...]) -> int:
    return len(schedule) + 1


def next_delay(schedule: tuple[int, ...], attempts_made: int, draw: float) -> int | None:
    """Seconds to wait before the next attempt after `attempts_made` failed ones (None: give up).

    `draw` is a uniform random number in [0, 1) supplied by the caller (keeps this pure)."""
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    base = schedule[attempts_made - 1]
    factor = 1 - JITTER + 2 * JITTER * min(max(draw, 0.0), 1.0)
    return max(0, round(base * factor))
