"""Benchmarks: timing harnesses, run provenance (commit, hardware) and result files."""
