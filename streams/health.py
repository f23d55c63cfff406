"""``GET /health/`` on the worker: is it assigned partitions and done recovering?

Tests, ``feynman dev`` and container healthchecks wait on it instead of
guessing from log lines. Lag and commit-progress checks extend it (issue 4).
"""

from __future__ import annotations

import faust
from faust.web import Request, Response, View


def install(app: faust.App) -> None:
    @app.page("/health/")
    async def health(web: View, request: Request) -> Response:
        assigned = len(app.consumer.assignment())
        ready = assigned > 0 and not app.rebalancing and not app.in_recovery
        body = {
            "status": "ok" if ready else "starting",
            "assigned_partitions": assigned,
            "rebalancing": bool(app.rebalancing),
            "recovering": bool(app.in_recovery),
        }
        return web.json(body, status=200 if ready else 503)
