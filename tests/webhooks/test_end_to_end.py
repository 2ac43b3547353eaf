"""A full event, a cancellation through the API, the registration worker, the stream relay and
the dispatcher: the promoted user's `registration.promoted` arrives at the receiver, signed."""

from __future__ import annotations

import json
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
from tests.webhooks.conftest import emulator_settings, wait_for

pytestmark = pytest.mark.emulators


def test_cancellation_promotes_and_the_webhook_arrives_signed(emulators, receiver):
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

            def call(method: str, path: str, body=None):
                response = getattr(client.http, method)(
                    path, headers={"Content-Type": "application/json"}, body=json.dumps(body) if body else b""
                )
                return response.status_code, json.loads(response.body) if response.body else None

            status, hook = call(
                "post", "/webhooks", {"url": receiver.url, "events": ["registration.promoted"]}
            )
            assert status == 201, hook
            event_id = f"full-{uuid.uuid4().hex[:8]}"
            status, _ = call(
                "post",
                "/events",
                {
                    "eventId": event_id,
                    "title": "Full",
                    "date": "2026-06-01",
                    "capacity": 1,
                    "waitlistEnabled": True,
                },
            )
            assert status == 201
            for user in ("ada", "bob"):
                call("post", "/users", {"userId": user, "name": user.title()})  # 409 if it exists: fine
                assert call("post", f"/events/{event_id}/registrations", {"userId": user})[0] == 202

            def decided(request_id: str) -> bool:
                return call("get", f"/requests/{request_id}")[1]["status"] == "completed"

            status, cancel = call("delete", f"/events/{event_id}/registrations/ada")
            assert status == 202
            wait_for(lambda: decided(cancel["requestId"]), lambda: registrations.poll_once(wait_seconds=0))
            assert call("get", f"/requests/{cancel['requestId']}")[1]["outcome"]["promotedUserId"] == "bob"

            def step() -> None:
                stream.poll_once()
                if not deliveries.poll_once(wait_seconds=0):
                    time.sleep(0.1)

            wait_for(
                lambda: [r for r in receiver.received if r.json()["type"] == "registration.promoted"], step
            )
            (promoted,) = [r for r in receiver.received if r.json()["type"] == "registration.promoted"]
            signing.verify(hook["secret"], promoted.headers, promoted.body, now=int(time.time()))
            data = promoted.json()["data"]
            assert data == {
                "eventId": event_id,
                "userId": "bob",
                "requestId": cancel["requestId"],
                "confirmedCount": 1,
                "waitlistCount": 0,
            }
            status, listed = call("get", f"/webhooks/{hook['webhookId']}/deliveries")
            assert [d["status"] for d in listed["items"]] == ["delivered"]
    finally:
        bootstrap.use(None)
