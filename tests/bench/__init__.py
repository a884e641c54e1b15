"""Benchmarks (`make bench`): not tests. They measure and write docs/benchmarks.md."""
