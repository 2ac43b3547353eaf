"""`make bench`: run every benchmark in turn (each starts what it needs and prints its numbers),
then one summary table of every headline figure with its ratio to the baseline, and the time.

The services' JSON logs are kept out of the output (POWERTOOLS_LOG_LEVEL=WARNING, set before any
of them is imported); `python -m bench bench.cost` runs one benchmark.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

BENCHMARKS = (
    "bench.worker",
    "bench.cost",
    "bench.scale",
    "bench.local_queue",
    "bench.e2e",
    "bench.import_rows",
    "bench.recovery",
)


def main(names: list[str]) -> int:
    from bench.common import table

    started = time.perf_counter()
    summary: list[tuple[str, str, str]] = [("figure", "turnstile (vs baseline)", "ratio to the baseline")]
    for name in names or BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        summary += importlib.import_module(name).main() or []
    print("\n=== summary ===")
    print(table(summary))
    print(f"total time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
