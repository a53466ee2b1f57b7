"""Bedside benchmarks, run by `make bench` (`python -m bench`); they report, they never gate CI."""
