"""Kafka plumbing shared by the worker, the API and the CLI: topic administration and reading."""
