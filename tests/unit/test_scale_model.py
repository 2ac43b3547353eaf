"""The scale model of `bench/scale.py`: its distributions, its partition accounting, and the
mechanics that bind each design (no emulator: the measured call pattern is given here)."""

from __future__ import annotations

import random
import statistics

import pytest

from bench.cost import Written
from bench.scale import (
    CAPS,
    Conditions,
    Latency,
    Pattern,
    partition_units,
    seed,
    synchronous,
    turnstile,
)


def test_a_latency_is_lognormal_through_its_p50_and_p99_and_runs_at_its_mean():
    latency = Latency(10.0, 30.0, "test")
    rng = random.Random(1)
    samples = sorted(latency.sample(rng) for _ in range(40_000))
    assert samples[len(samples) // 2] == pytest.approx(10.0, rel=0.03)
    assert samples[int(len(samples) * 0.99)] == pytest.approx(30.0, rel=0.08)
    assert statistics.fmean(samples) == pytest.approx(latency.mean_ms, rel=0.03)
    assert latency.mean_ms > latency.p50_ms  # a serial pipeline pays the tail too


def _registration(event: str, user: str, status: str) -> dict:
    return {
        "PK": {"S": f"EVENT#{event}"},
        "SK": {"S": f"REG#{user}"},
        "status": {"S": status},
        "GSI1PK": {"S": f"USER#{user}#{status}"},
        "GSI1SK": {"S": event},
        "GSI2PK": {"S": f"EVENTREG#{event}#confirmed"},
        "GSI2SK": {"S": user},
    }


def test_an_events_registrations_add_up_on_its_partitions_and_each_users_stays_apart():
    writes = [Written(None, _registration("e1", f"u{i}", "confirmed"), transactional=True) for i in range(3)]
    doubled = partition_units(writes, doubled=True)
    assert doubled["table EVENT#{event}"] == 3 * 2
    assert doubled["GSI2 EVENTREG#{event}#confirmed"] == 3 * 2
    users = [p for p in doubled if p.startswith("GSI1")]
    assert len(users) == 3 and all(doubled[p] == 2 for p in users)
    assert partition_units(writes, doubled=False)["GSI2 EVENTREG#{event}#confirmed"] == 3


PATTERN = Pattern(
    calls={"BatchGetItem": 1.0, "TransactWriteItems": 1.0},
    transaction_items=21.0,
    decisions_per_batch=10.0,
    hot_units={"table EVENT#{event}": (2.7, 3.2), "GSI2 EVENTREG#{event}#confirmed": (0.5, 1.0)},
    read_units=0.2,
)


def test_one_group_is_bound_by_its_pipeline_and_slows_when_its_overheads_double():
    rng = random.Random(3)
    built = turnstile(PATTERN, 1, Conditions(), rng)
    slower = turnstile(PATTERN, 1, Conditions(overheads=2.0), rng)
    assert built.binds.startswith("the FIFO pipeline")
    assert 60 < built.decisions_per_second < 200
    assert slower.decisions_per_second < 0.8 * built.decisions_per_second


def test_shards_multiply_the_pipeline_until_a_partition_the_event_shares_binds():
    rng = random.Random(3)
    four, many = turnstile(PATTERN, 4, Conditions(), rng), turnstile(PATTERN, 32, Conditions(), rng)
    assert four.binds.startswith("the FIFO pipeline") and four.skew_ms > 0
    assert many.binds.startswith("GSI2 EVENTREG")  # one confirmed list an event: not sharded
    assert many.decisions_per_second == pytest.approx(CAPS.partition_write_units / 1.0)


def test_the_best_synchronous_design_grows_with_writers_up_to_its_counters_partition():
    rng = random.Random(5)
    one, many = synchronous(1, Conditions(), rng), synchronous(64, Conditions(), rng)
    assert one.binds.startswith("1 writer")
    assert many.binds.startswith("the counter item's partition")
    assert many.decisions_per_second == pytest.approx(CAPS.partition_write_units / (1 / 3 + 2 * 2 / 3))


def test_the_seeds_transactions_conflict_more_as_writers_grow_and_never_go_faster():
    rng = random.Random(9)
    alone, crowded = seed(1, Conditions(), rng, requests=400), seed(16, Conditions(), rng, requests=400)
    assert alone.conflicts == 0 and alone.gave_up == 0
    assert crowded.conflicts > 0.5
    assert crowded.decisions_per_second < 1.3 * alone.decisions_per_second
