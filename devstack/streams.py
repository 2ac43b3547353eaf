"""The local stand-in for Lambda's DynamoDB Streams event source mapping.

Reads every shard of the table's latest stream and hands the relay handler Lambda-shaped
DynamoDB stream events (`{"Records": [{"eventName", "dynamodb": {"NewImage", ...}}]}`). Shards
present at start begin at `start` (LATEST for `make dev`; TRIM_HORIZON to replay everything);
shards that appear later (DynamoDB rolls shards over) begin at TRIM_HORIZON, after their parent
is drained. As in Lambda, a handler that raises gets the same batch again, and one that reports
a SequenceNumber in `batchItemFailures` is resumed from that record.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from devstack.background import Background
from devstack.runner import LambdaContext, load_handler

logger = logging.getLogger("turnstile.streams")

Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]
RELAY_HANDLER = "workers.webhook_relay.handler"
# A shard iterator that can no longer be read: past the trim horizon, or older than 15 minutes.
LOST_ITERATOR = ("TrimmedDataAccessException", "ExpiredIteratorException")
# Lambda's stream mapping reads each shard about four times a second, and looks for new shards
# now and then: so does the local one (every `StreamRunner` interval, busy or not), which shares
# the functions process (and its GIL) with the registration worker. Read back to back, with the
# stream described before every read, a busy stream took as much of the process as the worker.
DISCOVER_EVERY_SECONDS = 2.0


def lambda_stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record.get("eventID", ""),
        "eventName": record.get("eventName", ""),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    closed: bool = False


@dataclass
class StreamPoller:
    table_name: str
    handler: Handler
    start: str = "LATEST"
    batch_size: int = 100
    dynamodb: Any = field(default=None, repr=False)
    streams: Any = field(default=None, repr=False)
    invocations: int = 0

    def __post_init__(self) -> None:
        region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        self.dynamodb = self.dynamodb or boto3.client("dynamodb", region_name=region)
        self.streams = self.streams or boto3.client("dynamodbstreams", region_name=region)
        table = self.dynamodb.describe_table(TableName=self.table_name)["Table"]
        self.stream_arn = table["LatestStreamArn"]
        self._shards: dict[str, _Shard] = {}
        self._discovered_at = 0.0
        self._discover(initial=True)

    def _discover(self, initial: bool = False) -> None:
        self._discovered_at, self._closed_since_discovery = time.monotonic(), False
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._shards:
                continue
            entry = _Shard(shard_id, shard.get("ParentShardId"))
            entry.iterator = self._iterator(shard_id, self.start if initial else "TRIM_HORIZON")
            self._shards[shard_id] = entry

    def _iterator(self, shard_id: str, kind: str, sequence: str | None = None) -> str | None:
        request = {"StreamArn": self.stream_arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence is not None:
            request["SequenceNumber"] = sequence
        return self.streams.get_shard_iterator(**request).get("ShardIterator")

    def poll_once(self) -> int:
        """One read of every open shard (and the handler per non-empty batch); returns records seen.
        New shards are looked for every DISCOVER_EVERY_SECONDS, and when a shard has closed."""
        if time.monotonic() - self._discovered_at >= DISCOVER_EVERY_SECONDS or self._closed_since_discovery:
            self._discover()
        seen = 0
        for shard in list(self._shards.values()):
            parent = self._shards.get(shard.parent_id or "")
            if shard.closed or shard.iterator is None or (parent is not None and not parent.closed):
                continue
            seen += self._read(shard)
        return seen

    def _read(self, shard: _Shard) -> int:
        try:
            response = self.streams.get_records(ShardIterator=shard.iterator, Limit=self.batch_size)
        except ClientError as error:
            if error.response["Error"]["Code"] not in LOST_ITERATOR:
                raise
            # As Lambda's mapping does: read the shard again from its oldest record. The relay is
            # idempotent (a change relayed twice makes the same deliveries), so nothing doubles.
            logger.warning("stream iterator lost (%s); rereading the shard", error.response["Error"]["Code"])
            shard.iterator = self._iterator(shard.shard_id, "TRIM_HORIZON")
            return 0
        records = response.get("Records", [])
        following = response.get("NextShardIterator")
        if records:
            self.invocations += 1
            event = {"Records": [lambda_stream_record(r, self.stream_arn) for r in records]}
            try:
                result = self.handler(event, LambdaContext("webhook-relay")) or {}
            except Exception:
                logger.exception("relay handler raised; the batch is read again")
                first = records[0]["dynamodb"]["SequenceNumber"]
                shard.iterator = self._iterator(shard.shard_id, "AT_SEQUENCE_NUMBER", first)
                return len(records)
            failures = result.get("batchItemFailures") or []
            if failures:
                sequence = failures[0]["itemIdentifier"]
                shard.iterator = self._iterator(shard.shard_id, "AT_SEQUENCE_NUMBER", sequence)
                return len(records)
        shard.iterator = following
        if following is None:
            shard.closed = True
            self._closed_since_discovery = True
        return len(records)


class StreamRunner(Background):
    """Polls the stream in a thread until stopped."""

    def __init__(self, poller: StreamPoller, interval: float = 0.2) -> None:
        super().__init__()
        self.poller = poller
        self._interval = interval

    @classmethod
    def for_local_stack(cls, table_name: str, start: str = "LATEST") -> StreamRunner:
        return cls(StreamPoller(table_name, load_handler(RELAY_HANDLER), start=start))

    def start(self) -> None:
        self.spawn("stream-poller", self._run)

    def _run(self) -> None:
        while not self.stopping:
            try:
                self.poller.poll_once()
                self.pause(self._interval)
            except Exception:
                logger.exception("polling the stream failed; retrying")
                self.pause(1)
