"""`make bench`: run every benchmark in turn (each starts what it needs and prints its numbers)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("bench.worker", "bench.cost", "bench.e2e", "bench.import_rows", "bench.recovery")


def main(names: list[str]) -> int:
    for name in names or BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(name).main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
