"""The clock, ids and randomness services use, as ports and their real implementations.

The domain never reads a clock or makes an id: services pass `now` and ids in. Tests pass
deterministic ones.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> str:
        """The current UTC time as ISO 8601 with microseconds and a Z suffix."""
        ...

    def epoch_seconds(self) -> int: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


class Randomness(Protocol):
    def token_bytes(self, n: int) -> bytes: ...

    def draw(self) -> float:
        """Uniform in [0, 1) (jitter)."""
        ...


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SystemClock:
    def now(self) -> str:
        return iso(datetime.now(UTC))

    def epoch_seconds(self) -> int:
        return int(datetime.now(UTC).timestamp())


class UuidGenerator:
    def new_id(self) -> str:
        return uuid.uuid4().hex


class SystemRandomness:
    def __init__(self) -> None:
        self._random = random.SystemRandom()

    def token_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)

    def draw(self) -> float:
        return self._random.random()
