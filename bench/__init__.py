"""Benchmarks: each module measures and prints numbers; none asserts on time."""
