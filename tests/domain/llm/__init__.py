"""Tests of the optional OpenAI-compatible backend, against a real local HTTP server."""
