"""The cost model of `bench/cost.py`: item sizes and write units by DynamoDB's published rules,
and batches and polls from the mechanics of one FIFO group and the protocol."""

from __future__ import annotations

import pytest

from bench.cost import PRICES, Ledger, Measured, Phase, Pipeline, Profile, Written, item_size, polls


def test_item_size_counts_names_and_values_as_dynamodb_does():
    assert item_size({"PK": {"S": "EVENT#e"}}) == 2 + 7
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 digits: 3 bytes + 1
    assert item_size({"ok": {"BOOL": True}, "no": {"NULL": True}}) == 2 + 1 + 2 + 1
    assert item_size({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + (1 + 2 + 1)
    assert item_size(None) == 0


def registration(status: str, **extra) -> dict:
    item = {"PK": {"S": "EVENT#e"}, "SK": {"S": "REG#u"}, "status": {"S": status}}
    item.update({"GSI1PK": {"S": f"USER#u#{status}"}, "GSI1SK": {"S": "e"}})
    return {**item, **{k: {"S": v} for k, v in extra.items()}}


def test_a_transactional_put_into_one_index_costs_three_or_four_units_by_the_reading():
    put = Written(None, registration("confirmed"), transactional=True)
    assert put.units(doubled=True) == 2 + 2
    assert put.units(doubled=False) == 2 + 1
    plain = Written(None, registration("confirmed"), transactional=False)
    assert plain.units(doubled=True) == plain.units(doubled=False) == 1 + 1


def test_an_index_key_that_changes_is_a_delete_and_a_put():
    moved = Written(registration("waitlisted"), registration("confirmed"), transactional=False)
    assert moved.units(doubled=True) == 1 + 2


def test_a_cancelled_write_is_still_charged_but_touches_no_index():
    unchanged = Written(registration("confirmed"), registration("confirmed"), transactional=True)
    assert unchanged.units(doubled=True) == 2


def test_items_are_charged_per_started_kilobyte_of_the_larger_image():
    big = registration("confirmed", blob="x" * 1500)
    assert Written(registration("confirmed"), big, transactional=False).units(doubled=False) == 2 + 2


def test_the_breakdown_names_the_item_and_its_index_writes():
    ledger = Ledger(writes=[Written(None, registration("confirmed"), True)])
    assert ledger.by_kind(doubled=True) == {"registration": 2, "registration indexes": 2}
    request = {"PK": {"S": "REQUEST#r"}, "SK": {"S": "META"}}
    assert Ledger(writes=[Written(None, request, False)]).by_kind(doubled=False) == {"request": 1}


def test_a_registration_is_charged_what_the_api_and_the_worker_wrote_for_it():
    api = Ledger(writes=[Written(None, {"PK": {"S": "REQUEST#r"}, "SK": {"S": "META"}}, False)] * 10)
    worker = Ledger(writes=[Written(None, registration("confirmed"), True)] * 10)
    phase = Phase(10, api, worker)
    assert phase.units(doubled=True) == 1 + 4
    assert phase.units(doubled=False) == 1 + 3


def test_the_price_adds_every_service_at_the_dated_prices():
    phase = Phase(10, Ledger(writes=[Written(None, registration("confirmed"), False)] * 10), Ledger())
    synchronous = Measured("x", "small", 1, phase, phase)
    expected = (
        2 * PRICES.dynamodb_write_per_million
        + PRICES.lambda_per_million_requests
        + 0.5 * 0.040 * 1_000_000 * PRICES.lambda_per_gb_second
        + PRICES.api_gateway_rest_per_million
    )
    assert synchronous.usd_per_million() == pytest.approx(expected)
    polled = Measured("y", "small", 10, phase, phase, queue_requests=1.2, worker_invocations=0.1, polls=3)
    assert polled.usd_per_million() > synchronous.usd_per_million() + 3 * PRICES.api_gateway_rest_per_million
    assert "2025" in PRICES.dated


FLAT = Pipeline(lambda batch: 1 + 2 * batch)


def test_a_batch_holds_what_arrives_in_one_cycle_between_one_and_ten():
    assert FLAT.batch(1) == 1
    assert FLAT.batch(100_000) == 10
    busy = FLAT.batch(50)
    assert 1 < busy < 10
    assert busy == pytest.approx(50 * FLAT.cycle_seconds(busy), rel=1e-3)


def test_a_client_polls_after_each_retry_after_until_decided():
    every_second = lambda _left: 1.0  # noqa: E731
    assert polls(0.1, every_second) == 1
    assert polls(1.0, every_second) == 1
    assert polls(2.5, every_second) == 3
    assert polls(2.5, lambda left: max(1.0, left)) == 1  # told the estimate: one poll


def test_in_a_rush_polls_follow_the_backlog_and_without_one_a_poll_or_so():
    every_second = lambda _left: 1.0  # noqa: E731
    quiet = Profile("quiet", 1, 100, 100)
    assert FLAT.mean_polls(quiet, every_second) == 1
    rush = Profile("rush", 5_000, 300_000, 100_000)
    expected = 300_000 / FLAT.rate() / 2  # the mean request waits for half the backlog
    assert FLAT.mean_polls(rush, every_second) == pytest.approx(expected, rel=0.05)


def test_the_protocols_retry_after_is_the_near_estimate_or_halfway_to_a_far_one():
    from bench.cost import protocol_retry_after

    assert [protocol_retry_after(s) for s in (0.2, 4.5, 29.0, 600.0)] == [1.0, 5.0, 29.0, 300.0]
    assert polls(600.0, protocol_retry_after) == 6  # ten minutes: at 300, 450, 525, 563, 593, 600 s
    assert polls(2700.0, protocol_retry_after) == 13  # 45 minutes (was 90, one every 30 s)
    assert polls(0.3, protocol_retry_after) == 1


def test_a_batch_read_is_charged_for_every_key_asked_found_or_not():
    from bench.cost import _read_units

    found = {"Responses": {"t": [{"PK": {"S": "x" * 5000}}]}}  # one item of two 4 KB units
    assert _read_units("BatchGetItem", found, asked=3) == 2 + 2
    assert _read_units("GetItem", {}) == 1, "a key not found is charged one unit"


def test_every_poll_but_the_last_reads_what_a_pending_request_reads():
    phase = Phase(10, Ledger(), Ledger(), polls=(3.0, 2.0))  # read units: pending, decided
    assert phase.poll_reads(0) == 0
    assert phase.poll_reads(1) == 2.0
    assert phase.poll_reads(8) == 7 * 3.0 + 2.0
    unpolled = Measured(
        "x", "small", 10, Phase(10, Ledger(), Ledger()), Phase(10, Ledger(), Ledger()), polls=8
    )
    polled = Measured("x", "small", 10, phase, phase, polls=8)
    extra = polled.usd_per_million() - unpolled.usd_per_million()
    assert extra == pytest.approx((7 * 3.0 + 2.0) * PRICES.dynamodb_read_per_million)
