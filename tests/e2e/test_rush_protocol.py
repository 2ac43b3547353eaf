"""The rush protocol through the whole local stack: a late request is told its place in line and
when to ask again, and a person's repeated POST gets their pending request back.

The backlog of other people's registrations is queued straight onto the event's lane (tickets
taken from the lane's counter as the API takes them, messages sent into its FIFO group), so that
a few hundred are waiting when the late request arrives, however fast this machine decides."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import boto3

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


def _queue_backlog(stack, event: str) -> None:
    dynamodb, sqs = _client("dynamodb", stack.ports[1]), _client("sqs", stack.ports[2])
    issued = dynamodb.update_item(
        TableName="turnstile",
        Key={"PK": {"S": f"LANE#{event}"}, "SK": {"S": "META"}},
        UpdateExpression="ADD issued :n",
        ExpressionAttributeValues={":n": {"N": str(BACKLOG)}},
        ReturnValues="UPDATED_NEW",
    )
    assert int(issued["Attributes"]["issued"]["N"]) == BACKLOG
    queue = sqs.get_queue_url(QueueName="registrations.fifo")["QueueUrl"]
    for start in range(1, BACKLOG + 1, 10):
        entries = []
        for ticket in range(start, start + 10):
            body = {
                "type": "register",
                "requestId": uuid.uuid4().hex,
                "eventId": event,
                "userId": f"{event}-crowd{ticket:03d}",
                "ticket": ticket,
            }
            entries.append(
                {
                    "Id": str(ticket),
                    "MessageBody": json.dumps(body),
                    "MessageGroupId": event,
                    "MessageDeduplicationId": body["requestId"],
                }
            )
        assert not sqs.send_message_batch(QueueUrl=queue, Entries=entries).get("Failed")


def test_a_late_request_learns_its_place_and_a_repeat_gets_the_pending_one(stack, http):
    api, event = stack.api, f"line-{uuid.uuid4().hex[:8]}"
    body = {"eventId": event, "title": "Line", "date": "2026-09-01", "capacity": 100, "waitlistEnabled": True}
    http.post(f"{api}/events", json=body).raise_for_status()
    late = f"{event}-late"
    with session(late) as own:
        own.post(f"{api}/users", json={"name": "Late"}).raise_for_status()
        _queue_backlog(stack, event)
        accepted = own.post(f"{api}/events/{event}/registrations", json={})
        assert accepted.status_code == 202, accepted.text
        place = accepted.json()
        assert "ticket" not in place  # tickets stay internal
        assert 0 < place["aheadInLine"] <= BACKLOG
        retry_after = int(accepted.headers["Retry-After"])
        assert 1 <= retry_after <= 30
        said_at = parsedate_to_datetime(accepted.headers["Date"]) if "Date" in accepted.headers else None
        estimated = datetime.fromisoformat(place["estimatedDecisionAt"].replace("Z", "+00:00"))
        now = said_at or datetime.now(UTC)
        if retry_after < 30:  # Retry-After is the estimate, in whole seconds
            assert abs((estimated - now).total_seconds() - retry_after) <= 2

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
