"""Benchmarks: `python -m bench` runs every module here that defines main(argv); `python -m bench.NAME` runs one.

Each writes its figures to bench/results/NAME.md and prints a summary. They measure; they are not timed tests.
"""
