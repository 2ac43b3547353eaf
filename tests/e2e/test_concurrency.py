"""Capacity under concurrency, through the whole local stack over HTTP."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.fakes import session

CLIENTS = 50
RUSH, SEATS, LEAVING = 1000, 250, 50  # with user creation and reads: over 3,000 requests


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


def wait_until_decided(http, api: str, event: str, count: int, timeout: float = 300) -> None:
    """Until the event's counters account for `count` registrations (cheaper than polling each)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = http.get(f"{api}/events/{event}").json()
        if counts["confirmedCount"] + counts["waitlistCount"] >= count:
            return
        time.sleep(0.5)
    raise AssertionError(f"not all {count} registrations were decided in {timeout:.0f} s")


def test_a_rush_of_1000_registrations_for_250_seats_then_50_cancellations(stack, http):
    api, event = stack.api, f"hot-{uuid.uuid4().hex[:8]}"
    http.post(
        f"{api}/events",
        json={
            "eventId": event,
            "title": "Hot",
            "date": "2026-09-01",
            "capacity": SEATS,
            "waitlistEnabled": True,
        },
    ).raise_for_status()
    users = [f"{event}-u{i:04d}" for i in range(RUSH)]

    def create_and_register(user: str) -> str:
        """As the attendee themselves: their own profile, then themselves for the event."""
        with session(user) as http:
            http.post(f"{api}/users", json={"name": user}).raise_for_status()
            response = http.post(f"{api}/events/{event}/registrations", json={})
            assert response.status_code == 202, response.text
            return response.json()["requestId"]

    with ThreadPoolExecutor(CLIENTS) as pool:
        request_ids = list(pool.map(create_and_register, users))
    wait_until_decided(http, api, event, RUSH)
    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(lambda r: http.get(f"{api}/requests/{r}").json(), request_ids))

    assert all(o["status"] == "completed" for o in outcomes), "every accepted request is decided"
    kinds = [o["outcome"]["type"] for o in outcomes]
    assert (kinds.count("confirmed"), kinds.count("waitlisted")) == (SEATS, RUSH - SEATS)
    positions = sorted(o["outcome"]["position"] for o in outcomes if "position" in o["outcome"])
    assert positions == list(range(1, RUSH - SEATS + 1))
    counts = http.get(f"{api}/events/{event}").json()
    assert (counts["confirmedCount"], counts["waitlistCount"], counts["availableSeats"]) == (
        SEATS,
        RUSH - SEATS,
        0,
    )

    confirmed = all_pages(http, f"{api}/events/{event}/registrations")
    waitlist = all_pages(http, f"{api}/events/{event}/registrations?status=waitlisted")
    assert len(confirmed) == SEATS and [w["position"] for w in waitlist] == list(range(1, RUSH - SEATS + 1))
    assert len({r["userId"] for r in confirmed + waitlist}) == RUSH, "nobody twice, nobody lost"
    first_waiting = [w["userId"] for w in waitlist[:LEAVING]]

    leaving = [c["userId"] for c in confirmed[:LEAVING]]
    with ThreadPoolExecutor(CLIENTS) as pool:
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
    assert [w["userId"] for w in remaining] == [w["userId"] for w in waitlist[LEAVING:]]
    assert [w["position"] for w in remaining] == list(range(1, RUSH - SEATS - LEAVING + 1))


def test_offers_under_concurrent_cancels_accepts_declines_and_newcomers(stack, http):
    """With offers on, a freed seat is held for the head of the line: however the answers and
    cancellations interleave, confirmed + offered stays at capacity and each offer goes to the
    next in line."""
    api, event = stack.api, f"offers-{uuid.uuid4().hex[:8]}"
    offers = {"waitlistEnabled": True, "waitlistOffer": {"ttlSeconds": 600}}  # none lapses here
    body = {"eventId": event, "title": "Offers", "date": "2026-09-01", "capacity": 20, **offers}
    http.post(f"{api}/events", json=body).raise_for_status()

    def as_user(user: str, method: str, path: str) -> str:
        with session(user) as own:
            if not path:  # registering: their profile first
                own.post(f"{api}/users", json={"name": user}).raise_for_status()
            response = own.request(method, f"{api}/events/{event}/registrations{path}", json={})
            assert response.status_code == 202, response.text
            return response.json()["requestId"]

    def concurrently(calls: list[tuple[str, str, str]]) -> dict[str, dict]:
        with ThreadPoolExecutor(CLIENTS) as pool:
            request_ids = list(pool.map(lambda call: as_user(*call), calls))
        return wait_for_outcomes(api, request_ids)

    users = [f"{event}-u{i:02d}" for i in range(60)]
    concurrently([(user, "POST", "") for user in users])
    confirmed = [c["userId"] for c in all_pages(http, f"{api}/events/{event}/registrations")]
    waitlist = [w["userId"] for w in all_pages(http, f"{api}/events/{event}/registrations?status=waitlisted")]
    assert len(confirmed) == 20 and len(waitlist) == 40

    freed = concurrently([(user, "DELETE", f"/{user}") for user in confirmed[:10]])
    assert {o["outcome"]["offeredUserId"] for o in freed.values()} == set(waitlist[:10])

    newcomers = [f"{event}-late{i}" for i in range(10)]
    answers = concurrently(
        [(user, "POST", f"/{user}/accept") for user in waitlist[:5]]
        + [(user, "POST", f"/{user}/decline") for user in waitlist[5:10]]
        + [(user, "DELETE", f"/{user}") for user in confirmed[10:15]]
        + [(user, "POST", "") for user in newcomers]
    )
    kinds = sorted(o["outcome"]["type"] for o in answers.values())
    assert kinds == sorted(["confirmed"] * 5 + ["declined"] * 5 + ["cancelled"] * 5 + ["waitlisted"] * 10)
    offered_on = [o["outcome"]["offeredUserId"] for o in answers.values() if "offeredUserId" in o["outcome"]]
    assert sorted(offered_on) == sorted(waitlist[10:20])  # each freed seat to the next in line

    counts = http.get(f"{api}/events/{event}").json()
    assert (counts["confirmedCount"], counts["offeredCount"], counts["waitlistCount"]) == (10, 10, 30)
    assert counts["availableSeats"] == 0
    holding = all_pages(http, f"{api}/events/{event}/registrations?status=offered")
    assert {h["userId"] for h in holding} == set(waitlist[10:20])
    assert all(h["offerExpiresAt"] > h["registeredAt"] for h in holding)
    now_confirmed = {c["userId"] for c in all_pages(http, f"{api}/events/{event}/registrations")}
    assert now_confirmed == set(confirmed[15:]) | set(waitlist[:5])
    still_waiting = [
        w["userId"] for w in all_pages(http, f"{api}/events/{event}/registrations?status=waitlisted")
    ]
    assert still_waiting[:20] == waitlist[20:] and set(still_waiting[20:]) == set(newcomers)
