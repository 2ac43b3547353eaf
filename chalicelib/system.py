"""The real clock and id generator (the domain never calls these itself)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> str:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def epoch_seconds(self) -> int:
        return int(datetime.now(UTC).timestamp())


class UuidGenerator:
    def new_id(self) -> str:
        return uuid.uuid4().hex
