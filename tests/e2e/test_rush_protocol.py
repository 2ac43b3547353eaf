"""The rush protocol through the whole local stack: a late request is told its place in line and
when to ask again, and a person's repeated POST gets their pending request back.

The backlog of other people's registrations is queued straight onto the event's lane (messages
sent into its FIFO group, stamped as accepted 100 a second), so that a few hundred are waiting
when the late request arrives, however fast this machine decides."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import boto3

from chalicelib.registrations.lanes import MAX_RETRY_AFTER, MIN_RETRY_AFTER, ask_again_after
from tests.fakes import session

BACKLOG = 300


def _client(service: str, port: int):
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


ARRIVALS = 100  # a second: the backlog's acceptance times are this far apart


def _queue_backlog(stack, event: str) -> datetime:
    """Queue the backlog, stamped as accepted ARRIVALS a second up to now; returns the last stamp."""
    sqs = _client("sqs", stack.ports[2])
    queue = sqs.get_queue_url(QueueName="registrations.fifo")["QueueUrl"]
    last = datetime.now(UTC)
    stamps = [last - timedelta(seconds=(BACKLOG - n) / ARRIVALS) for n in range(1, BACKLOG + 1)]
    for start in range(0, BACKLOG, 10):
        entries = []
        for n in range(start, start + 10):
            body = {
                "type": "register",
                "requestId": uuid.uuid4().hex,
                "eventId": event,
                "userId": f"{event}-crowd{n:03d}",
                "createdAt": stamps[n].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
            entries.append(
                {
                    "Id": str(n),
                    "MessageBody": json.dumps(body),
                    "MessageGroupId": event,
                    "MessageDeduplicationId": body["requestId"],
                }
            )
        assert not sqs.send_message_batch(QueueUrl=queue, Entries=entries).get("Failed")
    return stamps[-1]


def _until_deciding(http, api: str, event: str) -> None:
    """Until the worker has committed a batch of the backlog (and so measured the lane)."""
    deadline = time.monotonic() + 60
    while http.get(f"{api}/events/{event}").json()["confirmedCount"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_a_late_request_learns_its_place_and_a_repeat_gets_the_pending_one(stack, http):
    api, event = stack.api, f"line-{uuid.uuid4().hex[:8]}"
    body = {"eventId": event, "title": "Line", "date": "2026-09-01", "capacity": 100, "waitlistEnabled": True}
    http.post(f"{api}/events", json=body).raise_for_status()
    late = f"{event}-late"
    with session(late) as own:
        own.post(f"{api}/users", json={"name": "Late"}).raise_for_status()
        last_stamp = _queue_backlog(stack, event)
        _until_deciding(http, api, event)
        accepted = own.post(f"{api}/events/{event}/registrations", json={})
        assert accepted.status_code == 202, accepted.text
        place = accepted.json()
        # An estimate: the lane's density (ARRIVALS a second) times the time from the last decided
        # command's acceptance to this one's, so it also counts the quiet gap after the backlog
        late_by = seconds(place["createdAt"]) - last_stamp.timestamp()
        assert 0 < place["aheadInLine"] <= 1.5 * (BACKLOG + ARRIVALS * late_by)
        retry_after = int(accepted.headers["Retry-After"])
        assert MIN_RETRY_AFTER <= retry_after <= MAX_RETRY_AFTER
        said_at = parsedate_to_datetime(accepted.headers["Date"]) if "Date" in accepted.headers else None
        estimated = datetime.fromisoformat(place["estimatedDecisionAt"].replace("Z", "+00:00"))
        now = said_at or datetime.now(UTC)
        # Retry-After is the estimate while near, else halfway to it (whole seconds)
        assert abs(ask_again_after((estimated - now).total_seconds()) - retry_after) <= 2

        again = own.post(f"{api}/events/{event}/registrations", json={})
        cancel = own.delete(f"{api}/events/{event}/registrations/{late}")
        for repeat in (again, cancel):
            assert repeat.status_code == 202
            assert repeat.headers["Location"] == accepted.headers["Location"]
            assert repeat.json()["requestId"] == place["requestId"] and repeat.json()["type"] == "register"

        seen = [place["aheadInLine"]]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            polled = own.get(f"{api}{accepted.headers['Location']}")
            if polled.json()["status"] != "pending":
                break
            seen.append(polled.json()["aheadInLine"])
            time.sleep(0.5)
        decided = polled.json()
        assert decided["status"] == "completed" and decided["outcome"] == {
            "type": "waitlisted",
            "position": 201,
        }
        assert "aheadInLine" not in decided and "Retry-After" not in polled.headers
        assert seen == sorted(seen, reverse=True), "the line only moves forward"
