"""Benchmarks, run by hand: a synthetic month, a DuckDB reference and a runner printing ratios."""
