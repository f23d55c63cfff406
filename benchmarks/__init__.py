"""Benchmarks that print figures (run with ``python -m benchmarks.<name>``); none of them pass or fail."""
