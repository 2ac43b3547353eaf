"""The rush on one machine: registrations through the whole local stack over HTTP.

Starts the stack as `make dev` does (`python -m devstack` on free ports), creates one event with
500 seats and a waitlist and 2,000 users, then 50 concurrent clients register them all, each as
fast as its answers come. Figures:

- accept latency: the client's view of `POST /events/{id}/registrations`, until the 202 (the
  clients use the standard library's HTTP client: the load generator shares the 2 cores with the
  stack, and `requests` would cost it about 1 ms of CPU per call);
- decided per second, end to end: registrations / (the last request's `completedAt` - the first
  request's `createdAt`), the server's own clock, from the first accept to the last decision;
- 202 to outcome: each request's `completedAt - createdAt` (queue + worker);
- overbooked, lost (never decided) and duplicated registrations, which must all be 0;
- accept latency at a steady pace: the same clients then register STEADY_REGISTRATIONS people for a
  second event at STEADY_RATE a second in all (each client once a second), below what the stack
  accepts. The rush's figure is what 50 clients waiting on each other's answers see (Little's
  law: p50 is about clients / accepts a second); this one is an accept's own time.

Run: `.venv/bin/python -m bench bench.e2e` (BENCH_E2E_REGISTRATIONS, 2,000; BENCH_E2E_CLIENTS, 50;
BENCH_E2E_CAPACITY, 500; BENCH_E2E_STEADY, 500 at BENCH_E2E_STEADY_RATE, 50 a second). The last
line is the headline figure.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.common import Summary, admin_session

REGISTRATIONS = int(os.environ.get("BENCH_E2E_REGISTRATIONS", 2000))
CLIENTS = int(os.environ.get("BENCH_E2E_CLIENTS", 50))
CAPACITY = int(os.environ.get("BENCH_E2E_CAPACITY", 500))
STEADY_REGISTRATIONS = int(os.environ.get("BENCH_E2E_STEADY", 500))
STEADY_RATE = float(os.environ.get("BENCH_E2E_STEADY_RATE", 50))
DECIDED_WITHIN_SECONDS = 600


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main() -> Summary:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests.e2e.conftest import start_stack

    stack = start_stack()
    try:
        return run(stack.api)
    finally:
        stack.stop()


def in_parallel(work: Any, items: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(work, items))


def new_event(admin: requests.Session, api: str, name: str, people: int) -> tuple[str, list[str]]:
    """An event of CAPACITY seats with a waitlist, and `people` users to register for it."""
    event = f"{name}-{uuid.uuid4().hex[:6]}"
    body: dict[str, Any] = {"eventId": event, "title": name, "date": "2026-09-01", "capacity": CAPACITY}
    admin.post(f"{api}/events", json={**body, "waitlistEnabled": True}).raise_for_status()
    users = [f"{event}-{i:05d}" for i in range(people)]
    in_parallel(lambda u: admin.post(f"{api}/users", json={"userId": u, "name": u}).raise_for_status(), users)
    return event, users


class Registrar:
    """Registers people through the API, one kept-alive connection per client thread, and times
    each accept until its 202."""

    def __init__(self, api: str, token: str) -> None:
        self._address, self._token = urlsplit(api).netloc, token
        self._connections = threading.local()

    def register(self, event: str, user: str) -> tuple[str, float]:
        if not hasattr(self._connections, "http"):
            self._connections.http = http.client.HTTPConnection(self._address)
        body = json.dumps({"userId": user})
        headers = {"Authorization": self._token, "Content-Type": "application/json"}
        started = time.perf_counter()
        self._connections.http.request("POST", f"/events/{event}/registrations", body, headers)
        response = self._connections.http.getresponse()
        answer = response.read()
        latency = time.perf_counter() - started
        assert response.status == 202, answer
        return json.loads(answer)["requestId"], latency


def steady_latency(registrar: Registrar, event: str, users: list[str]) -> list[float]:
    """Accept latencies (ms) of `users` registered at STEADY_RATE a second: the i-th is sent
    i / STEADY_RATE seconds after the first, whatever the answers before it."""
    start = time.perf_counter() + 0.5

    def on_time(numbered: tuple[int, str]) -> float:
        index, user = numbered
        time.sleep(max(0.0, start + index / STEADY_RATE - time.perf_counter()))
        return registrar.register(event, user)[1] * 1000

    return in_parallel(on_time, list(enumerate(users)))


def run(api: str) -> Summary:
    admin = admin_session()
    event, users = new_event(admin, api, "rush", REGISTRATIONS)
    steady_event, steady_users = new_event(admin, api, "steady", STEADY_REGISTRATIONS)
    registrar = Registrar(api, admin.headers["Authorization"])

    accepted = in_parallel(lambda user: registrar.register(event, user), users)
    decided = wait_until_decided(admin, api, event)
    records = in_parallel(lambda r: admin.get(f"{api}/requests/{r[0]}").json(), accepted)
    done = [r for r in records if r["status"] != "pending"]

    accept = [latency * 1000 for _, latency in accepted]
    accept_p50, accept_p99 = percentile(accept, 50), percentile(accept, 99)
    to_outcome = [(seconds(r["completedAt"]) - seconds(r["createdAt"])) * 1000 for r in done]
    span = max(seconds(r["completedAt"]) for r in done) - min(seconds(r["createdAt"]) for r in done)
    rate = len(done) / span
    registered = all_pages(admin, f"{api}/events/{event}/registrations") + all_pages(
        admin, f"{api}/events/{event}/registrations?status=waitlisted"
    )
    confirmed = sum(r["status"] == "confirmed" for r in registered)
    user_ids = [r["userId"] for r in registered]
    overbooked, lost = max(0, confirmed - CAPACITY), REGISTRATIONS - len(done)
    duplicated = len(user_ids) - len(set(user_ids))
    steady = steady_latency(registrar, steady_event, steady_users)
    steady_p50, steady_p99 = percentile(steady, 50), percentile(steady, 99)
    print(f"registrations              {REGISTRATIONS} from {CLIENTS} concurrent clients, one event")
    print(f"event                      {CAPACITY} seats, waitlist on; decided in {decided:.1f} s of waiting")
    print(f"accept latency (ms)        p50 {accept_p50:.0f}  p99 {accept_p99:.0f}")
    outcome_p50, outcome_p99 = percentile(to_outcome, 50), percentile(to_outcome, 99)
    print(f"202 to outcome (ms)        p50 {outcome_p50:.0f}  p99 {outcome_p99:.0f}")
    print(f"first accept to last decision  {span:.1f} s")
    print(f"confirmed, waitlisted      {confirmed}, {len(registered) - confirmed}")
    print(f"overbooked, lost, duplicated  {overbooked}, {lost}, {duplicated}")
    print(
        f"accept latency at a steady {STEADY_RATE:.0f}/s (ms)  p50 {steady_p50:.0f}  p99 {steady_p99:.0f}"
        f"  ({STEADY_REGISTRATIONS} registrations, another event)"
    )
    print(
        f"figure: local stack end to end: {rate:.0f} registrations/s decided, accept p50 {accept_p50:.0f} ms"
    )
    return [
        ("e2e: registrations/s decided (local stack)", f"{rate:.0f}", ""),
        ("e2e: accept latency p50 / p99", f"{accept_p50:.0f} / {accept_p99:.0f} ms", ""),
        (
            f"e2e: accept latency at {STEADY_RATE:.0f}/s p50 / p99",
            f"{steady_p50:.0f} / {steady_p99:.0f} ms",
            "",
        ),
        ("e2e: overbooked, lost, duplicated", f"{overbooked}, {lost}, {duplicated}", ""),
    ]


def wait_until_decided(http: requests.Session, api: str, event: str) -> float:
    """Until the event's counters account for every registration (or the deadline)."""
    started = time.monotonic()
    while time.monotonic() - started < DECIDED_WITHIN_SECONDS:
        counts = http.get(f"{api}/events/{event}").json()
        if counts["confirmedCount"] + counts["waitlistCount"] >= REGISTRATIONS:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def all_pages(http: requests.Session, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = http.get(url, params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        items += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


if __name__ == "__main__":
    main()
