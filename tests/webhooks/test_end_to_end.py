"""A full event, a cancellation through the API, the registration worker, the stream relay and
the dispatcher: the promotion reaches the event owner's receiver, signed, and never another
organizer's."""

from __future__ import annotations

import time
import uuid

import pytest
from chalice.test import Client

import workers.registration as registration_worker
import workers.webhook_relay as relay_worker
import workers.webhooks as dispatcher_worker
from app import app
from chalicelib import bootstrap
from chalicelib.webhooks import signing
from devstack.runner import QueuePoller
from devstack.streams import StreamPoller
from tests.fakes import bearer
from tests.webhooks.conftest import Receiver, caller, emulator_settings, wait_for

pytestmark = pytest.mark.emulators

OLGA, OSCAR = bearer("olga", "organizers"), bearer("oscar", "organizers")


def test_a_promotion_reaches_the_event_owners_receiver_signed_and_no_one_elses(emulators, receiver):
    dynamodb, sqs = emulators.client("dynamodb"), emulators.client("sqs")
    config = emulator_settings()
    wired = bootstrap.build(config, emulators.client)
    for old in wired.relay.subscriptions.all():
        wired.relay.subscriptions.delete(old.webhook_id)
    bootstrap.use(wired)
    stream = StreamPoller(config.table_name, relay_worker.handler, start="LATEST", dynamodb=dynamodb)
    registrations = QueuePoller(config.registrations_queue_url, registration_worker.handler, "reg", sqs=sqs)
    deliveries = QueuePoller(config.webhooks_queue_url, dispatcher_worker.handler, "webhooks", sqs=sqs)
    elsewhere = Receiver().start()  # oscar's: another organizer, not the event's owner
    decisions = Receiver().start()  # olga's too: the registrations' own decisions
    try:
        with Client(app) as client:
            call = caller(client)

            promoted = {"events": ["registration.promoted"]}
            status, hook = call(OLGA, "post", "/webhooks", {"url": receiver.url, **promoted})
            assert status == 201, hook
            status, other_hook = call(OSCAR, "post", "/webhooks", {"url": elsewhere.url, **promoted})
            assert status == 201, other_hook
            decided_events = {"events": ["registration.confirmed", "registration.waitlisted"]}
            status, _ = call(OLGA, "post", "/webhooks", {"url": decisions.url, **decided_events})
            assert status == 201
            event_id = f"full-{uuid.uuid4().hex[:8]}"
            event = {"eventId": event_id, "title": "Full", "date": "2026-06-01", "capacity": 1}
            status, _ = call(OLGA, "post", "/events", {**event, "waitlistEnabled": True})
            assert status == 201
            made = []
            for user in ("ada", "bob"):
                call(bearer(user), "post", "/users", {"name": user.title()})  # 409 if it exists: fine
                status, registered = call(bearer(user), "post", f"/events/{event_id}/registrations", {})
                assert status == 202
                made.append(registered["requestId"])

            def decided(request_id: str, who: str = "ada") -> bool:
                return call(bearer(who), "get", f"/requests/{request_id}")[1]["status"] == "completed"

            # one pending command per person and event: ada cancels once her registration is decided
            wait_for(lambda: decided(made[0]), lambda: registrations.poll_once(wait_seconds=0))

            status, cancel = call(bearer("ada"), "delete", f"/events/{event_id}/registrations/ada")
            assert status == 202
            wait_for(lambda: decided(cancel["requestId"]), lambda: registrations.poll_once(wait_seconds=0))
            # the event's owner sees who took the seat (the attendee who cancelled does not)
            outcome = call(OLGA, "get", f"/requests/{cancel['requestId']}")[1]["outcome"]
            assert outcome["promotedUserId"] == "bob"

            def step() -> None:
                stream.poll_once()
                if not deliveries.poll_once(wait_seconds=0):
                    time.sleep(0.1)

            def arrived() -> list:
                return [r for r in receiver.received if r.json()["type"] == "registration.promoted"]

            wait_for(arrived, step)
            (promotion,) = arrived()
            signing.verify(hook["secret"], promotion.headers, promotion.body, now=int(time.time()))
            assert promotion.json()["data"] == {
                "eventId": event_id,
                "userId": "bob",
                "requestId": cancel["requestId"],
                "confirmedCount": 1,
                "waitlistCount": 0,
                "offeredCount": 0,
            }
            status, listed = call(OLGA, "get", f"/webhooks/{hook['webhookId']}/deliveries")
            assert [d["status"] for d in listed["items"]] == ["delivered"]
            for _ in range(10):  # drain whatever is left: nothing may be on its way to oscar
                step()
            status, others = call(OSCAR, "get", f"/webhooks/{other_hook['webhookId']}/deliveries")
            assert status == 200 and others["items"] == []
            assert elsewhere.received == []
            assert call(OSCAR, "get", f"/webhooks/{hook['webhookId']}")[0] == 404, "olga's hook is hers"
            # a register's decision is kept on its registration: the relay announces it from that
            # item's change, once each, with the request's outcome
            told = sorted((r.json()["type"], r.json()["data"]["requestId"]) for r in decisions.received)
            assert told == sorted([("registration.confirmed", made[0]), ("registration.waitlisted", made[1])])
            outcomes = {r.json()["data"]["userId"]: r.json()["data"]["outcome"] for r in decisions.received}
            assert outcomes == {"ada": {"type": "confirmed"}, "bob": {"type": "waitlisted", "position": 1}}
    finally:
        decisions.stop()
        elsewhere.stop()
        bootstrap.use(None)
