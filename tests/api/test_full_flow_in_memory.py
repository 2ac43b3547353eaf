"""The whole registration flow in one in-memory world, through the HTTP API and without an
emulator: an organizer creates an event and subscribes a webhook, attendees register (202), the
worker's use case decides the queued commands, the listings and counts show the decisions, a
cancellation promotes the head of the waitlist, and the promotion reaches the subscriber as a
delivery. The same flow runs through the local stack in tests/e2e."""

from __future__ import annotations

import json

from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.webhooks.notifications import from_change
from tests.fakes import bearer, memory_services

ORGANIZER = bearer("olga", "organizers")


def decide_queued(services: bootstrap.Services) -> int:
    """What the registration worker does with the queue: each event's commands, in order."""
    sent = list(services.commands.sent)  # type: ignore[attr-defined]
    services.commands.sent.clear()  # type: ignore[attr-defined]
    for event_id in dict.fromkeys(m.eventId for m in sent):
        services.decisions.process(event_id, [m for m in sent if m.eventId == event_id])
    return len(sent)


def relay_changes(services: bootstrap.Services) -> list[str]:
    """What the webhook relay does with the table's stream: a notification per change, relayed."""
    store = services.decisions.store
    changes, store.changes = store.changes, []  # type: ignore[attr-defined]
    queued: list[str] = []
    for old, new in changes:
        notification = from_change(old, new)
        if notification is not None:
            queued += services.relay.relay(notification)
    return queued


def test_create_register_decide_list_cancel_promote_and_notify_without_an_emulator():
    services = memory_services()
    bootstrap.use(services)
    try:
        with Client(app) as client:
            http = client.http

            def call(method: str, path: str, who: dict[str, str], body: object = None) -> tuple[int, object]:
                headers = {"Content-Type": "application/json", **who}
                raw = json.dumps(body) if body is not None else b""
                answer = getattr(http, method)(path, headers=headers, body=raw)
                return answer.status_code, (json.loads(answer.body) if answer.body else None)

            event = {
                "eventId": "gala",
                "title": "Gala",
                "date": "2027-03-01",
                "capacity": 2,
                "waitlistEnabled": True,
            }
            assert call("post", "/events", ORGANIZER, event)[0] == 201
            hook = {"url": "https://93.184.216.34/hooks", "events": ["registration.promoted"]}
            assert call("post", "/webhooks", ORGANIZER, hook)[0] == 201
            people = ["ada", "bob", "cy", "di"]
            for person in people:
                assert call("post", "/users", bearer(person), {"name": person.title()})[0] == 201
            accepted = {p: call("post", "/events/gala/registrations", bearer(p), {})[1] for p in people}
            assert all(body["status"] == "pending" for body in accepted.values())

            assert decide_queued(services) == 4
            outcomes = {
                p: call("get", f"/requests/{accepted[p]['requestId']}", bearer(p))[1]["outcome"]
                for p in people
            }
            assert outcomes == {
                "ada": {"type": "confirmed"},
                "bob": {"type": "confirmed"},
                "cy": {"type": "waitlisted", "position": 1},
                "di": {"type": "waitlisted", "position": 2},
            }
            _, confirmed = call("get", "/events/gala/registrations?status=confirmed", ORGANIZER)
            _, waiting = call("get", "/events/gala/registrations?status=waitlisted", ORGANIZER)
            assert [r["userId"] for r in confirmed["items"]] == ["ada", "bob"]
            assert [(r["userId"], r["position"]) for r in waiting["items"]] == [("cy", 1), ("di", 2)]
            _, shown = call("get", "/events/gala", ORGANIZER)
            assert (shown["confirmedCount"], shown["waitlistCount"], shown["availableSeats"]) == (2, 2, 0)

            status, cancelled = call("delete", "/events/gala/registrations/ada", bearer("ada"))
            assert status == 202
            assert decide_queued(services) == 1
            assert call("get", f"/requests/{cancelled['requestId']}", bearer("ada"))[1]["outcome"] == {
                "type": "cancelled"  # who took the seat is the organizer's to know, not ada's
            }
            _, mine = call("get", "/users/cy/registrations", bearer("cy"))
            assert [(r["eventId"], r["status"]) for r in mine["items"]] == [("gala", "confirmed")]
            _, shown = call("get", "/events/gala", ORGANIZER)
            assert (shown["confirmedCount"], shown["waitlistCount"]) == (2, 1)

            [delivery_id] = relay_changes(services)
            _, deliveries = call("get", f"/webhooks/{_webhook_id(call)}/deliveries", ORGANIZER)
            [delivery] = deliveries["items"]
            assert delivery["deliveryId"] == delivery_id and delivery["eventType"] == "registration.promoted"
            payload = json.loads(services.dispatcher.deliveries.get(delivery_id).body)  # type: ignore[union-attr]
            assert payload["data"] == {
                "eventId": "gala",
                "userId": "cy",
                "requestId": cancelled["requestId"],
                "confirmedCount": 2,
                "waitlistCount": 1,
                "offeredCount": 0,
            }
            assert relay_changes(services) == [], "each change is relayed once"
    finally:
        bootstrap.use(None)


def _webhook_id(call) -> str:
    _, listed = call("get", "/webhooks", ORGANIZER)
    [subscription] = listed["items"]
    return subscription["webhookId"]
