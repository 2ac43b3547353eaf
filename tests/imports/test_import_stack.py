"""Imports through the local stack: real SQS and S3 (LocalStack), DynamoDB Local, the real registration
worker and import worker driven by the queue runner, the API over HTTP."""

from __future__ import annotations

import uuid

from tests.imports.helpers import all_pages, csv_file, new_event, wait_for

CAPACITY = 500
ROWS = 2000
BAD = {
    7: ("email", "must be a valid email address"),
    42: ("userId", "is required"),
    99: ("userId", "is already in row 3"),
    1500: ("userId", "String should match pattern"),
}
EXISTING = range(10, 20)  # rows whose users exist before the import (their rows carry no name)


def _rows(prefix: str) -> list[tuple[str, str, str]]:
    rows = []
    for n in range(1, ROWS + 1):
        user, name, email = f"{prefix}-u{n:05d}", f"User {n}", f"u{n}@example.org"
        if n == 7:
            email = "not-an-email"
        elif n == 42:
            user = ""
        elif n == 99:
            user = f"{prefix}-u00003"
        elif n in EXISTING or n == 150:  # no name: none is needed, no profile is made
            name, email = "", ""
        elif n == 1500:
            user = "bad id!"
        rows.append((user, name, email))
    return rows


def test_two_thousand_rows_fill_the_event_then_the_waitlist_in_file_order(import_stack):
    http, api = import_stack.http, import_stack.api
    prefix = uuid.uuid4().hex[:8]
    event_id = new_event(http, api, CAPACITY)
    for n in EXISTING:
        assert (
            http.post(f"{api}/users", json={"userId": f"{prefix}-u{n:05d}", "name": "Old"}).status_code == 201
        )
    rows = _rows(prefix)

    created = http.post(
        f"{api}/events/{event_id}/imports", data=csv_file(rows), headers={"Content-Type": "text/csv"}
    )
    assert created.status_code == 202, created.text
    import_id = created.json()["importId"]
    assert created.headers["Location"] == f"/imports/{import_id}"
    assert created.json()["status"] == "queued" and created.json()["total"] == ROWS

    result = wait_for(http, api, import_id, timeout=150)
    valid = ROWS - len(BAD)
    assert result["status"] == "completed", result
    assert (result["total"], result["valid"], result["invalid"]) == (ROWS, valid, len(BAD))
    assert result["enqueued"] == result["decided"] == valid
    assert (result["confirmed"], result["waitlisted"]) == (CAPACITY, valid - CAPACITY)
    assert result["rejected"] == result["alreadyRegistered"] == 0
    assert result["usersCreated"] == 0
    # the import made no profile: whoever signs up with an imported id makes their own
    newcomer = f"{prefix}-u00001"
    assert http.get(f"{api}/users/{newcomer}").status_code == 404
    signed_up = http.post(f"{api}/users", json={"userId": newcomer, "name": "Their own name"})
    assert signed_up.status_code == 201 and signed_up.json()["name"] == "Their own name"
    assert http.get(f"{api}/users/{prefix}-u00010").json()["name"] == "Old"  # never changed
    assert "Retry-After" not in http.get(f"{api}/imports/{import_id}").headers

    valid_users = [user for n, (user, _, _) in enumerate(rows, 1) if n not in BAD]
    confirmed = all_pages(http, f"{api}/events/{event_id}/registrations", status="confirmed")
    assert sorted(r["userId"] for r in confirmed) == sorted(valid_users[:CAPACITY])
    waitlist = all_pages(http, f"{api}/events/{event_id}/registrations", status="waitlisted")
    assert [r["userId"] for r in waitlist] == valid_users[CAPACITY:]
    assert [r["position"] for r in waitlist] == list(range(1, valid - CAPACITY + 1))
    event = http.get(f"{api}/events/{event_id}").json()
    assert (event["confirmedCount"], event["waitlistCount"]) == (CAPACITY, valid - CAPACITY)

    errors = all_pages(http, f"{api}/imports/{import_id}/errors")
    assert [e["row"] for e in errors] == sorted(BAD)
    for error in errors:
        field, message = BAD[error["row"]]
        assert error["field"] == field and message in error["message"], error

    # every valid row was sent once, in its event's group, never twice
    sent = {k: v for k, v in import_stack.feed.sent.items() if k.startswith(f"import:{import_id}:")}
    assert len(sent) == valid and set(sent.values()) == {1}


def test_a_dry_run_reports_and_writes_nothing(import_stack):
    http, api = import_stack.http, import_stack.api
    prefix = uuid.uuid4().hex[:8]
    event_id = new_event(http, api, 5)
    rows = [(f"{prefix}-d{n}", f"D {n}", f"d{n}@example.org") for n in range(1, 21)]
    rows[3] = (f"{prefix}-d4", "", "")  # no name: none is needed (no profile is made)
    rows[8] = (f"{prefix}-d9", "D 9", "nope")
    created = http.post(
        f"{api}/events/{event_id}/imports?dryRun=true",
        json={"rows": [{"userId": u, "name": n, "email": e} for u, n, e in rows]},
    )
    assert created.status_code == 202, created.text
    result = wait_for(http, api, created.json()["importId"])
    assert result["status"] == "completed" and result["dryRun"] is True
    assert (result["total"], result["valid"], result["invalid"], result["enqueued"]) == (20, 19, 1, 0)
    errors = http.get(f"{api}/imports/{result['importId']}/errors").json()["items"]
    assert [(e["row"], e["field"]) for e in errors] == [(9, "email")]
    assert all(http.get(f"{api}/users/{user}").status_code == 404 for user, _, _ in rows)
    assert not [k for k in import_stack.feed.sent if k.startswith(f"import:{result['importId']}:")]
    event = http.get(f"{api}/events/{event_id}").json()
    assert (event["confirmedCount"], event["waitlistCount"]) == (0, 0)


def test_a_killed_import_worker_resumes_without_sending_a_row_twice(import_stack):
    http, api, feed = import_stack.http, import_stack.api, import_stack.feed
    prefix = uuid.uuid4().hex[:8]
    event_id = new_event(http, api, 100)
    rows = [(f"{prefix}-k{n}", f"K {n}", "") for n in range(1, 301)]
    invocations = import_stack.imports_poller.invocations
    feed.crash_before_batch = feed.batches + 6  # dies mid-import, after five batches went out
    created = http.post(
        f"{api}/events/{event_id}/imports", data=csv_file(rows), headers={"Content-Type": "text/csv"}
    )
    assert created.status_code == 202
    import_id = created.json()["importId"]

    result = wait_for(http, api, import_id)
    assert feed.crashes == 1 and import_stack.imports_poller.invocations >= invocations + 2
    assert result["status"] == "completed"
    assert (result["valid"], result["enqueued"], result["decided"]) == (300, 300, 300)
    assert (result["confirmed"], result["waitlisted"]) == (100, 200)
    sent = {k: v for k, v in feed.sent.items() if k.startswith(f"import:{import_id}:")}
    assert len(sent) == 300 and set(sent.values()) == {1}
    waitlist = all_pages(http, f"{api}/events/{event_id}/registrations", status="waitlisted")
    assert [r["userId"] for r in waitlist] == [u for u, _, _ in rows[100:]]


def test_the_cli_uploads_follows_and_summarizes(import_stack, tmp_path, capsys):
    from cli.turnstile import main
    from tests.fakes import token

    http, api = import_stack.http, import_stack.api
    prefix = uuid.uuid4().hex[:8]
    event_id = new_event(http, api, 3)
    rows = [(f"{prefix}-c{n}", f"C {n}", "") for n in range(1, 7)] + [(f"{prefix}-c9", "C 9", "oops")]
    path = tmp_path / "attendees.csv"
    path.write_bytes(csv_file(rows))

    owner = ["--token", token("root", "admins")]
    assert main(["import", str(path), "--event", event_id, "--api", api, *owner]) == 0
    out, err = capsys.readouterr()
    assert f"for event {event_id}: completed" in out
    assert "rows 7: 6 valid, 1 invalid" in out and "3 confirmed, 3 waitlisted" in out
    assert "row 7: email: must be a valid email address" in out
    assert "decided" in err  # the progress bar

    assert main(["import", str(path), "--event", "no-such-event", "--api", api, "--no-progress", *owner]) == 2
    assert "HTTP 404" in capsys.readouterr().err


def test_a_file_uploaded_with_a_presigned_form_is_imported(import_stack, tmp_path, capsys):
    """The CLI asks for a form, uploads to S3 (LocalStack), and S3's event starts the import."""
    from cli.turnstile import main
    from tests.fakes import token

    http, api = import_stack.http, import_stack.api
    prefix = uuid.uuid4().hex[:8]
    event_id = new_event(http, api, 2)
    path = tmp_path / "big.csv"
    path.write_bytes(csv_file([(f"{prefix}-p{n}", f"P {n}", "") for n in range(1, 5)]))
    owner = ["--token", token("root", "admins")]
    assert (
        main(["import", str(path), "--event", event_id, "--api", api, "--upload", "--no-progress", *owner])
        == 0
    )
    out, err = capsys.readouterr()
    assert "accepted: uploaded" in err
    assert "rows 4: 4 valid, 0 invalid" in out and "2 confirmed, 2 waitlisted" in out
