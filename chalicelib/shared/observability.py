"""Logs, metrics and traces (AWS Lambda Powertools) for the API and every worker, in one place.

- Logger: JSON lines; the API sets the API Gateway requestId as correlation id (`http_middleware`),
  workers the Lambda request id (`lambda_handler`).
- Metrics: CloudWatch embedded-metric-format lines in the `Turnstile` namespace (or
  `POWERTOOLS_METRICS_NAMESPACE`). Record with the small functions below; they are flushed once per
  invocation by `http_middleware` / `lambda_handler`. `POWERTOOLS_METRICS_DISABLED=true` (or
  `POWERTOOLS_DEV=true`) silences them locally.
- Tracer: X-Ray, off where `POWERTOOLS_TRACE_DISABLED=true` (the local stack sets it). It needs the
  `aws-xray-sdk` package; without it `tracer` is None and nothing is traced.

The metric names are a contract with the CloudWatch dashboards and alarms: change them together.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Turnstile"

# Counts of decided requests, by outcome kind (chalicelib.registrations.domain.Outcome.kind).
OUTCOME_METRICS = {
    "confirmed": "RegistrationsConfirmed",
    "waitlisted": "RegistrationsWaitlisted",
    "rejected": "RegistrationsRejected",
}
PROMOTED = "RegistrationsPromoted"  # waitlisted users given a freed seat
DECISION_LATENCY = "DecisionLatency"  # ms to decide and commit one event's group of commands
WEBHOOK_DELIVERIES = "WebhookDeliveries"  # successful deliveries (2xx)
WEBHOOK_FAILURES = "WebhookDeliveryFailures"  # failed attempts (timeouts, non-2xx)
WEBHOOK_LATENCY = "WebhookDeliveryLatency"  # ms per delivery attempt

metrics = Metrics(namespace=NAMESPACE)


def _tracer() -> Any:
    try:
        import aws_xray_sdk  # noqa: F401  (Powertools' Tracer needs it, even when disabled)
    except ImportError:
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


tracer = _tracer()

_loggers: dict[str, Logger] = {}


def logger(service: str | None = None) -> Logger:
    """The JSON logger of `service` (default: POWERTOOLS_SERVICE_NAME), one per process."""
    name = service or os.environ.get("POWERTOOLS_SERVICE_NAME") or "turnstile"
    if name not in _loggers:
        _loggers[name] = Logger(service=name)
    return _loggers[name]


# --- metrics ------------------------------------------------------------------------------


def record_outcomes(outcomes: Iterable[Any]) -> None:
    """Count decided outcomes (objects with `.kind` and `.promoted_user_ids`, or plain kinds)."""
    counts = dict.fromkeys(OUTCOME_METRICS, 0)
    promoted = 0
    for outcome in outcomes:
        kind = outcome if isinstance(outcome, str) else outcome.kind
        if kind in counts:
            counts[kind] += 1
        promoted += len(getattr(outcome, "promoted_user_ids", ()) or ())
    for kind, count in counts.items():
        if count:
            metrics.add_metric(name=OUTCOME_METRICS[kind], unit=MetricUnit.Count, value=count)
    record_promotions(promoted)


def record_promotions(count: int) -> None:
    if count:
        metrics.add_metric(name=PROMOTED, unit=MetricUnit.Count, value=count)


def record_decision_latency(latency_ms: float) -> None:
    metrics.add_metric(name=DECISION_LATENCY, unit=MetricUnit.Milliseconds, value=latency_ms)


def record_delivery(success: bool, latency_ms: float | None = None) -> None:
    """One webhook delivery attempt: counted as a delivery or a failure, with its latency."""
    name = WEBHOOK_DELIVERIES if success else WEBHOOK_FAILURES
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    if latency_ms is not None:
        metrics.add_metric(name=WEBHOOK_LATENCY, unit=MetricUnit.Milliseconds, value=latency_ms)


class Stopwatch:
    """`with Stopwatch() as watch: ...` then `watch.ms`."""

    def __enter__(self) -> Stopwatch:
        self._started = time.perf_counter()
        self.ms = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.ms = (time.perf_counter() - self._started) * 1000


def flush_metrics() -> None:
    """Write the recorded metrics (one EMF line) and start afresh; nothing when none were recorded.

    Always cleared: with metrics disabled Powertools' flush keeps them, and once a metric holds
    100 values Powertools prints them regardless (so a disabled process would still print)."""
    if metrics.metric_set:
        metrics.flush_metrics()
    metrics.clear_metrics()


# --- wiring -------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


def lambda_handler(log: Logger) -> Callable[[F], F]:
    """Decorate a worker handler: correlation id = Lambda request id; metrics flushed per invocation."""

    def decorate(handler: F) -> F:
        @functools.wraps(handler)
        def observed(event: Any, context: Any) -> Any:
            log.set_correlation_id(getattr(context, "aws_request_id", None))
            try:
                return handler(event, context)
            finally:
                flush_metrics()

        return observed  # type: ignore[return-value]

    return decorate


def http_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice HTTP middleware: the API Gateway requestId as correlation id; metrics flushed."""
    context = getattr(event, "context", None) or {}
    lambda_context = getattr(event, "lambda_context", None)
    request_id = context.get("requestId") or getattr(lambda_context, "aws_request_id", None)
    logger().set_correlation_id(request_id)
    try:
        return get_response(event)
    finally:
        flush_metrics()
