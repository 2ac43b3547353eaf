"""Metrics are flushed once per invocation, and silenced where POWERTOOLS_METRICS_DISABLED says."""

from __future__ import annotations

import json

from chalicelib.shared import observability


def test_disabled_metrics_print_nothing_however_many_invocations(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    for _ in range(150):  # Powertools prints on its own at 100 values of one metric
        observability.metrics.add_metric(name="Probe", unit="Count", value=1)
        observability.flush_metrics()
    assert capsys.readouterr().out == ""


def test_enabled_metrics_print_one_line_per_invocation(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    for _ in range(3):
        observability.metrics.add_metric(name="Probe", unit="Count", value=1)
        observability.flush_metrics()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["Probe"] == [1.0]
