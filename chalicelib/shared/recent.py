"""Values remembered for a moment in one process (a Lambda container serving many requests a
second): a read made `fresh_seconds` ago is used again instead of being made anew.

One thread at a time reads a key anew. While it does, the others are answered with the value it
is replacing (so a value is at most `fresh_seconds` plus one read old). Without that, every
request arriving during the read made the same read: in `make bench`'s rush on one event about
two in five of the API's accepts read the lane's progress (py-spy), where two reads a second do.
"""

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
        self._reading: set[str] = set()  # keys a thread is reading anew
        self._forgotten: dict[str, int] = {}  # how often each key was forgotten
        self._lock = threading.Lock()

    def get(self, key: str, read: Callable[[], V | None]) -> V | None:
        """The value read for `key` within `fresh_seconds`, else `read()` (None is not kept); the
        value being replaced while another thread reads it."""
        now = self._clock()
        with self._lock:
            kept = self._values.get(key)
            if kept is not None and now - kept[0] < self._fresh:
                return kept[1]
            if kept is not None and key in self._reading:
                return kept[1]
            self._reading.add(key)
            forgotten = self._forgotten.get(key, 0)
        try:
            value = read()
        finally:
            with self._lock:
                self._reading.discard(key)
        with self._lock:
            if value is not None and self._forgotten.get(key, 0) == forgotten:
                if len(self._values) >= self._most:
                    self._values.clear()
                    self._forgotten.clear()
                self._values[key] = (now, value)
        return value

    def forget(self, key: str) -> None:
        """Drop what was read for `key`; a read already under way is not kept either."""
        with self._lock:
            self._values.pop(key, None)
            self._forgotten[key] = self._forgotten.get(key, 0) + 1
