"""`make dlq`: list a dead-letter queue and redrive it to its source, on LocalStack."""

from __future__ import annotations

import json
import os
import uuid

from devstack import dlq


def test_list_then_redrive_returns_messages_to_their_group(emulators, capsys):
    sqs = emulators.client("sqs")
    env = emulators.environment
    sqs.purge_queue(QueueUrl=env["TURNSTILE_REGISTRATIONS_DLQ_URL"])  # others' poison, from other tests
    body = json.dumps({"type": "register", "requestId": uuid.uuid4().hex, "eventId": "dlq-e", "userId": "u"})
    sqs.send_message(
        QueueUrl=env["TURNSTILE_REGISTRATIONS_DLQ_URL"],
        MessageBody=body,
        MessageGroupId="dlq-e",
        MessageDeduplicationId=uuid.uuid4().hex,
    )

    assert dlq.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "group=dlq-e" in listed and "1 message(s)" in listed

    assert dlq.main(["redrive"]) == 0
    assert "redrove 1 message(s) to registrations.fifo" in capsys.readouterr().out
    moved = sqs.receive_message(
        QueueUrl=env["TURNSTILE_REGISTRATIONS_QUEUE_URL"],
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
    )["Messages"]
    assert [(m["Body"], m["Attributes"]["MessageGroupId"]) for m in moved] == [(body, "dlq-e")]
    sqs.delete_message(
        QueueUrl=env["TURNSTILE_REGISTRATIONS_QUEUE_URL"], ReceiptHandle=moved[0]["ReceiptHandle"]
    )
    assert dlq.main(["list"]) == 0 and "0 message(s)" in capsys.readouterr().out


def test_make_dlq_finds_the_stack_by_localstack_port_like_make_dev(emulators, monkeypatch, capsys):
    url = emulators.environment["AWS_ENDPOINT_URL_SQS"]
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS")
    monkeypatch.setenv("LOCALSTACK_PORT", url.rsplit(":", 1)[1])
    assert dlq.main(["list"]) == 0
    assert "message(s)" in capsys.readouterr().out
    assert dlq.sqs_client().meta.endpoint_url == url


def test_make_dlq_pointed_at_aws_leaves_the_callers_credentials_alone(monkeypatch):
    """Placeholder keys are for an emulator: against a deployed stage they would hide the
    caller's profile or role from boto3's credential chain."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "https://sqs.eu-west-1.amazonaws.com")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    assert dlq.sqs_client().meta.endpoint_url == "https://sqs.eu-west-1.amazonaws.com"
    assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_SECRET_ACCESS_KEY" not in os.environ
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://localhost:8002")
    dlq.sqs_client()
    assert os.environ["AWS_ACCESS_KEY_ID"] == "local"
