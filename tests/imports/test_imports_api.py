"""Every import route and error, through chalice.test.Client on in-memory adapters."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.imports.rows import MAX_BYTES, MAX_ROWS
from tests.fakes import AsCaller
from tests.imports.fakes import Fakes


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    fakes = Fakes()
    bootstrap.use(fakes.services())
    yield fakes
    bootstrap.use(None)


@pytest.fixture
def http(fakes) -> Iterator[object]:
    with Client(app) as client:
        yield AsCaller(client.http)


def _post(
    http, body: bytes | str, content_type: str = "text/csv", path: str = "/events/pycon/imports", **headers
):
    return http.post(path, headers={"Content-Type": content_type, **headers}, body=body)


def _json(response):
    return json.loads(response.body)


def test_post_accepts_a_csv_file_and_queues_the_import(http, fakes):
    response = _post(http, "userId,name\nada,Ada\nbob,Bob\n")
    assert response.status_code == 202
    body = _json(response)
    assert response.headers["Location"] == f"/imports/{body['importId']}"
    assert response.headers["Retry-After"] == "2"
    assert body["status"] == "queued" and body["total"] == 2 and body["dryRun"] is False
    assert fakes.queue.messages == [({"action": "start", "importId": body["importId"]}, 0)]
    [(key, stored)] = fakes.payloads.objects.items()
    assert key.startswith(f"imports/{body['importId']}/") and key.endswith(".csv")
    assert stored == b"userId,name\nada,Ada\nbob,Bob\n"


def test_post_accepts_json_rows_and_a_dry_run(http):
    response = _post(http, json.dumps({"rows": [{"userId": "ada", "name": "Ada"}]}), "application/json")
    assert response.status_code == 202
    dry = _post(http, "userId\nada\n", path="/events/pycon/imports?dryRun=true")
    assert dry.status_code == 202 and _json(dry)["dryRun"] is True


def test_get_shows_progress_with_retry_after_until_finished(http, fakes):
    import_id = _json(_post(http, "userId,name\nada,Ada\n,Nobody\n"))["importId"]
    bootstrap.services().import_processor.run({"importId": import_id}, owner="m1", budget=0.01)
    running = http.get(f"/imports/{import_id}")
    assert running.status_code == 200 and running.headers["Retry-After"] == "2"
    body = _json(running)
    assert (body["status"], body["valid"], body["invalid"], body["enqueued"]) == ("running", 1, 1, 1)
    fakes.imports.decide(import_id, 1, "waitlisted")
    bootstrap.services().import_processor.run({"importId": import_id}, owner="m1", budget=0.01)
    done = http.get(f"/imports/{import_id}")
    assert "Retry-After" not in done.headers
    body = _json(done)
    assert body["status"] == "completed" and body["completedAt"]
    assert (body["decided"], body["confirmed"], body["waitlisted"], body["alreadyRegistered"]) == (1, 0, 1, 0)


def test_errors_are_paginated_with_row_numbers(http, fakes):
    rows = "".join(f"u{n},,bad-email\n" for n in range(1, 46))
    import_id = _json(_post(http, "userId,name,email\n" + rows))["importId"]
    bootstrap.services().import_processor.run({"importId": import_id}, owner="m1", budget=0.01)
    first = http.get(f"/imports/{import_id}/errors?limit=30")
    assert first.status_code == 200
    page = _json(first)
    assert len(page["items"]) == 30 and page["nextCursor"]
    assert page["items"][0] == {"row": 1, "field": "email", "message": "must be a valid email address"}
    rest = _json(http.get(f"/imports/{import_id}/errors?limit=30&cursor={page['nextCursor']}"))
    assert len(rest["items"]) == 15 and rest["nextCursor"] is None
    assert [e["row"] for e in page["items"] + rest["items"]] == list(range(1, 46))


def test_a_cursor_of_another_listing_is_a_400(http, fakes):
    rows = "".join(f"u{n},,bad\n" for n in range(1, 4))
    first = _json(_post(http, "userId,name,email\n" + rows))["importId"]
    second = _json(_post(http, "userId,name,email\n" + rows))["importId"]
    for import_id in (first, second):
        bootstrap.services().import_processor.run({"importId": import_id}, owner="m1", budget=0.01)
    cursor = _json(http.get(f"/imports/{first}/errors?limit=1"))["nextCursor"]
    assert http.get(f"/imports/{second}/errors?cursor={cursor}").status_code == 400
    assert http.get(f"/imports/{first}/errors?cursor=garbage").status_code == 400


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/imports/nope", 404),
        ("/imports/nope/errors", 404),
    ],
)
def test_unknown_imports_are_404(http, path, status):
    response = http.get(path)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"


def test_an_unknown_event_is_a_404(http, fakes):
    response = _post(http, "userId\nada\n", path="/events/nope/imports")
    assert response.status_code == 404 and _json(response)["status"] == 404
    assert fakes.payloads.objects == {} and fakes.queue.messages == []


def test_more_than_100000_rows_or_10_mb_is_a_413(http, fakes):
    too_many = _post(http, "userId\n" + "u\n" * (MAX_ROWS + 1))
    assert too_many.status_code == 413
    assert too_many.headers["Content-Type"] == "application/problem+json"
    too_big = _post(http, b"userId\n" + b"x" * (MAX_BYTES + 1))
    assert too_big.status_code == 413
    json_rows = json.dumps({"rows": [{"userId": "u"}] * (MAX_ROWS + 1)})
    assert _post(http, json_rows, "application/json").status_code == 413
    assert fakes.payloads.objects == {}
    assert _post(http, "userId\n" + "u\n" * MAX_ROWS).status_code == 202


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"]
)
def test_other_media_types_are_a_415(http, content_type):
    response = _post(http, "userId\nada\n", content_type)
    assert response.status_code == 415
    assert _json(response)["type"].endswith("unsupported-media-type")


@pytest.mark.parametrize(
    ("path", "body", "content_type", "field"),
    [
        ("/events/pycon/imports?dryRun=maybe", "userId\nada\n", "text/csv", "dryRun"),
        ("/events/pycon/imports?dryrun=true", "userId\nada\n", "text/csv", "dryrun"),
        ("/events/pycon/imports", "name\nAda\n", "text/csv", "userId"),
        ("/events/pycon/imports", "userId,phone\nada,1\n", "text/csv", "phone"),
        ("/events/pycon/imports", "userId\n", "text/csv", "rows"),
        ("/events/pycon/imports", '{"rows": {}}', "application/json", "rows"),
        ("/events/pycon/imports", '{"rows": [], "x": 1}', "application/json", "x"),
        ("/imports/any/errors?limit=0", "", "text/csv", "limit"),
    ],
)
def test_bad_parameters_and_files_are_a_422_naming_the_field(http, path, body, content_type, field):
    is_listing = path.startswith("/imports")
    response = http.get(path) if is_listing else _post(http, body, content_type, path=path)
    assert response.status_code == 422, response.body
    assert field in [e["field"] for e in _json(response)["errors"]]


def test_malformed_payloads_are_a_400(http):
    assert _post(http, "{oops", "application/json").status_code == 400
    assert _post(http, b"userId\n\xff\n").status_code == 400
    assert _post(http, 'userId\n"ada\n').status_code == 400


def test_an_idempotency_key_returns_the_first_import_and_refuses_another_body(http, fakes):
    first = _post(http, "userId\nada\n", **{"Idempotency-Key": "k1"})
    again = _post(http, "userId\nada\n", **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 202
    assert _json(first)["importId"] == _json(again)["importId"] and len(fakes.queue.messages) == 1
    other = _post(http, "userId\nbob\n", **{"Idempotency-Key": "k1"})
    assert other.status_code == 422 and _json(other)["type"].endswith("idempotency-key-reused")


def test_a_queue_failure_is_a_503_and_marks_the_import_failed(http, fakes):
    from chalicelib.registrations.ports import QueueUnavailable

    def down(message, delay_seconds=0):
        raise QueueUnavailable("down")

    fakes.queue.send = down
    response = _post(http, "userId\nada\n")
    assert response.status_code == 503
    assert [r.status for r in fakes.imports.records.values()] == ["failed"]


def test_two_uploads_racing_for_one_idempotency_key_keep_their_own_bytes(http, fakes):
    """Both pass the "is this key used?" check before either stores its import; the loser is a
    422, and the winner's payload is still the winner's file."""
    real_get, calls = fakes.imports.get, []

    def racing_get(import_id):
        calls.append(import_id)
        return None if len(calls) <= 2 else real_get(import_id)  # both first checks see nothing

    fakes.imports.get = racing_get
    first = _post(http, "userId\nada\n", **{"Idempotency-Key": "k"})
    second = _post(http, "userId\nbob\n", **{"Idempotency-Key": "k"})
    assert first.status_code == 202 and second.status_code == 422
    record = real_get(_json(first)["importId"])
    assert fakes.payloads.get(record.payload_key) == b"userId\nada\n"


def test_upload_true_hands_back_a_presigned_form_and_queues_nothing(http, fakes):
    response = _post(http, b"", path="/events/pycon/imports?upload=true")
    assert response.status_code == 202, response.body
    body = _json(response)
    assert body["status"] == "awaiting_upload" and body["total"] == 0
    assert response.headers["Location"] == f"/imports/{body['importId']}"
    assert response.headers["Retry-After"]
    assert body["upload"]["fields"]["key"] == f"uploads/{body['importId']}.csv"
    assert body["upload"]["maxBytes"] == 64 * 1024 * 1024 and body["upload"]["expiresInSeconds"] == 900
    assert fakes.queue.messages == []  # the upload's S3 event starts it
    shown = _json(http.get(f"/imports/{body['importId']}"))
    assert shown["status"] == "awaiting_upload" and "upload" not in shown  # the form is shown once


@pytest.mark.parametrize("query", ["upload=yes", "upload=true&extra=1"])
def test_bad_upload_parameters_are_a_422(http, query):
    response = _post(http, b"", path=f"/events/pycon/imports?{query}")
    assert response.status_code == 422


def test_an_upload_needs_a_csv_or_json_type(http):
    assert _post(http, b"", "text/plain", path="/events/pycon/imports?upload=true").status_code == 415
