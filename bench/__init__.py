"""Benchmarks of issue 7: `make bench` runs them all (see bench/README section in RESULTS.md)."""
