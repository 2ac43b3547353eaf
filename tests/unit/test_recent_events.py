"""The registration routes' event reads: remembered for half a second, never a missing event."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.events.domain import Event
from chalicelib.events.memory import MemoryEventRepository
from chalicelib.events.recent import FRESH_SECONDS, RecentEvents


def event(capacity: int = 5) -> Event:
    return Event(event_id="e1", title="t", date="2026-01-01", capacity=capacity)


def world():
    stored, now = MemoryEventRepository(), [100.0]
    return stored, now, RecentEvents(stored, clock=lambda: now[0])


def test_a_read_is_used_again_for_fresh_seconds_then_read_anew():
    stored, now, recent = world()
    stored.add(event(capacity=5))
    assert recent.get("e1").capacity == 5
    stored.update(replace(event(capacity=9), version=2), expected_version=1)  # another process
    now[0] += FRESH_SECONDS - 0.01
    assert recent.get("e1").capacity == 5, "remembered"
    now[0] += 0.01
    assert recent.get("e1").capacity == 9, "read anew once FRESH_SECONDS have passed"


def test_a_missing_event_is_not_remembered():
    stored, _, recent = world()
    assert recent.get("e1") is None
    stored.add(event())
    assert recent.get("e1") is not None


def test_a_write_through_it_forgets_the_event_at_once():
    _, _, recent = world()
    recent.add(event(capacity=5))
    assert recent.get("e1").capacity == 5
    assert recent.update(replace(event(capacity=9), version=2), expected_version=1)
    assert recent.get("e1").capacity == 9
    assert recent.mark_deleting("e1")
    assert recent.get("e1") is None and recent.deleting("e1") is not None
    recent.unmark_deleting("e1")
    assert recent.get("e1").capacity == 9
    assert [e.event_id for e in recent.list(None, 10, None)[0]] == ["e1"]
