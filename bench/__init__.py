"""Benchmarks: rescoring at scale, HTTP throughput against a floor, SQL queries per request.

Each runs from the repository root with the project's Python, e.g. ``.venv/bin/python -m
bench.rescore``; see bench/README.md.
"""
