"""`Prefer: wait=N` (RFC 7240) on routes that answer 202, and `GET /requests/{id}?wait=N`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib import bootstrap
from chalicelib.registrations.wire import preferred_wait


@pytest.fixture
def event(api):
    api.request("POST", "/events", {"eventId": "e1", "title": "t", "date": "2026-01-01", "capacity": 1})
    api.request("POST", "/users", {"userId": "ada", "name": "Ada"})
    return api


OUTCOMES = {
    "register": {"type": "confirmed"},
    "cancel": {"type": "cancelled"},
    "change_capacity": {"type": "capacity_changed", "capacity": 4},
}


def _worker_runs_while_the_api_waits() -> list[float]:
    """While the API pauses, a stand-in for the worker completes every queued request (the real
    worker, deciding in the background, is in tests/e2e/test_prefer_wait.py)."""
    services = bootstrap.services()
    queue, requests, pauses = services.registrations.submitter.queue, services.registrations.requests, []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        for message in queue.sent:
            record = requests.get(message.requestId)
            outcome = OUTCOMES[message.type]
            requests.records[message.requestId] = replace(record, status="completed", outcome=outcome)
        queue.sent.clear()

    services.registrations.sleep = pause
    return pauses


def _never_decided() -> list[float]:
    services, slept = bootstrap.services(), []
    clock = [0.0]

    def pause(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    services.registrations.sleep = pause
    services.registrations.monotonic = lambda: clock[0]
    return slept


def test_a_request_decided_in_time_is_answered_200_with_its_outcome(event):
    pauses = _worker_runs_while_the_api_waits()
    response = event.request("POST", "/events/e1/registrations", {"userId": "ada"}, {"Prefer": "wait=5"})
    assert response.status_code == 200
    body = event.json(response)
    assert body["status"] == "completed" and body["outcome"] == {"type": "confirmed"}
    assert response.headers["Preference-Applied"] == "wait=5"
    assert response.headers["Location"] == f"/requests/{body['requestId']}"
    assert event.json(event.request("GET", response.headers["Location"])) == body  # the same resource
    assert pauses == [0.05]


def test_a_request_not_decided_in_time_is_the_usual_202_after_the_wait(event):
    slept = _never_decided()
    response = event.request("POST", "/events/e1/registrations", {"userId": "ada"}, {"Prefer": "wait=2"})
    assert response.status_code == 202 and "Preference-Applied" not in response.headers
    assert response.headers["Retry-After"] == "1"
    assert sum(slept) == pytest.approx(2.0) and max(slept) == 0.5  # backs off to 500 ms reads


def test_a_wait_longer_than_ten_seconds_waits_ten(event):
    slept = _never_decided()
    event.request("DELETE", "/events/e1/registrations/ada", headers={"Prefer": "wait=3600"})
    assert sum(slept) == pytest.approx(10.0)


def test_cancel_and_a_capacity_change_wait_too(event):
    _worker_runs_while_the_api_waits()
    event.request("POST", "/events/e1/registrations", {"userId": "ada"}, {"Prefer": "wait=1"})
    cancelled = event.request("DELETE", "/events/e1/registrations/ada", headers={"Prefer": "wait=1"})
    assert cancelled.status_code == 200 and event.json(cancelled)["outcome"]["type"] == "cancelled"
    grown = event.request("PUT", "/events/e1", {"capacity": 4}, {"Prefer": "respond-async, wait=1"})
    assert grown.status_code == 200
    assert event.json(grown)["outcome"] == {"type": "capacity_changed", "capacity": 4}


def test_get_request_long_polls_with_wait(event):
    accepted = event.request("POST", "/events/e1/registrations", {"userId": "ada"})
    assert accepted.status_code == 202
    _worker_runs_while_the_api_waits()
    polled = event.request("GET", accepted.headers["Location"] + "?wait=3")
    assert polled.status_code == 200 and event.json(polled)["status"] == "completed"
    assert "Retry-After" not in polled.headers


@pytest.mark.parametrize("wait", ["11", "-1", "x", "²", "1.5", "9" * 5000])
def test_an_invalid_wait_parameter_is_422_naming_it(event, wait):
    response = event.request("GET", f"/requests/r-1?wait={wait}")
    assert response.status_code == 422
    assert [e["field"] for e in event.json(response)["errors"]] == ["wait"]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("wait=3", 3),
        ("respond-async, wait=10", 10),
        ("WAIT = 7", 7),
        ("wait=99", 10),
        ("wait=0", 0),
        ("wait=abc", 0),
        ("wait=²", 0),
        ("handling=lenient", 0),
        (None, 0),
        ("wait=" + "9" * 500, 0),
    ],
)
def test_the_prefer_header_is_read_leniently(header, seconds):
    assert preferred_wait(header) == seconds


class Lambda:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Route:
    def __init__(self, context: object) -> None:
        self.lambda_context = context


def test_a_wait_stays_inside_what_the_api_lambda_has_left():
    from chalicelib.shared.http import WAIT_MARGIN_SECONDS, time_to_wait

    assert time_to_wait(Route(Lambda(15_000))) == 15 - WAIT_MARGIN_SECONDS
    assert time_to_wait(Route(Lambda(1_000))) == 0  # no time left: answer 202 at once
    assert time_to_wait(Route(None)) == float("inf")  # no Lambda: only the 10 s cap applies


def test_prefer_wait_is_cut_to_the_time_left():
    from chalicelib.registrations.ports import RequestRecord
    from chalicelib.registrations.wire import accepted_or_decided

    record = RequestRecord("r1", "register", "e1", "ada", "pending", "t")
    waited: list[float] = []

    def decided_at_once(pending: RequestRecord, seconds: float) -> RequestRecord:
        waited.append(seconds)
        return replace(pending, status="completed", outcome={"type": "confirmed"})

    body, status, headers = accepted_or_decided(record, "wait=10", decided_at_once, most=4.5)
    assert (status, waited, headers["Preference-Applied"]) == (200, [4], "wait=4")
    assert body["outcome"] == {"type": "confirmed"}
    assert accepted_or_decided(record, "wait=10", decided_at_once, most=0.5)[1] == 202  # no time: no wait
