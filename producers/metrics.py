"""Prometheus metrics of the API, on a registry of its own per app.

One registry per app (not the process-global one) so several apps in one
process, as in the tests, never collide.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "feynman_api_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "feynman_api_request_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.published = Counter(
            "feynman_events_published_total",
            "Events Kafka acknowledged, by type",
            ["type"],
            registry=self.registry,
        )
        self.publish_failures = Counter(
            "feynman_publish_failures_total", "Publishes Kafka did not acknowledge", registry=self.registry
        )
        self.questions = Counter(
            "feynman_tutor_questions_total",
            "Tutor replies by source (local or llm)",
            ["source"],
            registry=self.registry,
        )
        self.worker_ready = Gauge(
            "feynman_api_worker_ready",
            "1 when the last /readyz found a worker answering healthy, 0 otherwise (or before any check)",
            registry=self.registry,
        )


class MetricsMiddleware:
    """Counts and times every request by its route template (not its raw path)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
