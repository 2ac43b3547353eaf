"""Waitlist offers, announced: through the API, the registration worker, the offer sweep, the
stream relay and the dispatcher, each step of an offer reaches the event owner's receiver as a
signed webhook: offered (with `expiresAt`), declined, lapsed, and accepted (a promotion)."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Any

import pytest
from chalice.test import Client

import workers.registration as registration_worker
import workers.webhook_relay as relay_worker
import workers.webhooks as dispatcher_worker
from app import app
from chalicelib import bootstrap
from chalicelib.registrations.memory import MemoryCommandQueue
from chalicelib.webhooks import signing
from devstack.runner import QueuePoller
from devstack.streams import StreamPoller
from tests.fakes import FixedClock, bearer
from tests.webhooks.conftest import caller, emulator_settings, wait_for

pytestmark = pytest.mark.emulators

OLGA = bearer("olga", "organizers")
OFFER_TYPES = [
    "registration.offered",
    "registration.offer_declined",
    "registration.offer_expired",
    "registration.promoted",
]


def test_every_step_of_an_offer_reaches_the_owner_signed(emulators, receiver):
    dynamodb, sqs = emulators.client("dynamodb"), emulators.client("sqs")
    config = emulator_settings()
    wired = bootstrap.build(config, emulators.client)
    for old in wired.relay.subscriptions.all():
        wired.relay.subscriptions.delete(old.webhook_id)
    bootstrap.use(wired)
    stream = StreamPoller(config.table_name, relay_worker.handler, start="LATEST", dynamodb=dynamodb)
    registrations = QueuePoller(config.registrations_queue_url, registration_worker.handler, "reg", sqs=sqs)
    deliveries = QueuePoller(config.webhooks_queue_url, dispatcher_worker.handler, "webhooks", sqs=sqs)
    try:
        with Client(app) as client:
            call = caller(client)

            def settle(request: dict[str, Any]) -> dict[str, Any]:
                def done() -> Any:
                    found = call(OLGA, "get", f"/requests/{request['requestId']}")[1]
                    return found if found["status"] == "completed" else None

                return wait_for(done, lambda: registrations.poll_once(wait_seconds=0))["outcome"]

            def announced(event_type: str, user: str) -> Any:
                def step() -> None:
                    registrations.poll_once(wait_seconds=0)  # the sweep's expiries, too
                    stream.poll_once()
                    if not deliveries.poll_once(wait_seconds=0):
                        time.sleep(0.1)

                def arrived() -> list:
                    return [
                        r
                        for r in receiver.received
                        if r.json()["type"] == event_type and r.json()["data"]["userId"] == user
                    ]

                (delivery,) = wait_for(arrived, step)
                signing.verify(hook["secret"], delivery.headers, delivery.body, now=int(time.time()))
                return delivery.json()["data"]

            status, hook = call(OLGA, "post", "/webhooks", {"url": receiver.url, "events": OFFER_TYPES})
            assert status == 201, hook
            event_id = f"offers-{uuid.uuid4().hex[:8]}"
            event = {"eventId": event_id, "title": "Offers", "date": "2026-06-01", "capacity": 1}
            offers = {"waitlistEnabled": True, "waitlistOffer": {"ttlSeconds": 60}}
            assert call(OLGA, "post", "/events", {**event, **offers})[0] == 201
            for user in ("ada", "bob", "cy", "dan"):
                call(bearer(user), "post", "/users", {"name": user.title()})  # 409 if it exists: fine
                settle(call(bearer(user), "post", f"/events/{event_id}/registrations", {})[1])

            cancel = call(bearer("ada"), "delete", f"/events/{event_id}/registrations/ada")[1]
            assert settle(cancel) == {"type": "cancelled", "offeredUserId": "bob"}
            offered = announced("registration.offered", "bob")
            assert offered["requestId"] == cancel["requestId"]
            assert offered["expiresAt"] > cancel["createdAt"]
            assert (offered["confirmedCount"], offered["offeredCount"], offered["waitlistCount"]) == (0, 1, 2)

            decline = call(bearer("bob"), "post", f"/events/{event_id}/registrations/bob/decline")[1]
            assert settle(decline) == {"type": "declined", "offeredUserId": "cy"}
            declined = announced("registration.offer_declined", "bob")
            assert declined["requestId"] == decline["requestId"]
            assert declined["expiresAt"] == offered["expiresAt"]
            assert announced("registration.offered", "cy")["requestId"] == decline["requestId"]

            # The sweep, run as if much later: it finds cy's offer due (among any other tests'
            # in the shared table; only this event's expiry goes on to the real queue).
            found = MemoryCommandQueue()
            replace(wired.offer_sweep, queue=found, clock=FixedClock("2100-01-01T00:00:00.000000Z")).run()
            [expiry] = [m for m in found.sent if m.eventId == event_id]
            assert (expiry.type, expiry.userId) == ("expire_offer", "cy")
            wired.commands.send(expiry)
            lapsed = announced("registration.offer_expired", "cy")
            assert (lapsed["offeredCount"], lapsed["waitlistCount"]) == (1, 0)  # dan's now

            accept = call(bearer("dan"), "post", f"/events/{event_id}/registrations/dan/accept")[1]
            assert settle(accept) == {"type": "confirmed"}
            promoted = announced("registration.promoted", "dan")
            assert promoted["acceptedOffer"] is True
            assert (promoted["confirmedCount"], promoted["offeredCount"]) == (1, 0)
            assert [r.json()["type"] for r in receiver.received].count("registration.confirmed") == 0
    finally:
        bootstrap.use(None)
