from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.events.memory import MemoryEventRepository
from chalicelib.events.service import EventService, NewEvent
from chalicelib.registrations.memory import (
    MemoryCommandQueue,
    MemoryLanes,
    MemoryRequestRepository,
    MemorySeatStore,
)
from chalicelib.registrations.service import RequestSubmitter, SeatChanges
from chalicelib.shared.caller import Caller
from chalicelib.shared.problems import Conflict, NotFound, PreconditionFailed
from tests.fakes import CountingIds, FixedClock

ORGANIZER = Caller("org", frozenset({"organizers"}))


@pytest.fixture
def service() -> EventService:
    return EventService(MemoryEventRepository(), FixedClock(), CountingIds("ev"))


def seat_changes(service: EventService) -> SeatChanges:
    lanes = MemoryLanes(MemorySeatStore())
    submitter = RequestSubmitter(
        MemoryRequestRepository(),
        MemoryCommandQueue(),
        service.clock,
        service.ids,
        lanes,
    )
    return SeatChanges(service, service.events, submitter, service.ids)


def new(**fields) -> NewEvent:
    return NewEvent(**{"title": "t", "date": "2026-01-01", "capacity": 5, **fields})


def test_create_uses_generated_id_and_clock(service):
    event = service.create(ORGANIZER, new())
    assert event.event_id == "ev0001"
    assert event.created_at == event.updated_at == "2026-01-01T00:00:00.000000Z"


def test_create_twice_with_the_same_id_conflicts(service):
    service.create(ORGANIZER, new(event_id="x"))
    with pytest.raises(Conflict):
        service.create(ORGANIZER, new(event_id="x"))


def test_update_honours_if_match(service):
    service.create(ORGANIZER, new(event_id="x"))
    service.update(ORGANIZER, "x", {"title": "a"}, if_match=1)
    with pytest.raises(PreconditionFailed):
        service.update(ORGANIZER, "x", {"title": "b"}, if_match=1)
    assert service.get(ORGANIZER, "x").title == "a"


def test_update_retries_when_another_writer_wins(service):
    service.create(ORGANIZER, new(event_id="x"))
    repository = service.events
    original_update = repository.update
    calls = []

    def racing_update(event, expected_version):
        if not calls:  # a concurrent writer bumps the version just before our first write
            calls.append(1)
            original_update(replace(service.get(ORGANIZER, "x"), title="theirs", version=2), 1)
        return original_update(event, expected_version)

    repository.update = racing_update
    updated = service.update(ORGANIZER, "x", {"title": "mine"}, if_match=None)
    assert (updated.title, updated.version) == ("mine", 3)


def test_unknown_event_is_not_found(service):
    for call in (
        lambda: service.get(ORGANIZER, "n"),
        lambda: seat_changes(service).delete_event(ORGANIZER, "n"),
        lambda: service.update(ORGANIZER, "n", {"title": "x"}, None),
    ):
        with pytest.raises(NotFound):
            call()
