"""ImportRepository and PayloadStore: the in-memory fakes, DynamoDB Local and LocalStack's S3 agree."""

from __future__ import annotations

import pytest

from chalicelib.imports.domain import COMPLETED, FAILED, QUEUED, RUNNING, ImportRecord
from chalicelib.imports.dynamodb import DynamoImportRepository
from chalicelib.imports.memory import MemoryImports, MemoryPayloads
from chalicelib.imports.rows import RowError
from chalicelib.imports.s3 import S3PayloadStore
from tests.contracts.conftest import unique

NOW = "2026-01-01T00:00:00.000000Z"


@pytest.fixture(params=["memory", "dynamodb"])
def imports(request):
    if request.param == "memory":
        return MemoryImports()
    real = request.getfixturevalue("real")
    return DynamoImportRepository(real.dynamodb, real.table)


def queued() -> ImportRecord:
    return ImportRecord(unique("imp"), "ev", QUEUED, NOW, updated_at=NOW, total=3, payload_key="k")


def test_create_once_and_get(imports):
    record = queued()
    assert imports.create(record)
    assert not imports.create(record)
    assert imports.get(record.import_id) == record
    assert imports.get(unique("none")) is None


def test_one_lease_at_a_time_until_it_expires_or_is_released(imports):
    record = queued()
    imports.create(record)
    assert imports.acquire(record.import_id, "w1", now=100, until=160)
    assert imports.acquire(record.import_id, "w1", now=110, until=170), "the holder renews"
    assert not imports.acquire(record.import_id, "w2", now=120, until=180)
    assert imports.acquire(record.import_id, "w2", now=171, until=230), "an expired lease is taken over"
    imports.release(record.import_id, "w1")  # not the holder: no effect
    assert not imports.acquire(record.import_id, "w3", now=172, until=232)
    imports.release(record.import_id, "w2")
    assert imports.acquire(record.import_id, "w3", now=173, until=233)
    assert not imports.acquire(unique("none"), "w1", now=1, until=2)


def test_the_lifecycle_moves_forward_only(imports):
    record = queued()
    imports.create(record)
    assert imports.start_validation(record.import_id, NOW)
    assert imports.start_validation(record.import_id, NOW), "a restarted validation may resume"
    imports.validated(record.import_id, valid=2, invalid=1, users_created=2, status=RUNNING, now=NOW)
    running = imports.get(record.import_id)
    assert (running.status, running.valid, running.invalid, running.users_created) == (RUNNING, 2, 1, 2)
    assert not imports.start_validation(record.import_id, NOW)

    assert imports.begin_batch(record.import_id, enqueued=0, pending=2, now=NOW)
    assert not imports.begin_batch(record.import_id, enqueued=0, pending=2, now=NOW), "one batch at a time"
    assert not imports.complete(record.import_id, NOW), "rows still being sent"
    imports.end_batch(record.import_id, 2)
    assert imports.get(record.import_id).enqueued == 2
    assert not imports.complete(record.import_id, NOW), "rows still undecided"


def test_a_failed_import_stays_failed_and_a_completed_one_completed(imports):
    record = queued()
    imports.create(record)
    imports.start_validation(record.import_id, NOW)
    imports.validated(record.import_id, valid=0, invalid=3, users_created=0, status=COMPLETED, now=NOW)
    imports.fail(record.import_id, "late failure", NOW)
    assert imports.get(record.import_id).status == COMPLETED
    other = queued()
    imports.create(other)
    imports.fail(other.import_id, "payload missing", NOW)
    failed = imports.get(other.import_id)
    assert (failed.status, failed.failure) == (FAILED, "payload missing")
    assert not imports.start_validation(other.import_id, NOW)


def test_row_errors_are_stored_idempotently_and_paged_in_row_order(imports):
    record = queued()
    imports.create(record)
    errors = [RowError(3, "email", "bad"), RowError(1, "userId", "is required"), RowError(3, "name", "long")]
    imports.add_errors(record.import_id, errors)
    imports.add_errors(record.import_id, errors)  # a retried validation writes the same items
    seen, after = [], None
    while True:
        page, after = imports.errors(record.import_id, 2, after)
        seen += page
        if after is None:
            break
    assert [e.row for e in seen] == [1, 3, 3]
    assert sorted((e.field, e.message) for e in seen) == sorted((e.field, e.message) for e in errors)


@pytest.fixture(params=["memory", "s3"])
def payloads(request):
    if request.param == "memory":
        return MemoryPayloads()
    real = request.getfixturevalue("real")
    bucket = unique("contract")
    real.s3.create_bucket(Bucket=bucket)
    return S3PayloadStore(real.s3, bucket)


def test_payloads_round_trip_and_a_missing_one_is_a_key_error(payloads):
    payloads.put("imports/a/payload.csv", b"userId\nada\n", "text/csv")
    assert payloads.get("imports/a/payload.csv") == b"userId\nada\n"
    with pytest.raises(KeyError):
        payloads.get("imports/missing")
