"""The local stand-in for Lambda's SQS event source mappings, and for EventBridge schedules.

For each queue it long-polls, hands the worker handler a Lambda-shaped SQS event (with the FIFO
attributes: MessageGroupId, SequenceNumber, MessageDeduplicationId), and deletes only the
records the handler did not report in `batchItemFailures`. Failed records are made visible again
after `retry_delay` seconds (Lambda waits for the visibility timeout; locally that is minutes).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from devstack.background import Background

logger = logging.getLogger("turnstile.runner")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# queue URL environment variable -> the handler Lambda runs for it (as in infrastructure/)
LOCAL_MAPPINGS: tuple[tuple[str, str], ...] = (
    ("TURNSTILE_REGISTRATIONS_QUEUE_URL", "workers.registration.handler"),
    ("TURNSTILE_WEBHOOKS_QUEUE_URL", "workers.webhooks.handler"),
    ("TURNSTILE_WEBHOOK_RELAY_QUEUE_URL", "workers.webhook_relay.handler"),  # its parked changes
    ("TURNSTILE_IMPORTS_QUEUE_URL", "workers.imports.handler"),
)

# EventBridge schedules (infrastructure/): the handler, and the variable with the local period
# in seconds (AWS runs them every minute; locally sooner, so that offers lapse on time).
LOCAL_SCHEDULES: tuple[tuple[str, str, float], ...] = (
    ("workers.offer_sweep.handler", "TURNSTILE_OFFER_SWEEP_SECONDS", 2.0),
)


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str = "local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_handler(path: str) -> Handler:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def lambda_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {"Records": [lambda_record(m, queue_arn) for m in messages]}


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    }


@dataclass
class QueuePoller:
    queue_url: str
    handler: Handler
    name: str
    retry_delay: int = 1
    batch_size: int = 10
    sqs: Any = field(default=None, repr=False)
    invocations: int = 0

    def __post_init__(self) -> None:
        self.sqs = self.sqs or boto3.client("sqs", region_name=os.environ.get("AWS_DEFAULT_REGION"))
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self.queue_arn = attributes["Attributes"]["QueueArn"]

    def poll_once(self, wait_seconds: int = 1) -> int:
        """One receive and one handler invocation; returns how many messages it received."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if messages:
            self._invoke(messages)
        return len(messages)

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        self.invocations += 1
        try:
            result = self.handler(lambda_event(messages, self.queue_arn), LambdaContext(self.name)) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:
            logger.exception("%s handler raised; the whole batch is retried", self.name)
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed]
        for chunk in _chunks(done):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        for chunk in _chunks(retry):
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_delay}
                    for i, m in enumerate(chunk)
                ],
            )


def _chunks(messages: list[dict[str, Any]], size: int = 10) -> list[list[dict[str, Any]]]:
    return [messages[i : i + size] for i in range(0, len(messages), size)]


class QueueRunner(Background):
    """One thread per queue, polling until stopped."""

    def __init__(self, pollers: list[QueuePoller]) -> None:
        super().__init__()
        self.pollers = pollers

    @classmethod
    def for_local_stack(cls) -> QueueRunner:
        pollers = [
            QueuePoller(os.environ[variable], load_handler(handler), name=handler)
            for variable, handler in LOCAL_MAPPINGS
            if os.environ.get(variable)
        ]
        return cls(pollers)

    def start(self) -> None:
        for poller in self.pollers:
            self.spawn(poller.name, self._run, poller)

    def _run(self, poller: QueuePoller) -> None:
        while not self.stopping:
            try:
                poller.poll_once()
            except Exception:
                logger.exception("polling %s failed; retrying", poller.name)
                self.pause(1)


class ScheduleRunner(Background):
    """One thread per schedule, invoking its handler every `period` seconds until stopped."""

    def __init__(self, schedules: list[tuple[Handler, str, float]]) -> None:
        super().__init__()
        self.schedules = schedules

    @classmethod
    def for_local_stack(cls) -> ScheduleRunner:
        return cls(
            [
                (load_handler(handler), handler, float(os.environ.get(variable, default)))
                for handler, variable, default in LOCAL_SCHEDULES
            ]
        )

    def start(self) -> None:
        for handler, name, period in self.schedules:
            self.spawn(name, self._run, handler, name, period)

    def _run(self, handler: Handler, name: str, period: float) -> None:
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        while not self.pause(period):
            try:
                handler(event, LambdaContext(name))
            except Exception:
                logger.exception("scheduled %s failed; it runs again in %s s", name, period)
