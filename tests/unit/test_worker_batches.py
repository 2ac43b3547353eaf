"""The simple queue workers report failed records through Powertools' batch processing, and read
the invocation's remaining time through one helper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from chalicelib import bootstrap
from tests.fakes import memory_services
from workers import imports
from workers.context import remaining_time


def record(message_id: str, body: object) -> dict:
    return {"messageId": message_id, "body": json.dumps(body), "eventSource": "aws:sqs", "attributes": {}}


@pytest.fixture
def wired() -> Iterator[bootstrap.Services]:
    services = memory_services()
    bootstrap.use(services)
    yield services
    bootstrap.use(None)


def test_an_import_run_that_fails_is_reported_and_the_others_are_not(wired, monkeypatch):
    ran: list[str] = []

    def run(message: dict, owner: str, budget: float | None) -> None:
        ran.append(message["importId"])
        if message["importId"] == "broken":
            raise RuntimeError("the table is unavailable")

    monkeypatch.setattr(wired.import_processor, "run", run)
    batch = [record("m-1", {"action": "start", "importId": "broken"}), record("m-2", {"importId": "fine"})]
    assert imports.handler({"Records": batch}, None) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert ran == ["broken", "fine"]


def test_a_batch_whose_every_run_failed_is_reported_not_raised(wired, monkeypatch):
    monkeypatch.setattr(wired.import_processor, "run", lambda message, owner, budget: 1 / 0)
    result = imports.handler({"Records": [record("m-1", {"importId": "i"})]}, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_a_malformed_import_message_is_dropped_not_retried(wired, monkeypatch):
    monkeypatch.setattr(wired.import_processor, "run", lambda message, owner, budget: pytest.fail("ran"))
    assert imports.handler({"Records": [record("m-1", ["no", "import"])]}, None) == {"batchItemFailures": []}


def test_a_run_gets_what_the_invocation_has_left_less_the_margin(wired, monkeypatch):
    budgets: list[float | None] = []
    monkeypatch.setattr(wired.import_processor, "run", lambda message, owner, budget: budgets.append(budget))
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 40_000)
    imports.handler({"Records": [record("m-1", {"importId": "i"})]}, context)
    assert budgets == [40.0 - imports.SAFETY_MARGIN_SECONDS]


def test_the_remaining_time_is_read_afresh_and_absent_without_a_context():
    left = iter([30_000, 12_500])
    read = remaining_time(SimpleNamespace(get_remaining_time_in_millis=lambda: next(left)))
    assert read is not None
    assert (read(), read()) == (30.0, 12.5)
    assert remaining_time(None) is None


def test_an_empty_batch_is_no_failure(wired):
    assert imports.handler({"Records": []}, None) == {"batchItemFailures": []}
