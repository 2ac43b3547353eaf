"""Event reads remembered for a moment, for the registration routes.

In a rush every request to register reads the same event item (does it exist, is it open, who
owns it). Those checks answer the caller early; the registration worker makes them again when it
decides, against the event as it is then. So the registration routes may read an event as it was
up to `FRESH_SECONDS` ago, in the same process (a Lambda container serving many requests a
second reads it about twice a second instead of on each one): a change to the event reaches them
within `FRESH_SECONDS`. An event that is not there is not remembered, and a write through this
repository forgets its event at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from chalicelib.events.domain import Event
from chalicelib.events.ports import EventRepository
from chalicelib.shared.cursor import Position
from chalicelib.shared.recent import Recent

FRESH_SECONDS = 0.5


class RecentEvents:
    """An EventRepository that remembers what `get` read for FRESH_SECONDS."""

    def __init__(self, events: EventRepository, clock: Callable[[], float] = time.monotonic) -> None:
        self._events = events
        self._read: Recent[Event] = Recent(FRESH_SECONDS, clock)

    def get(self, event_id: str) -> Event | None:
        return self._read.get(event_id, lambda: self._events.get(event_id))

    def add(self, event: Event) -> bool:
        self._read.forget(event.event_id)
        return self._events.add(event)

    def list(
        self, status: str | None, limit: int, after: Position | None
    ) -> tuple[list[Event], Position | None]:
        return self._events.list(status, limit, after)

    def update(self, event: Event, expected_version: int) -> bool:
        self._read.forget(event.event_id)
        return self._events.update(event, expected_version)

    def mark_deleting(self, event_id: str) -> bool:
        self._read.forget(event_id)
        return self._events.mark_deleting(event_id)

    def deleting(self, event_id: str) -> Event | None:
        return self._events.deleting(event_id)

    def unmark_deleting(self, event_id: str) -> None:
        self._read.forget(event_id)
        self._events.unmark_deleting(event_id)
