"""Events in memory, with the same contract as `events.dynamodb` (tests/contracts prove it)."""

from __future__ import annotations

import threading
from dataclasses import replace

from chalicelib.events.domain import Event, date_sort_key
from chalicelib.shared.cursor import Position
from chalicelib.shared.problems import InvalidCursor


def _sort_key(event: Event) -> str:
    return f"{date_sort_key(event.date)}#{event.event_id}"


class MemoryEventRepository:
    def __init__(self) -> None:
        self._events: dict[str, Event] = {}
        self._deleting: dict[str, Event] = {}
        self._lock = threading.Lock()

    def add(self, event: Event) -> bool:
        with self._lock:
            if event.event_id in self._events or event.event_id in self._deleting:
                return False
            self._events[event.event_id] = event
            return True

    def get(self, event_id: str) -> Event | None:
        return self._events.get(event_id)

    def list(
        self, status: str | None, limit: int, after: Position | None
    ) -> tuple[list[Event], Position | None]:
        if after is not None and not isinstance(after.get("after"), str):
            raise InvalidCursor("The cursor does not belong to this listing.")
        start = after["after"] if after else ""
        matching = sorted(
            (e for e in self._events.values() if status is None or e.status.value == status),
            key=_sort_key,
        )
        page = [e for e in matching if _sort_key(e) > start][:limit]
        more = len(page) == limit and _sort_key(page[-1]) < _sort_key(matching[-1])
        return page, ({"after": _sort_key(page[-1])} if more else None)

    def update(self, event: Event, expected_version: int) -> bool:
        with self._lock:
            current = self._events.get(event.event_id)
            if current is None or current.version != expected_version:
                return False
            self._events[event.event_id] = replace(
                event,
                confirmed_count=current.confirmed_count,
                waitlist_count=current.waitlist_count,
                offered_count=current.offered_count,
            )
            return True

    def write(self, event: Event) -> None:
        """The event as a decision left it (the in-memory seat store's commit: counters, capacity
        and the edits decided in the event's queue group), as the DynamoDB seat store writes the
        event item in its transaction."""
        with self._lock:
            if event.event_id in self._events:
                self._events[event.event_id] = event

    def mark_deleting(self, event_id: str) -> bool:
        with self._lock:
            event = self._events.pop(event_id, None)
            if event is None:
                return False
            self._deleting[event_id] = event
            return True

    def deleting(self, event_id: str) -> Event | None:
        return self._deleting.get(event_id)

    def unmark_deleting(self, event_id: str) -> None:
        with self._lock:
            self._events[event_id] = self._deleting.pop(event_id)
