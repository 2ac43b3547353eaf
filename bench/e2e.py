"""N concurrent clients through the whole local stack: accept latency, time to outcome, and the
counts that must be zero (overbooked, lost, duplicate).

Starts the stack as `make dev` does (`python -m devstack` on free ports), creates an event with
N/4 seats and a waitlist and N users, then N threads each register one user at the same time.
Accept latency is the client's view of `POST .../registrations` (until the 202). Time to outcome
is the server's `completedAt - createdAt` of each request (queue + worker), read once every
request has completed. Run: `.venv/bin/python -m bench bench.e2e` (N: BENCH_E2E_CLIENTS, 200).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import requests

from bench.common import Summary, admin_session

CLIENTS = int(os.environ.get("BENCH_E2E_CLIENTS", 200))
THREADS = 24


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


def run(api: str) -> Summary:
    event, capacity = f"bench-{uuid.uuid4().hex[:6]}", CLIENTS // 4
    http = admin_session()
    http.post(
        f"{api}/events",
        json={
            "eventId": event,
            "title": "Bench",
            "date": "2026-09-01",
            "capacity": capacity,
            "waitlistEnabled": True,
        },
    ).raise_for_status()
    users = [f"{event}-{i}" for i in range(CLIENTS)]
    with ThreadPoolExecutor(THREADS) as pool:
        list(
            pool.map(
                lambda u: http.post(f"{api}/users", json={"userId": u, "name": u}).raise_for_status(),
                users,
            )
        )

    def register(user: str) -> tuple[str, float]:
        started = time.perf_counter()
        response = http.post(f"{api}/events/{event}/registrations", json={"userId": user})
        response.raise_for_status()
        return response.json()["requestId"], time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        accepted = list(pool.map(register, users))
    records: dict[str, Any] = {}
    deadline = time.monotonic() + 300
    while len(records) < len(accepted) and time.monotonic() < deadline:
        for request_id, _ in accepted:
            if request_id not in records:
                body = http.get(f"{api}/requests/{request_id}").json()
                if body["status"] != "pending":
                    records[request_id] = body
        time.sleep(0.2)
    wall = time.perf_counter() - started

    accept = [latency * 1000 for _, latency in accepted]
    to_outcome = [(seconds(r["completedAt"]) - seconds(r["createdAt"])) * 1000 for r in records.values()]
    registered = _all(http, f"{api}/events/{event}/registrations") + _all(
        http, f"{api}/events/{event}/registrations?status=waitlisted"
    )
    confirmed = sum(r["status"] == "confirmed" for r in registered)
    user_ids = [r["userId"] for r in registered]
    print(f"clients                    {CLIENTS} concurrent, {capacity} seats, waitlist on")
    print(f"accept latency (ms)        p50 {percentile(accept, 50):.0f}  p99 {percentile(accept, 99):.0f}")
    if to_outcome:
        print(
            f"202 to outcome (ms)        p50 {percentile(to_outcome, 50):.0f}  "
            f"p99 {percentile(to_outcome, 99):.0f}  mean {statistics.mean(to_outcome):.0f}"
        )
    print(f"wall time (s)              {wall:.1f} ({CLIENTS / wall:.0f} registrations/s end to end)")
    print(f"overbooked                 {max(0, confirmed - capacity)}")
    print(f"lost (never completed)     {len(accepted) - len(records)}")
    print(f"duplicate registrations    {len(user_ids) - len(set(user_ids))}")
    overbooked, lost = max(0, confirmed - capacity), len(accepted) - len(records)
    duplicated = len(user_ids) - len(set(user_ids))
    return [
        (
            "e2e: accept latency p50 / p99 (local stack)",
            f"{percentile(accept, 50):.0f} / {percentile(accept, 99):.0f} ms",
            "",
        ),
        ("e2e: registrations/s end to end (local stack)", f"{CLIENTS / wall:.0f}", ""),
        (
            "e2e: overbooked, lost, duplicated",
            f"{overbooked}, {lost}, {duplicated}",
            "",
        ),
    ]


def _all(http: requests.Session, url: str) -> list[dict]:
    items, cursor = [], None
    while True:
        page = http.get(url, params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        items += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


if __name__ == "__main__":
    main()
