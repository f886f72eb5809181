"""Benchmarks on the bench (figures, not tests): ``python -m bench.benchmarks.<name>``."""
