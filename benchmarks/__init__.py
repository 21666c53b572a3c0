"""Benchmark suite for newsctl and its peers; run with ``python -m benchmarks``."""
