"""The local stack's command line and its schedules."""

from __future__ import annotations

import time
from pathlib import Path

from devstack.__main__ import parse_args
from devstack.emulators import ROOT
from devstack.runner import ScheduleRunner
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
