"""The local stack's command line and its schedules."""

from __future__ import annotations

import time
from pathlib import Path

from botocore.exceptions import ClientError

from devstack.__main__ import parse_args
from devstack.emulators import ROOT
from devstack.runner import ScheduleRunner
from devstack.streams import StreamPoller
from workers import offer_sweep


def test_each_local_stack_logs_to_its_own_folder_under_the_cache():
    one, two = parse_args(["--api-port", "8100"]), parse_args(["--api-port", "8200"])
    assert one.log_dir != two.log_dir
    assert one.log_dir == ROOT / ".cache" / "logs" / "stack-8100"
    assert parse_args(["--log-dir", "/somewhere"]).log_dir == Path("/somewhere")


def test_a_schedule_runs_its_handler_every_period_and_outlives_a_failure():
    calls: list[dict] = []

    def handler(event: dict, context: object) -> dict:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("the first run fails")
        return {}

    runner = ScheduleRunner([(handler, "sweep", 0.01)])
    runner.start()
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    runner.stop()
    assert len(calls) >= 3 and calls[0]["source"] == "aws.events"


def test_the_local_stack_sweeps_offers_every_few_seconds_or_as_configured(monkeypatch):
    monkeypatch.delenv("TURNSTILE_OFFER_SWEEP_SECONDS", raising=False)
    [(handler, name, period)] = ScheduleRunner.for_local_stack().schedules
    assert (handler, name, period) == (offer_sweep.handler, "workers.offer_sweep.handler", 2.0)
    monkeypatch.setenv("TURNSTILE_OFFER_SWEEP_SECONDS", "0.5")
    assert ScheduleRunner.for_local_stack().schedules[0][2] == 0.5


class LosingStreams:
    """One shard whose first iterator is lost (as DynamoDB Local trims it); TRIM_HORIZON reads."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def describe_stream(self, StreamArn: str) -> dict:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, ShardIteratorType: str, **_: object) -> dict:
        self.kinds.append(ShardIteratorType)
        return {"ShardIterator": ShardIteratorType}

    def get_records(self, ShardIterator: str, Limit: int) -> dict:
        if ShardIterator != "TRIM_HORIZON":
            error = {"Error": {"Code": "TrimmedDataAccessException", "Message": "trimmed"}}
            raise ClientError(error, "GetRecords")
        record = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1", "NewImage": {}}}
        return {"Records": [record], "NextShardIterator": "after-1"}


def test_a_lost_stream_iterator_is_read_again_from_the_oldest_record():
    seen: list[dict] = []
    table = type(
        "Table", (), {"describe_table": lambda self, TableName: {"Table": {"LatestStreamArn": "arn"}}}
    )
    streams = LosingStreams()
    poller = StreamPoller("t", lambda event, _: seen.append(event) or None, dynamodb=table(), streams=streams)
    assert poller.poll_once() == 0  # the iterator from LATEST is gone: no crash, a new iterator
    assert poller.poll_once() == 1 and len(seen) == 1
    assert streams.kinds == ["LATEST", "TRIM_HORIZON"]


class CountedStreams(LosingStreams):
    """Counts how often the stream is described; its shard closes after one read when asked."""

    def __init__(self, closing: bool = False) -> None:
        super().__init__()
        self.described, self.closing = 0, closing

    def describe_stream(self, StreamArn: str) -> dict:
        self.described += 1
        return super().describe_stream(StreamArn)

    def get_records(self, ShardIterator: str, Limit: int) -> dict:
        return {"Records": []} if self.closing else {"Records": [], "NextShardIterator": "next"}


def test_the_stream_is_described_every_few_seconds_and_when_a_shard_closes(monkeypatch):
    import devstack.streams as streams_module

    table = type(
        "Table", (), {"describe_table": lambda self, TableName: {"Table": {"LatestStreamArn": "arn"}}}
    )
    now = [1000.0]
    monkeypatch.setattr(streams_module.time, "monotonic", lambda: now[0])
    streams = CountedStreams()
    poller = StreamPoller("t", lambda event, _: None, dynamodb=table(), streams=streams)
    for _ in range(5):
        poller.poll_once()
    assert streams.described == 1, "reads in a row do not describe the stream again"
    now[0] += streams_module.DISCOVER_EVERY_SECONDS
    poller.poll_once()
    assert streams.described == 2
    closing = CountedStreams(closing=True)
    poller = StreamPoller("t", lambda event, _: None, dynamodb=table(), streams=closing)
    poller.poll_once()  # the shard ends: its children are looked for at the next read
    poller.poll_once()
    assert closing.described == 2
