"""`applied_together`: a transaction answers whether it happened; a conflict with another
transaction is tried again, a false condition is not (no emulator: a client that answers as
DynamoDB does)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from chalicelib.shared import dynamo
from chalicelib.shared.dynamo import TOGETHER_ATTEMPTS, applied_together


def cancelled(*codes: str) -> ClientError:
    reasons = [{"Code": code} for code in codes]
    error = {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}}
    return ClientError({**error, "CancellationReasons": reasons}, "TransactWriteItems")


class Answers:
    """Raises the given errors in turn, then succeeds; counts the calls."""

    def __init__(self, *errors: ClientError) -> None:
        self.errors, self.calls = list(errors), 0

    def transact_write_items(self, TransactItems: list) -> dict:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(dynamo.time, "sleep", lambda _: None)


def test_a_transaction_that_commits_is_applied():
    client = Answers()
    assert applied_together(client, [{}]) and client.calls == 1


def test_a_false_condition_is_not_applied_and_not_tried_again():
    client = Answers(cancelled("ConditionalCheckFailed", "None"))
    assert not applied_together(client, [{}, {}]) and client.calls == 1


def test_a_conflict_with_another_transaction_is_tried_again():
    client = Answers(cancelled("None", "TransactionConflict"), cancelled("TransactionConflict", "None"))
    assert applied_together(client, [{}, {}]) and client.calls == 3


def test_a_conflict_that_lasts_is_raised_after_the_last_attempt():
    client = Answers(*[cancelled("TransactionConflict")] * TOGETHER_ATTEMPTS)
    with pytest.raises(ClientError):
        applied_together(client, [{}])
    assert client.calls == TOGETHER_ATTEMPTS


def test_any_other_failure_is_raised_at_once():
    throttled = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "TransactWriteItems"
    )
    client = Answers(throttled)
    with pytest.raises(ClientError):
        applied_together(client, [{}])
    assert client.calls == 1
