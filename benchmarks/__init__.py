"""Benchmarks: `python -m benchmarks` (make bench) runs them all; each module also runs
alone as `python -m benchmarks.bench_<name> [--quick]`."""
