"""The cost model of `bench/cost.py`: item sizes and write units by DynamoDB's published rules."""

from __future__ import annotations

from bench.cost import PRICES, Ledger, Measured, Written, item_size


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


def test_a_transactional_put_into_one_index_costs_four_units():
    assert Written(None, registration("confirmed"), transactional=True).write_units() == 4
    assert Written(None, registration("confirmed"), transactional=False).write_units() == 2


def test_an_index_key_that_changes_is_a_delete_and_a_put():
    moved = Written(registration("waitlisted"), registration("confirmed"), transactional=False)
    assert moved.write_units() == 1 + 2


def test_a_cancelled_write_is_still_charged_but_touches_no_index():
    unchanged = Written(registration("confirmed"), registration("confirmed"), transactional=True)
    assert unchanged.write_units() == 2


def test_items_are_charged_per_started_kilobyte_of_the_larger_image():
    big = registration("confirmed", blob="x" * 1500)
    assert Written(registration("confirmed"), big, transactional=False).write_units() == 2 + 2


def test_the_monthly_price_adds_every_service_at_the_dated_prices():
    ledger = Ledger(writes=[Written(None, registration("confirmed"), True)] * 10)
    measured = Measured("x", 10, ledger, 1.2, 0.1, 1)
    price = measured.monthly_price()
    assert price["DynamoDB"] == 4 * PRICES.dynamodb_write_per_million
    assert price["SQS FIFO"] == 1.2 * PRICES.sqs_fifo_per_million
    assert price["API Gateway"] == 2 * PRICES.api_gateway_rest_per_million
    assert "2025" in PRICES.dated
