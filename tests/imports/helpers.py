"""Building import files and driving the API in the imports tests."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests


def new_event(http: requests.Session, api: str, capacity: int, waitlist: bool = True) -> str:
    event_id = f"imp-{uuid.uuid4().hex[:10]}"
    response = http.post(
        f"{api}/events",
        json={
            "eventId": event_id,
            "title": "Import test",
            "date": "2026-09-01",
            "capacity": capacity,
            "waitlistEnabled": waitlist,
        },
    )
    assert response.status_code == 201, response.text
    return event_id


def csv_file(rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["userId,name,email"] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def wait_for(http: requests.Session, api: str, import_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = http.get(f"{api}/imports/{import_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.25)
    raise AssertionError(f"import {import_id} did not finish: {body}")


def all_pages(http: requests.Session, url: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        body = http.get(url, params=query).json()
        items += body["items"]
        cursor = body["nextCursor"]
        if not cursor:
            return items
