"""Registration routes through chalice.test.Client, on in-memory adapters."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.registrations import wire
from chalicelib.registrations.lanes import LaneProgress
from chalicelib.shared.caller import Caller
from tests.fakes import FixedClock, bearer


@pytest.fixture
def seeded(api):
    api.request(
        "POST",
        "/events",
        {"eventId": "e1", "title": "t", "date": "2026-01-01", "capacity": 1, "waitlistEnabled": True},
    )
    api.request("POST", "/users", {"userId": "ada", "name": "Ada"})
    return api


def sent():
    return bootstrap.services().registrations.submitter.queue.sent


def test_register_is_accepted_queued_in_the_events_group_and_pollable(seeded):
    response = seeded.request("POST", "/events/e1/registrations", {"userId": "ada"})
    assert response.status_code == 202
    body = seeded.json(response)
    assert body["status"] == "pending" and body["type"] == "register"
    assert response.headers["Location"] == f"/requests/{body['requestId']}"
    assert response.headers["Retry-After"] == "1"
    [message] = sent()
    assert (message.eventId, message.userId, message.requestId) == ("e1", "ada", body["requestId"])

    polled = seeded.request("GET", response.headers["Location"])
    assert polled.status_code == 200 and polled.headers["Retry-After"] == "1"
    assert seeded.json(polled) == body


def test_unknown_event_or_an_attendee_without_a_profile_is_404_and_nothing_is_queued(seeded):
    assert seeded.request("POST", "/events/nope/registrations", {"userId": "ada"}).status_code == 404
    assert seeded.request("DELETE", "/events/nope/registrations/ada").status_code == 404
    newcomer = bearer("newcomer")
    assert seeded.request("POST", "/events/e1/registrations", {}, headers=newcomer).status_code == 404
    assert sent() == []


def test_an_owner_is_never_told_whether_a_user_id_exists(seeded):
    """Registering or cancelling someone else answers the same for a known and an unknown id."""
    answers = []
    for user in ("ada", "nobody"):
        registered = seeded.request("POST", "/events/e1/registrations", {"userId": user})
        cancelled = seeded.request("DELETE", f"/events/e1/registrations/{user}")
        body = seeded.json(registered)
        answers.append(
            (registered.status_code, cancelled.status_code, body["status"], body["userId"] == user)
        )
    assert answers[0] == answers[1] == (202, 202, "pending", True)


def test_the_attendee_list_shows_contact_details_only_of_who_registered_themselves(seeded):
    seeded.request("POST", "/users", {"userId": "bob", "name": "Bob", "email": "bob@example.org"})
    queries = bootstrap.services().registrations.queries
    queries.rows += [
        {"eventId": "e1", "userId": "ada", "status": "confirmed", "registeredBy": "ada"},
        {"eventId": "e1", "userId": "bob", "status": "confirmed", "registeredBy": "owner"},
        {"eventId": "e1", "userId": "cy", "status": "confirmed", "registeredBy": None},  # an import
    ]
    rows = seeded.json(seeded.request("GET", "/events/e1/registrations"))["items"]
    assert [(r["userId"], r.get("name"), r.get("email")) for r in rows] == [
        ("ada", "Ada", None),
        ("bob", None, None),
        ("cy", None, None),
    ]
    assert all("registeredBy" not in r for r in rows)


@pytest.mark.parametrize("status", ["draft", "closed", "cancelled"])
def test_an_event_that_is_not_active_is_409_event_not_open(seeded, status):
    seeded.request("PUT", "/events/e1", {"status": status})
    response = seeded.request("POST", "/events/e1/registrations", {"userId": "ada"})
    assert response.status_code == 409
    assert seeded.json(response)["type"].endswith("/event-not-open")


@pytest.mark.parametrize(
    "body", [{"userId": ""}, {"userId": "a b"}, {"userId": "ada", "extra": 1}, {"userId": 5}, []]
)
def test_invalid_registration_bodies_are_422(seeded, body):
    assert seeded.request("POST", "/events/e1/registrations", body).status_code == 422


def test_cancel_is_accepted_through_the_same_group(seeded):
    response = seeded.request("DELETE", "/events/e1/registrations/ada")
    assert response.status_code == 202
    assert seeded.json(response)["type"] == "cancel"
    assert [(m.type, m.eventId) for m in sent()] == [("cancel", "e1")]


def test_idempotency_key_replays_the_first_answer(seeded):
    headers = {"Idempotency-Key": "k-1"}
    first = seeded.json(seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, headers))
    again = seeded.json(seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, headers))
    assert again["requestId"] == first["requestId"]
    assert {m.requestId for m in sent()} == {first["requestId"]}


def test_a_retry_of_a_request_that_was_recorded_but_never_sent_sends_it(seeded):
    """A crash between recording and sending must not leave the request pending forever."""
    queue = bootstrap.services().registrations.submitter.queue
    original_send = queue.send
    queue.send = lambda message: (_ for _ in ()).throw(SystemExit("process died before the send"))
    headers = {"Idempotency-Key": "k-crash"}
    with pytest.raises(SystemExit):
        seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, headers)
    [record] = bootstrap.services().registrations.requests.records.values()
    assert record.status == "pending" and sent() == []

    queue.send = original_send
    retry = seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, headers)
    assert retry.status_code == 202 and seeded.json(retry)["requestId"] == record.request_id
    assert [(m.requestId, m.userId) for m in sent()] == [(record.request_id, "ada")]


def test_idempotency_key_with_a_different_body_is_422(seeded):
    seeded.request("POST", "/users", {"userId": "bob", "name": "Bob"})
    headers = {"Idempotency-Key": "k-2"}
    seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, headers)
    response = seeded.request("POST", "/events/e1/registrations", {"userId": "bob"}, headers)
    assert response.status_code == 422
    assert seeded.json(response)["type"].endswith("/idempotency-key-reused")


def test_an_unreachable_queue_is_503_and_the_request_is_failed_not_pending(seeded):
    queue = bootstrap.services().registrations.submitter.queue
    queue.available = False
    response = seeded.request(
        "POST", "/events/e1/registrations", {"userId": "ada"}, {"Idempotency-Key": "k-3"}
    )
    assert response.status_code == 503
    [record] = bootstrap.services().registrations.requests.records.values()
    assert (record.status, record.failure) == ("failed", "queue_unavailable")
    queue.available = True  # the same key may be retried once the queue is back
    retry = seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, {"Idempotency-Key": "k-3"})
    assert retry.status_code == 202 and seeded.json(retry)["requestId"] != record.request_id


def test_unknown_request_is_404(seeded):
    assert seeded.request("GET", "/requests/nope").status_code == 404


def test_capacity_change_goes_through_the_queue(seeded):
    response = seeded.request("PUT", "/events/e1", {"capacity": 5, "title": "bigger"}, {"If-Match": '"1"'})
    assert response.status_code == 202
    [message] = sent()
    assert (message.type, message.capacity, message.changes) == ("change_capacity", 5, {"title": "bigger"})
    stale = seeded.request("PUT", "/events/e1", {"capacity": 6}, {"If-Match": '"7"'})
    assert stale.status_code == 412


def test_delete_queues_the_purge_and_hides_the_event(seeded):
    assert seeded.request("DELETE", "/events/e1").status_code == 204
    assert [m.type for m in sent()] == ["purge_event"]
    assert seeded.request("GET", "/events/e1").status_code == 404


def test_delete_with_the_queue_down_is_503_and_keeps_the_event(seeded):
    bootstrap.services().registrations.submitter.queue.available = False
    assert seeded.request("DELETE", "/events/e1").status_code == 503
    assert seeded.request("GET", "/events/e1").status_code == 200


def test_registration_listings_page_and_validate(seeded):
    queries = bootstrap.services().registrations.queries
    queries.rows += [{"eventId": "e1", "userId": f"u{i}", "status": "confirmed"} for i in range(3)]
    first = seeded.json(seeded.request("GET", "/events/e1/registrations?limit=2"))
    assert [r["userId"] for r in first["items"]] == ["u0", "u1"]
    rest = seeded.json(
        seeded.request("GET", f"/events/e1/registrations?limit=2&cursor={first['nextCursor']}")
    )
    assert [r["userId"] for r in rest["items"]] == ["u2"] and rest["nextCursor"] is None
    wrong_listing = seeded.request(
        "GET", f"/events/e1/registrations?status=waitlisted&cursor={first['nextCursor']}"
    )
    assert wrong_listing.status_code == 400
    assert seeded.request("GET", "/events/e1/registrations?status=gone").status_code == 422
    assert seeded.request("GET", "/events/nope/registrations").status_code == 404
    assert seeded.request("GET", "/users/nobody/registrations").status_code == 404
    assert seeded.request("GET", "/users/ada/waitlists").status_code == 200


@pytest.mark.parametrize("key", ["k" * 256, "bad\nkey"])
def test_an_invalid_idempotency_key_is_422_naming_the_header(seeded, key):
    response = seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, {"Idempotency-Key": key})
    assert response.status_code == 422
    assert [e["field"] for e in seeded.json(response)["errors"]] == ["Idempotency-Key"]
    assert sent() == []


def test_an_idempotency_key_of_255_characters_is_accepted(seeded):
    headers = {"Idempotency-Key": "k" * 255}
    assert seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, headers).status_code == 202


def test_without_a_user_id_the_caller_registers_themselves(seeded):
    ada = bearer("ada")
    response = seeded.request("POST", "/events/e1/registrations", {}, headers=ada)
    assert response.status_code == 202, seeded.json(response)
    assert seeded.json(response)["userId"] == "ada"
    [message] = sent()
    assert (message.userId, message.requestedBy) == ("ada", "ada")


def test_an_idempotency_key_is_bound_to_the_concrete_path(seeded):
    """The same key for another event is another request: 422, never the first one's answer."""
    seeded.request("POST", "/events", {"eventId": "e2", "title": "t", "date": "2026-01-01", "capacity": 1})
    key = {"Idempotency-Key": "same-key"}
    first = seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, headers=key)
    again = seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}, headers=key)
    other = seeded.request("POST", "/events/e2/registrations", {"userId": "ada"}, headers=key)
    assert first.status_code == again.status_code == 202
    assert seeded.json(again)["requestId"] == seeded.json(first)["requestId"]
    assert other.status_code == 422, seeded.json(other)
    assert seeded.json(other)["type"].endswith("idempotency-key-reused")
    # a retry of a still-pending request re-sends it (deduplicated by its id); e2 got nothing
    assert {(m.eventId, m.requestId) for m in sent()} == {("e1", seeded.json(first)["requestId"])}


def test_idempotency_keys_are_scoped_to_the_caller(seeded):
    seeded.request("POST", "/users", {"userId": "bob", "name": "Bob"})
    key = "shared-key"
    ada = seeded.request(
        "POST", "/events/e1/registrations", {}, headers={**bearer("ada"), "Idempotency-Key": key}
    )
    bob = seeded.request(
        "POST", "/events/e1/registrations", {}, headers={**bearer("bob"), "Idempotency-Key": key}
    )
    assert ada.status_code == bob.status_code == 202
    assert seeded.json(ada)["requestId"] != seeded.json(bob)["requestId"]
    assert sorted(m.userId for m in sent()) == ["ada", "bob"]


def test_no_subject_and_key_spell_another_callers_scope():
    class Request:
        method, path, headers = "POST", "/events/{eventId}/registrations", {"idempotency-key": "k"}
        uri_params = {"eventId": "e1"}

    def scope(subject: str, key: str) -> str:
        Request.headers = {"idempotency-key": key}
        found = wire.idempotency(Request, {}, Caller(subject, frozenset()))
        assert found is not None
        return found.key

    assert scope("a#b", "k") != scope("a", "b#k")
    assert scope("ada", "k") == scope("ada", "k")


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_accepting_or_declining_an_offer_is_queued_in_the_events_group(seeded, answer):
    response = seeded.request("POST", f"/events/e1/registrations/ada/{answer}", headers=bearer("ada"))
    assert response.status_code == 202
    body = seeded.json(response)
    assert body["type"] == f"{answer}_offer" and body["status"] == "pending" and body["userId"] == "ada"
    assert response.headers["Location"] == f"/requests/{body['requestId']}"
    [message] = sent()
    assert (message.type, message.eventId, message.userId) == (f"{answer}_offer", "e1", "ada")
    assert message.createdAt == body["createdAt"]  # an accept is on time by when it was made


@pytest.mark.parametrize(
    "path", ["/events/nope/registrations/ada/accept", "/events/e1/registrations/newcomer/decline"]
)
def test_answering_for_an_unknown_event_or_without_a_profile_is_404_and_nothing_is_queued(seeded, path):
    response = seeded.request("POST", path, headers=bearer(path.split("/")[4]))
    assert response.status_code == 404
    assert sent() == []


def test_offer_listings_take_their_status_and_refuse_others(seeded):
    assert seeded.request("GET", "/events/e1/registrations?status=offered").status_code == 200
    assert seeded.request("GET", "/users/ada/registrations?status=offer_expired").status_code == 200
    for path in ["/events/e1/registrations?status=declined", "/users/ada/registrations?status=waiting"]:
        response = seeded.request("GET", path)
        assert response.status_code == 422
        assert seeded.json(response)["errors"][0]["field"] == "status"


@pytest.mark.parametrize("taker", ["promotedUserId", "offeredUserId"])
def test_who_took_a_freed_seat_is_the_owners_to_know_not_the_leavers(api, taker):
    olga = bearer("olga", "organizers")
    event = {"eventId": "e2", "title": "t", "date": "2026-01-01", "capacity": 1, "waitlistEnabled": True}
    assert api.request("POST", "/events", event, headers=olga).status_code == 201
    api.request("POST", "/users", {"userId": "ada", "name": "Ada"})
    cancelled = api.request("DELETE", "/events/e2/registrations/ada", headers=bearer("ada"))
    request_id = api.json(cancelled)["requestId"]
    requests = bootstrap.services().registrations.requests
    requests.records[request_id] = replace(
        requests.get(request_id),
        status="completed",
        outcome={"type": "cancelled", taker: "bob"},
        completed_at="2026-01-01T00:00:01Z",
    )

    def outcome(headers: dict[str, str] | None) -> dict:
        response = api.request("GET", f"/requests/{request_id}", headers=headers)
        assert response.status_code == 200
        return api.json(response)["outcome"]

    assert outcome(bearer("ada")) == {"type": "cancelled"}
    assert outcome(olga) == outcome(None) == {"type": "cancelled", taker: "bob"}  # owner; admin


def test_a_users_registrations_show_every_active_one_by_default_offers_first(seeded):
    queries = bootstrap.services().registrations.queries
    queries.rows += [
        {"eventId": "e1", "userId": "ada", "status": "confirmed"},
        {"eventId": "e2", "userId": "ada", "status": "waitlisted", "position": 3},
        {"eventId": "e3", "userId": "ada", "status": "offered", "offerExpiresAt": "2027-01-01T00:00:00Z"},
        {"eventId": "e4", "userId": "ada", "status": "declined"},
        {"eventId": "e1", "userId": "bob", "status": "confirmed"},
    ]
    shown = seeded.json(seeded.request("GET", "/users/ada/registrations"))["items"]
    assert [(r["eventId"], r["status"]) for r in shown] == [
        ("e3", "offered"),
        ("e1", "confirmed"),
        ("e2", "waitlisted"),
    ]
    assert shown[0]["offerExpiresAt"] == "2027-01-01T00:00:00Z"
    narrowed = seeded.json(seeded.request("GET", "/users/ada/registrations?status=waitlisted"))["items"]
    assert [r["eventId"] for r in narrowed] == ["e2"]
    active = seeded.json(seeded.request("GET", "/users/ada/registrations?status=active"))["items"]
    assert active == shown


def test_a_pending_request_says_its_place_in_line_and_when_to_ask_again(seeded):
    for user in ("bob", "cy", "di"):
        seeded.request("POST", "/users", {"userId": user, "name": user.title()})
    seats = bootstrap.services().decisions.store
    seats.add_event("e1", capacity=1, waitlist_enabled=True)
    submitter = bootstrap.services().registrations.submitter
    submitter.clock = clock = FixedClock("2026-01-01T00:00:10.000000Z")
    # the worker last decided a command accepted at 00:00:00, when 1 was accepted a second
    seats.events["e1"]["lane"] = LaneProgress("2026-01-01T00:00:00.000000Z", 1.0, 0.5, "2026-01-01T00:00:10Z")
    answers = []
    for user, accepted in (("bob", "00:00:01"), ("cy", "00:00:02"), ("di", "00:00:03")):
        clock.value = f"2026-01-01T{accepted}.000000Z"
        answers.append(seeded.request("POST", "/events/e1/registrations", {}, headers=bearer(user)))
    bodies = [seeded.json(a) for a in answers]
    assert [b["aheadInLine"] for b in bodies] == [1, 2, 3]  # 1, 2 and 3 s after the last decided
    assert [a.headers["Retry-After"] for a in answers] == ["4", "6", "8"]  # (ahead + 1) / 0.5 a second
    assert all(b["estimatedDecisionAt"].endswith("Z") for b in bodies)
    polled = seeded.request("GET", answers[2].headers["Location"], headers=bearer("di"))
    assert seeded.json(polled)["aheadInLine"] == 3 and polled.headers["Retry-After"] == "8"
    seats.events["e1"]["lane"] = LaneProgress("2026-01-01T00:00:02.000000Z", 1.0, 0.5, "2026-01-01T00:00:10Z")
    polled = seeded.request("GET", answers[2].headers["Location"], headers=bearer("di"))
    assert seeded.json(polled)["aheadInLine"] == 1 and polled.headers["Retry-After"] == "4"


def test_a_decided_request_has_no_place_and_no_retry_after(seeded):
    made = seeded.json(seeded.request("POST", "/events/e1/registrations", {"userId": "ada"}))
    requests = bootstrap.services().registrations.requests
    done = replace(requests.get(made["requestId"]), status="completed", outcome={"type": "confirmed"})
    requests.records[made["requestId"]] = done
    polled = seeded.request("GET", f"/requests/{made['requestId']}")
    body = seeded.json(polled)
    assert "aheadInLine" not in body and "estimatedDecisionAt" not in body
    assert "Retry-After" not in polled.headers


def test_one_pending_command_per_person_and_event(seeded):
    first = seeded.request("POST", "/events/e1/registrations", {}, headers=bearer("ada"))
    again = seeded.request("POST", "/events/e1/registrations", {}, headers=bearer("ada"))
    cancel = seeded.request("DELETE", "/events/e1/registrations/ada", headers=bearer("ada"))
    on_behalf = seeded.request("POST", "/events/e1/registrations", {"userId": "ada"})  # the owner, for her
    for answer in (again, cancel, on_behalf):
        assert answer.status_code == 202
        assert answer.headers["Location"] == first.headers["Location"]
        assert seeded.json(answer)["requestId"] == seeded.json(first)["requestId"]
        assert seeded.json(answer)["type"] == "register"
    assert len(sent()) == 1, "queued once"

    requests = bootstrap.services().registrations.requests
    first_id = seeded.json(first)["requestId"]
    requests.records[first_id] = replace(requests.get(first_id), status="completed")  # decided
    cancelled = seeded.request("DELETE", "/events/e1/registrations/ada", headers=bearer("ada"))
    assert seeded.json(cancelled)["type"] == "cancel" and seeded.json(cancelled)["requestId"] != first_id
    assert [m.type for m in sent()] == ["register", "cancel"]


def test_a_pending_command_the_lane_passed_by_long_ago_is_failed_and_its_mark_taken_over(seeded):
    """The API died between recording a registration and sending it: the person is not held up
    by it once the event's lane has decided commands accepted a minute after it."""
    seats = bootstrap.services().decisions.store
    seats.add_event("e1", capacity=1, waitlist_enabled=True)
    first = seeded.json(seeded.request("POST", "/events/e1/registrations", {}, headers=bearer("ada")))
    seats.events["e1"]["lane"] = LaneProgress(first["createdAt"], 1.0, 1.0, first["createdAt"])
    again = seeded.json(seeded.request("POST", "/events/e1/registrations", {}, headers=bearer("ada")))
    assert again["requestId"] == first["requestId"], "the lane has not passed it by yet"
    later = datetime.fromisoformat(first["createdAt"].replace("Z", "+00:00")) + timedelta(seconds=61)
    passed = later.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    seats.events["e1"]["lane"] = LaneProgress(passed, 1.0, 1.0, passed)
    anew = seeded.json(seeded.request("POST", "/events/e1/registrations", {}, headers=bearer("ada")))
    assert anew["requestId"] != first["requestId"] and anew["status"] == "pending"
    lost = seeded.json(seeded.request("GET", f"/requests/{first['requestId']}", headers=bearer("ada")))
    assert (lost["status"], lost["failure"]) == ("failed", "not_queued")
    assert [m.requestId for m in sent()] == [first["requestId"], anew["requestId"]]


def test_the_pending_rule_is_per_event_and_leaves_offer_answers_alone(seeded):
    seeded.request("POST", "/events", {"eventId": "e2", "title": "t", "date": "2026-01-01", "capacity": 1})
    seeded.request("POST", "/events/e1/registrations", {}, headers=bearer("ada"))
    other_event = seeded.request("POST", "/events/e2/registrations", {}, headers=bearer("ada"))
    accept = seeded.request("POST", "/events/e1/registrations/ada/accept", headers=bearer("ada"))
    assert seeded.json(other_event)["eventId"] == "e2" and seeded.json(accept)["type"] == "accept_offer"
    assert [m.type for m in sent()] == ["register", "register", "accept_offer"]


def test_a_key_taken_in_a_race_leaves_the_mark_on_the_first_request(seeded, monkeypatch):
    headers = {**bearer("ada"), "Idempotency-Key": "k1"}
    first = seeded.json(seeded.request("POST", "/events/e1/registrations", {}, headers=headers))
    requests = bootstrap.services().registrations.requests
    requests.records[first["requestId"]] = replace(requests.get(first["requestId"]), status="completed")
    # the second call looks for the key before the first claimed it, then loses the claim
    monkeypatch.setattr(requests, "find_idempotent", lambda key: None)
    again = seeded.json(seeded.request("POST", "/events/e1/registrations", {}, headers=headers))
    assert again["requestId"] == first["requestId"]
    marks = requests.marks
    assert marks[("e1", "ada")].request_id == first["requestId"]
