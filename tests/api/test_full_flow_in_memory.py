"""Whole registration flows in one in-memory world, through the HTTP API and without an
emulator: an organizer creates an event and subscribes a webhook, attendees register (202), the
worker's use case decides the queued commands, the listings and counts show the decisions, a
freed seat goes to the head of the waitlist (promoted, or offered and then accepted or
declined), and each move reaches the subscriber as a delivery. The same flows run through the
local stack in tests/e2e and tests/webhooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.webhooks.notifications import from_change
from tests.fakes import bearer, memory_services

ORGANIZER = bearer("olga", "organizers")


class World:
    """The API, the registration worker and the webhook relay over one in-memory world."""

    def __init__(self, services: bootstrap.Services, client: Client) -> None:
        self.services, self.http = services, client.http

    def call(self, method: str, path: str, who: dict[str, str], body: object = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", **who}
        raw = json.dumps(body) if body is not None else b""
        answer = getattr(self.http, method)(path, headers=headers, body=raw)
        return answer.status_code, (json.loads(answer.body) if answer.body else None)

    def decide_queued(self) -> int:
        """What the registration worker does with the queue: each event's commands, in order."""
        queue = self.services.commands
        sent = list(queue.sent)  # type: ignore[attr-defined]
        queue.sent.clear()  # type: ignore[attr-defined]
        for event_id in dict.fromkeys(m.eventId for m in sent):
            self.services.decisions.process(event_id, [m for m in sent if m.eventId == event_id])
        return len(sent)

    def relay_changes(self) -> list[dict[str, Any]]:
        """What the webhook relay does with the table's stream: a notification per change,
        relayed; the bodies of the deliveries it queued."""
        store = self.services.decisions.store
        changes, store.changes = store.changes, []  # type: ignore[attr-defined]
        bodies = []
        for old, new in changes:
            notification = from_change(old, new)
            if notification is not None:
                for delivery_id in self.services.relay.relay(notification):
                    delivery = self.services.dispatcher.deliveries.get(delivery_id)
                    assert delivery is not None
                    bodies.append(json.loads(delivery.body))
        return bodies

    def outcome(self, accepted: dict[str, Any], who: str) -> dict[str, Any]:
        status, body = self.call("get", f"/requests/{accepted['requestId']}", bearer(who))
        assert status == 200 and body["status"] == "completed", body
        return body["outcome"]

    def register(self, event_id: str, people: list[str]) -> dict[str, dict[str, Any]]:
        accepted = {}
        for person in people:
            self.call("post", "/users", bearer(person), {"name": person.title()})
            status, accepted[person] = self.call(
                "post", f"/events/{event_id}/registrations", bearer(person), {}
            )
            assert status == 202 and accepted[person]["status"] == "pending"
        return accepted


@pytest.fixture
def world() -> Iterator[World]:
    services = memory_services()
    bootstrap.use(services)
    try:
        with Client(app) as client:
            yield World(services, client)
    finally:
        bootstrap.use(None)


def open_event(world: World, event_id: str, subscribed: list[str], **settings: Any) -> None:
    event = {"eventId": event_id, "title": "Gala", "date": "2027-03-01", "waitlistEnabled": True, **settings}
    assert world.call("post", "/events", ORGANIZER, event)[0] == 201
    hook = {"url": "https://93.184.216.34/hooks", "events": subscribed}
    assert world.call("post", "/webhooks", ORGANIZER, hook)[0] == 201


def test_create_register_decide_list_cancel_promote_and_notify_without_an_emulator(world):
    open_event(world, "gala", ["registration.promoted"], capacity=2)
    accepted = world.register("gala", ["ada", "bob", "cy", "di"])
    assert world.decide_queued() == 4
    assert {p: world.outcome(a, p) for p, a in accepted.items()} == {
        "ada": {"type": "confirmed"},
        "bob": {"type": "confirmed"},
        "cy": {"type": "waitlisted", "position": 1},
        "di": {"type": "waitlisted", "position": 2},
    }
    _, confirmed = world.call("get", "/events/gala/registrations?status=confirmed", ORGANIZER)
    _, waiting = world.call("get", "/events/gala/registrations?status=waitlisted", ORGANIZER)
    assert [r["userId"] for r in confirmed["items"]] == ["ada", "bob"]
    assert [(r["userId"], r["position"]) for r in waiting["items"]] == [("cy", 1), ("di", 2)]
    _, shown = world.call("get", "/events/gala", ORGANIZER)
    assert (shown["confirmedCount"], shown["waitlistCount"], shown["availableSeats"]) == (2, 2, 0)
    assert world.relay_changes() == [], "registering and waiting are announced to no promoted-only hook"

    status, cancelled = world.call("delete", "/events/gala/registrations/ada", bearer("ada"))
    assert status == 202 and world.decide_queued() == 1
    assert world.outcome(cancelled, "ada") == {"type": "cancelled"}  # who took the seat: not ada's to know
    _, mine = world.call("get", "/users/cy/registrations", bearer("cy"))
    assert [(r["eventId"], r["status"]) for r in mine["items"]] == [("gala", "confirmed")]
    _, shown = world.call("get", "/events/gala", ORGANIZER)
    assert (shown["confirmedCount"], shown["waitlistCount"]) == (2, 1)

    [promoted] = world.relay_changes()
    assert promoted["type"] == "registration.promoted"
    assert promoted["data"] == {
        "eventId": "gala",
        "userId": "cy",
        "requestId": cancelled["requestId"],
        "confirmedCount": 2,
        "waitlistCount": 1,
        "offeredCount": 0,
    }
    assert world.relay_changes() == [], "each change is relayed once"


def test_an_offer_declined_goes_to_the_next_who_accepts_without_an_emulator(world):
    moves = ["registration.offered", "registration.offer_declined", "registration.promoted"]
    open_event(world, "ball", moves, capacity=1, waitlistOffer={"ttlSeconds": 600})
    accepted = world.register("ball", ["ada", "bob", "cy"])
    world.decide_queued()
    world.call("delete", "/events/ball/registrations/ada", bearer("ada"))
    world.decide_queued()
    _, offered = world.call("get", "/events/ball/registrations?status=offered", ORGANIZER)
    assert [r["userId"] for r in offered["items"]] == ["bob"]

    _, declined = world.call("post", "/events/ball/registrations/bob/decline", bearer("bob"), {})
    world.decide_queued()
    assert world.outcome(declined, "bob") == {"type": "declined"}
    _, took = world.call("post", "/events/ball/registrations/cy/accept", bearer("cy"), {})
    world.decide_queued()
    assert world.outcome(took, "cy") == {"type": "confirmed"}
    assert world.outcome(accepted["cy"], "cy") == {"type": "waitlisted", "position": 2}

    announced = [
        (b["type"], b["data"]["userId"], b["data"].get("acceptedOffer")) for b in world.relay_changes()
    ]
    assert announced == [
        ("registration.offered", "bob", None),
        ("registration.offer_declined", "bob", None),
        ("registration.offered", "cy", None),
        ("registration.promoted", "cy", True),
    ]
    _, shown = world.call("get", "/events/ball", ORGANIZER)
    assert (shown["confirmedCount"], shown["offeredCount"], shown["waitlistCount"]) == (1, 0, 0)
    _, bobs = world.call("get", "/users/bob/registrations?status=declined", bearer("bob"))
    assert [r["status"] for r in bobs["items"]] == ["declined"]
