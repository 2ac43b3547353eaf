"""Capacity under concurrency, through the whole local stack over HTTP."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.fakes import session

CLIENTS = 24


def wait_for_outcomes(api: str, request_ids: list[str], timeout: float = 180) -> dict[str, dict]:
    done: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    with session() as http:
        while len(done) < len(request_ids) and time.monotonic() < deadline:
            for request_id in request_ids:
                if request_id not in done:
                    body = http.get(f"{api}/requests/{request_id}").json()
                    if body["status"] != "pending":
                        done[request_id] = body
            time.sleep(0.2)
    assert len(done) == len(request_ids), f"{len(request_ids) - len(done)} requests still pending"
    return done


def all_pages(http, url: str) -> list[dict]:
    items, cursor = [], None
    while True:
        page = http.get(url, params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        items += page["items"]
        cursor = page["nextCursor"]
        if not cursor:
            return items


def test_200_concurrent_registrations_for_50_seats_then_10_cancellations(stack, http):
    api, event = stack.api, f"hot-{uuid.uuid4().hex[:8]}"
    http.post(
        f"{api}/events",
        json={
            "eventId": event,
            "title": "Hot",
            "date": "2026-09-01",
            "capacity": 50,
            "waitlistEnabled": True,
        },
    ).raise_for_status()
    users = [f"{event}-u{i:03d}" for i in range(200)]

    def create_and_register(user: str) -> str:
        """As the attendee themselves: their own profile, then themselves for the event."""
        with session(user) as http:
            http.post(f"{api}/users", json={"name": user}).raise_for_status()
            response = http.post(f"{api}/events/{event}/registrations", json={})
            assert response.status_code == 202, response.text
            return response.json()["requestId"]

    with ThreadPoolExecutor(CLIENTS) as pool:
        request_ids = list(pool.map(create_and_register, users))
    outcomes = wait_for_outcomes(api, request_ids)

    kinds = [o["outcome"]["type"] for o in outcomes.values()]
    assert (kinds.count("confirmed"), kinds.count("waitlisted")) == (50, 150)
    positions = sorted(o["outcome"]["position"] for o in outcomes.values() if "position" in o["outcome"])
    assert positions == list(range(1, 151))
    counts = http.get(f"{api}/events/{event}").json()
    assert (counts["confirmedCount"], counts["waitlistCount"], counts["availableSeats"]) == (50, 150, 0)

    confirmed = all_pages(http, f"{api}/events/{event}/registrations")
    waitlist = all_pages(http, f"{api}/events/{event}/registrations?status=waitlisted")
    assert len(confirmed) == 50 and [w["position"] for w in waitlist] == list(range(1, 151))
    first_waiting = [w["userId"] for w in waitlist[:10]]

    leaving = [c["userId"] for c in confirmed[:10]]
    with ThreadPoolExecutor(10) as pool:
        cancels = list(
            pool.map(
                lambda u: http.delete(f"{api}/events/{event}/registrations/{u}").json()["requestId"], leaving
            )
        )
    cancelled = wait_for_outcomes(api, cancels)
    promoted = sorted(o["outcome"]["promotedUserId"] for o in cancelled.values())
    assert promoted == sorted(first_waiting)

    now_confirmed = {c["userId"] for c in all_pages(http, f"{api}/events/{event}/registrations")}
    assert now_confirmed == ({c["userId"] for c in confirmed} - set(leaving)) | set(first_waiting)
    remaining = all_pages(http, f"{api}/events/{event}/registrations?status=waitlisted")
    assert [w["userId"] for w in remaining] == [w["userId"] for w in waitlist[10:]]
    assert [w["position"] for w in remaining] == list(range(1, 141))
