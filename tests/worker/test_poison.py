"""A value that reaches the queue must never poison its event's group: a command that fails for a
reason of its own is rejected, and the rest of the batch is decided."""

from __future__ import annotations

import json
import uuid

from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib import bootstrap
from chalicelib.registrations.decisions import DecisionService
from chalicelib.registrations.messages import CommandMessage
from chalicelib.registrations.seat_store import DynamoSeatStore
from chalicelib.shared.clock import SystemClock
from tests.fakes import ADMIN, memory_services
from tests.worker.conftest import fifo_record, register
from workers.registration import handler


def test_a_change_the_event_cannot_take_is_rejected_and_the_batch_goes_on(world):
    event = world.event(capacity=1)
    poisoned = {
        "type": "change_capacity",
        "requestId": uuid.uuid4().hex,
        "eventId": event,
        "capacity": 2,
        "changes": {"date": "9999-12-31T23:59:59-05:00"},  # past year 9999 in UTC
    }
    batch = [register(event, "a"), poisoned, register(event, "b")]
    result = handler({"Records": [fifo_record(m, event) for m in batch]}, None)
    assert result == {"batchItemFailures": []}
    outcomes = [world.request(m["requestId"])["outcome"] for m in batch]
    assert outcomes == [
        {"type": "confirmed"},
        {"type": "rejected", "reason": "invalid_change"},
        {"type": "waitlisted", "position": 1},
    ]


def event_update() -> st.SearchStrategy[dict]:
    """PUT /events/{id} bodies with a capacity: valid-looking and hostile values alike."""
    text = st.text(max_size=30)
    dates = st.one_of(
        st.datetimes(timezones=st.sampled_from([None])).map(lambda d: d.isoformat()),
        st.builds(
            lambda d, minutes: (
                d.isoformat()
                + f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
            ),
            st.datetimes(),
            st.integers(min_value=-23 * 60, max_value=23 * 60),
        ),
        st.dates().map(lambda d: d.isoformat()),
        text,
    )
    others = st.fixed_dictionaries(
        {},
        optional={
            "title": text,
            "description": text,
            "location": text,
            "organizer": text,
            "date": dates,
            "status": st.sampled_from(["draft", "active", "closed", "cancelled", "other"]),
            "waitlistEnabled": st.booleans(),
        },
    )
    return st.builds(
        lambda capacity, rest: {"capacity": capacity, **rest}, st.integers(-2, 10**6 + 2), others
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=event_update())
def test_any_change_the_api_accepts_is_decided_without_raising(world, body):
    """The API (in memory) accepts or refuses; what it accepts, the real worker store decides."""
    real = bootstrap.services()
    api = memory_services()
    bootstrap.use(api)
    try:
        with Client(app) as client:
            headers = {**ADMIN, "Content-Type": "application/json"}
            event = {
                "eventId": "e",
                "title": "t",
                "date": "2026-01-01",
                "capacity": 1,
                "waitlistEnabled": True,
            }
            client.http.post("/events", headers=headers, body=json.dumps(event))
            response = client.http.put("/events/e", headers=headers, body=json.dumps(body))
    finally:
        bootstrap.use(real)
    assert response.status_code in (202, 400, 422), response.body
    if response.status_code != 202:
        return
    [message] = api.registrations.submitter.queue.sent
    event_id = world.event(capacity=1)
    fresh = {"eventId": event_id, "requestId": uuid.uuid4().hex}  # the fakes' ids repeat per example
    queued = CommandMessage.model_validate({**message.model_dump(), **fresh})
    decisions = DecisionService(DynamoSeatStore(world.client, world.table), SystemClock())
    outcomes = decisions.process(event_id, [queued]).outcomes
    assert outcomes[queued.requestId].kind == "capacity_changed"
