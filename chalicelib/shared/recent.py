"""Values remembered for a moment in one process (a Lambda container serving many requests a
second): a read made `fresh_seconds` ago is used again instead of being made anew."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class Recent(Generic[V]):
    """At most `most` keys at once (past that it starts afresh, so memory stays bounded)."""

    def __init__(
        self, fresh_seconds: float, clock: Callable[[], float] = time.monotonic, most: int = 1000
    ) -> None:
        self._fresh, self._clock, self._most = fresh_seconds, clock, most
        self._values: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, read: Callable[[], V | None]) -> V | None:
        """The value read for `key` within `fresh_seconds`, else `read()` (None is not kept)."""
        now = self._clock()
        with self._lock:
            kept = self._values.get(key)
        if kept is not None and now - kept[0] < self._fresh:
            return kept[1]
        value = read()
        if value is not None:
            with self._lock:
                if len(self._values) >= self._most:
                    self._values.clear()
                self._values[key] = (now, value)
        return value

    def forget(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)
