"""Every events route and every error it can answer, through chalice.test.Client."""

from __future__ import annotations

import pytest

from chalicelib import bootstrap
from chalicelib.shared.encoding import from_b64url
from chalicelib.shared.http import MAX_BODY_BYTES
from tests.fakes import token

EVENT = {"title": "PyCon", "date": "2026-06-01", "capacity": 2, "waitlistEnabled": True}


def problem_fields(api, response) -> list[str]:
    assert response.headers["Content-Type"] == "application/problem+json"
    return [e["field"] for e in api.json(response).get("errors", [])]


def test_create_returns_the_event_with_location_and_etag(api):
    response = api.request("POST", "/events", {**EVENT, "eventId": "pycon-2026"})
    assert response.status_code == 201
    body = api.json(response)
    assert response.headers["Location"] == "/events/pycon-2026"
    assert response.headers["ETag"] == '"1"'
    assert body["eventId"] == "pycon-2026"
    assert body["status"] == "active"
    assert (body["confirmedCount"], body["waitlistCount"], body["availableSeats"]) == (0, 0, 2)
    assert body["createdAt"] and body["updatedAt"] and body["version"] == 1


def test_create_generates_an_id_when_absent(api):
    body = api.json(api.request("POST", "/events", EVENT))
    assert body["eventId"]
    assert api.request("GET", f"/events/{body['eventId']}").status_code == 200


def test_existing_event_id_is_a_conflict(api):
    api.request("POST", "/events", {**EVENT, "eventId": "dup"})
    response = api.request("POST", "/events", {**EVENT, "eventId": "dup"})
    assert response.status_code == 409
    assert api.json(response)["type"].endswith("/conflict")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 5001}, "description"),
        ({"location": "x" * 501}, "location"),
        ({"organizer": "x" * 201}, "organizer"),
        ({"date": "next tuesday"}, "date"),
        ({"date": "2026-13-01"}, "date"),
        ({"capacity": -1}, "capacity"),
        ({"capacity": 1_000_001}, "capacity"),
        ({"capacity": "10"}, "capacity"),
        ({"capacity": 2.5}, "capacity"),
        ({"status": "open"}, "status"),
        ({"waitlistEnabled": "yes"}, "waitlistEnabled"),
        ({"eventId": "has space"}, "eventId"),
        ({"eventId": "x" * 65}, "eventId"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(api, change, field):
    response = api.request("POST", "/events", {**EVENT, **change})
    assert response.status_code == 422
    assert field in problem_fields(api, response)


def test_missing_required_fields_are_all_reported(api):
    response = api.request("POST", "/events", {})
    assert response.status_code == 422
    assert set(problem_fields(api, response)) == {"title", "date", "capacity"}


def test_limits_at_the_boundary_are_accepted(api):
    body = {
        **EVENT,
        "title": "t" * 200,
        "description": "d" * 5000,
        "capacity": 1_000_000,
        "eventId": "e" * 64,
        "date": "2026-06-01T09:30:00+02:00",
    }
    assert api.request("POST", "/events", body).status_code == 201


def test_malformed_json_is_400(api):
    response = api.request("POST", "/events", "{not json")
    assert response.status_code == 400
    assert api.json(response)["type"].endswith("/malformed-json")


def test_a_json_array_is_422(api):
    response = api.request("POST", "/events", "[1, 2]")
    assert response.status_code == 422
    assert problem_fields(api, response) == ["body"]


def test_non_json_content_type_is_415(api):
    response = api.request("POST", "/events", "title=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_body_over_one_megabyte_is_413(api):
    big = '{"title": "' + "x" * MAX_BODY_BYTES + '"}'
    response = api.request("POST", "/events", big)
    assert response.status_code == 413
    assert api.json(response)["status"] == 413


def test_unknown_event_is_404_problem(api):
    for method in ("GET", "PUT", "DELETE"):
        response = api.request(method, "/events/nope", {"title": "x"} if method == "PUT" else None)
        assert response.status_code == 404, method
        assert api.json(response)["title"] == "Not Found"


def test_update_changes_only_given_fields_and_bumps_version(api):
    api.request("POST", "/events", {**EVENT, "eventId": "e1"})
    response = api.request("PUT", "/events/e1", {"title": "PyCon US", "location": "Pittsburgh"})
    assert response.status_code == 200
    body = api.json(response)
    assert (body["title"], body["location"], body["capacity"]) == ("PyCon US", "Pittsburgh", 2)
    assert body["version"] == 2 and response.headers["ETag"] == '"2"'


def test_update_rejects_event_id_nulls_and_unknown_fields(api):
    api.request("POST", "/events", {**EVENT, "eventId": "e1"})
    for body, field in (({"eventId": "e2"}, "eventId"), ({"title": None}, "title"), ({"x": 1}, "x")):
        response = api.request("PUT", "/events/e1", body)
        assert response.status_code == 422
        assert field in problem_fields(api, response)


def test_update_with_stale_if_match_is_412(api):
    api.request("POST", "/events", {**EVENT, "eventId": "e1"})
    api.request("PUT", "/events/e1", {"title": "v2"})
    stale = api.request("PUT", "/events/e1", {"title": "v3"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    fresh = api.request("PUT", "/events/e1", {"title": "v3"}, headers={"If-Match": '"2"'})
    assert fresh.status_code == 200


def test_delete_is_204_then_404(api):
    api.request("POST", "/events", {**EVENT, "eventId": "e1"})
    assert api.request("DELETE", "/events/e1").status_code == 204
    assert api.request("GET", "/events/e1").status_code == 404


def test_list_orders_by_date_filters_by_status_and_pages(api):
    for day, status in ((3, "active"), (1, "draft"), (2, "active"), (4, "closed"), (5, "active")):
        api.request(
            "POST", "/events", {**EVENT, "eventId": f"d{day}", "date": f"2026-06-0{day}", "status": status}
        )
    all_ids = [e["eventId"] for e in api.json(api.request("GET", "/events"))["items"]]
    assert all_ids == ["d1", "d2", "d3", "d4", "d5"]

    first = api.json(api.request("GET", "/events?status=active&limit=2"))
    assert [e["eventId"] for e in first["items"]] == ["d2", "d3"]
    second = api.json(api.request("GET", f"/events?status=active&limit=2&cursor={first['nextCursor']}"))
    assert [e["eventId"] for e in second["items"]] == ["d5"]
    assert second["nextCursor"] is None


def test_a_page_cursor_reveals_nothing_of_an_event_the_caller_may_not_see(api):
    """The listing filters drafts after the query, so the last key it read may be a draft's: the
    cursor an anonymous caller gets must not carry its id or date."""
    api.request("POST", "/events", {**EVENT, "eventId": "public-1", "date": "2026-06-01"})
    api.request(
        "POST", "/events", {**EVENT, "eventId": "secret-launch", "date": "2026-06-02", "status": "draft"}
    )
    api.request("POST", "/events", {**EVENT, "eventId": "public-2", "date": "2026-06-03"})
    anonymous = {"Authorization": None}
    first = api.json(api.request("GET", "/events?limit=2", headers=anonymous))
    assert [e["eventId"] for e in first["items"]] == ["public-1"]
    raw = from_b64url(first["nextCursor"])
    assert b"secret-launch" not in raw and b"2026-06-02" not in raw
    rest = api.json(api.request("GET", f"/events?limit=2&cursor={first['nextCursor']}", headers=anonymous))
    assert [e["eventId"] for e in rest["items"]] == ["public-2"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=ten", "status=open"])
def test_list_rejects_bad_parameters(api, query):
    response = api.request("GET", f"/events?{query}")
    assert response.status_code == 422


@pytest.mark.parametrize("cursor", ["garbage", "AAAA", "eyJhZnRlciI6ICJ4In0"])
def test_tampered_cursor_is_400(api, cursor):
    response = api.request("GET", f"/events?cursor={cursor}")
    assert response.status_code == 400
    assert api.json(response)["type"].endswith("/invalid-cursor")


def test_cors_headers_on_every_answer(api):
    ok = api.request("GET", "/events")
    missing = api.request("GET", "/events/nope")
    for response in (ok, missing):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    allowed = ok.headers["Access-Control-Allow-Headers"].split(",")
    assert {"If-Match", "Idempotency-Key", "Authorization"} <= set(allowed)  # a browser may send a token


def test_unsupported_method_is_405_problem(api):
    response = api.request("PATCH", "/events")
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("date", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_date_without_a_utc_instant_is_422_on_create_and_update(api, date):
    created = api.request("POST", "/events", {"title": "t", "date": date, "capacity": 1})
    assert created.status_code == 422 and api.json(created)["errors"][0]["field"] == "date"
    api.request("POST", "/events", {"eventId": "e", "title": "t", "date": "2026-01-01", "capacity": 1})
    for body in ({"date": date}, {"capacity": 5, "date": date}):  # the second would have been queued
        changed = api.request("PUT", "/events/e", body)
        assert changed.status_code == 422 and api.json(changed)["errors"][0]["field"] == "date"


def test_a_retried_delete_after_a_crash_before_the_purge_was_queued_finishes_the_deletion(api):
    api.request("POST", "/events", {"eventId": "e", "title": "t", "date": "2026-01-01", "capacity": 1})
    services = bootstrap.services()
    services.events.events.mark_deleting("e")  # the first DELETE died right after this
    assert services.registrations.submitter.queue.sent == []
    assert api.request("DELETE", "/events/e").status_code == 204
    [purge] = services.registrations.submitter.queue.sent
    assert (purge.type, purge.eventId) == ("purge_event", "e")
    assert api.request("GET", "/events/e").status_code == 404
    someone = {"Authorization": f"Bearer {token('eve', 'organizers')}"}
    assert api.request("DELETE", "/events/e", headers=someone).status_code == 404


def test_an_unreachable_or_throttling_aws_is_a_503_to_retry(api):
    from botocore.exceptions import ClientError, EndpointConnectionError

    repository = bootstrap.services().events.events

    def unreachable(event_id):
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    repository.get = unreachable
    response = api.request("GET", "/events/e")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert api.json(response)["type"].endswith("/service-unavailable")

    def throttled(event_id):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetItem")

    repository.get = throttled
    assert api.request("GET", "/events/e").status_code == 503


def test_a_malformed_request_to_aws_is_still_a_500_not_a_retry(api):
    from botocore.exceptions import ClientError

    def bug(event_id):
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "key too long"}}, "GetItem")

    bootstrap.services().events.events.get = bug
    assert api.request("GET", "/events/e").status_code == 500


def test_a_capacity_change_keeps_its_if_match_until_it_is_decided(api):
    api.request("POST", "/events", {"eventId": "e", "title": "t", "date": "2026-01-01", "capacity": 1})
    assert api.request("PUT", "/events/e", {"capacity": 4}, headers={"If-Match": '"1"'}).status_code == 202
    assert api.request("PUT", "/events/e", {"capacity": 6}).status_code == 202
    with_match, without = bootstrap.services().registrations.submitter.queue.sent
    assert (with_match.capacity, with_match.expectedVersion) == (4, 1)
    assert (without.capacity, without.expectedVersion) == (6, None)
    assert api.request("PUT", "/events/e", {"capacity": 4}, headers={"If-Match": '"7"'}).status_code == 412


@pytest.mark.parametrize(
    "setting",
    [
        {"ttlSeconds": 9},
        {"ttlSeconds": 604_801},
        {"ttlSeconds": True},
        {"ttlSeconds": "60"},
        {"ttlSeconds": 60.5},
        {},
        {"ttlSeconds": 60, "extra": 1},
        60,
    ],
)
def test_a_waitlist_offer_setting_out_of_bounds_is_422_naming_it(api, setting):
    for method, path, body in [
        ("POST", "/events", {**EVENT, "waitlistOffer": setting}),
        ("PUT", "/events/held", {"waitlistOffer": setting}),
    ]:
        if method == "PUT":
            api.request("POST", "/events", {**EVENT, "eventId": "held"})
        response = api.request(method, path, body)
        assert response.status_code == 422, (method, setting)
        assert any(field.startswith("waitlistOffer") for field in problem_fields(api, response))


def test_waitlist_offers_are_set_shown_changed_and_turned_off(api):
    created = api.request(
        "POST", "/events", {**EVENT, "eventId": "held", "waitlistOffer": {"ttlSeconds": 10}}
    )
    body = api.json(created)
    assert body["waitlistOffer"] == {"ttlSeconds": 10} and body["offeredCount"] == 0
    longest = api.json(api.request("PUT", "/events/held", {"waitlistOffer": {"ttlSeconds": 604_800}}))
    assert longest["waitlistOffer"] == {"ttlSeconds": 604_800} and longest["version"] == 2
    off = api.json(api.request("PUT", "/events/held", {"waitlistOffer": None}))
    assert off["waitlistOffer"] is None and off["version"] == 3
    plain = api.json(api.request("POST", "/events", EVENT))
    assert plain["waitlistOffer"] is None  # the default: freed seats are given at once


def test_a_capacity_change_carries_the_offer_setting_to_the_worker(api):
    api.request("POST", "/events", {**EVENT, "eventId": "held"})
    response = api.request("PUT", "/events/held", {"capacity": 5, "waitlistOffer": {"ttlSeconds": 60}})
    assert response.status_code == 202
    [message] = bootstrap.services().registrations.submitter.queue.sent
    assert message.changes == {"waitlistOffer": {"ttlSeconds": 60}}
    command = message.to_command()
    assert (command.edit.sets_offer, command.edit.offer_ttl) == (True, 60)
