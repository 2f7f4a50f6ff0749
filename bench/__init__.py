"""Benchmarks of issue 7: `make bench` runs them all; how to run them and the figures are in bench/RESULTS.md."""
