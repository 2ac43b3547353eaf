"""Per-stage settings, chosen with CDK context: `cdk synth -c stage=prod`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageOptions:
    name: str
    # Event source mappings: at most this many concurrent worker invocations per queue (2-1000).
    max_concurrency: int = 2
    # High-throughput FIFO on registrations.fifo: dedup per message group, quota per group.
    high_throughput_fifo: bool = False
    # Keep the table, bucket and logs when the stack is deleted (and protect the table).
    retain_data: bool = False
    log_retention_days: int = 14
    # Bulk-import payloads are deleted this long after upload.
    import_retention_days: int = 7
    api_memory_mb: int = 512
    worker_memory_mb: int = 512
    # API Gateway stage throttling (every method): steady requests per second, and the burst.
    throttle_rate: float = 50.0
    throttle_burst: int = 100
    # WAF rate-based rules in front of the API: requests a minute one bearer token may make, and
    # one IP without a token. Past either, WAF answers 429 for the rest of the window.
    requests_per_caller_minute: int = 300
    requests_per_anonymous_ip_minute: int = 300
    # Concurrent executions reserved for the API function: the most it may run at once (so a
    # flood of waiting requests cannot take every Lambda of the account), and always available.
    api_reserved_concurrency: int = 20

    @property
    def prefix(self) -> str:
        return f"turnstile-{self.name}"


STAGES = {
    "dev": StageOptions(name="dev"),
    "prod": StageOptions(
        name="prod",
        max_concurrency=20,
        high_throughput_fifo=True,
        retain_data=True,
        log_retention_days=90,
        import_retention_days=30,
        worker_memory_mb=1024,
        throttle_rate=500.0,
        throttle_burst=1000,
        requests_per_caller_minute=600,
        requests_per_anonymous_ip_minute=1200,
        api_reserved_concurrency=300,
    ),
}


def stage_options(name: str | None) -> StageOptions:
    name = name or "dev"
    if name not in STAGES:
        raise SystemExit(f"unknown stage {name!r}: choose one of {', '.join(STAGES)} (-c stage=NAME)")
    return STAGES[name]
